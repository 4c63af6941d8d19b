"""The Answerer as a LangChain Runnable: `invoke`, `batch`, `stream` (and their async forms).

    answerer.invoke("哪些地方用信托制物业?")                      # -> AnswerResult
    answerer.invoke({"question": "那里的收缴率呢？", "history": [("莱阳市怎么管物业？", "…")]})
    answerer.batch(["问题一", "问题二"])                          # -> [AnswerResult, …]
    for event in answerer.stream("哪些地方用信托制物业?"): …     # status / token events, then the result

`stream` yields the chain's events: {"type": "status", "text"}, {"type": "token", "text"} and
last {"type": "result", "result": AnswerResult}. Every backend streams: when the chain gives no
tokens (the extractive answer, a refusal), its final text is streamed line by line before the
result, so every surface (CLI, web UI, HTTP server) shows answers the same way.

The local llama.cpp model is not thread-safe: answers with the local backend take one process-wide
lock, so concurrent callers (the HTTP server, the UI, `batch`) wait their turn instead of
corrupting its state. The mixin leaves the answer logic alone: the class's own `stream(question,
history)` stays its event source (as `events`), and `stream` also accepts Runnable arguments.
"""
from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any, Union

from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.runnables.config import ensure_config, get_callback_manager_for_config, run_in_executor

from .schema import AnswerResult

AnswerInput = Union[str, dict]
_MODEL_LOCKS = {"local": threading.Lock()}  # backends whose model must not run twice at once


@contextmanager
def model_lock(backend: str):
    """Held while a backend whose model is not thread-safe answers (a no-op for the others)."""
    lock = _MODEL_LOCKS.get((backend or "").split("→")[0])
    with lock if lock is not None else nullcontext():
        yield


def as_turns(history: Any) -> list:
    """History as chain Turns, from Turns, (question, answer) pairs or {"question", "answer"} dicts."""
    from .answer.chain import Turn

    turns = []
    for item in history or []:
        if isinstance(item, Turn):
            turns.append(item)
        elif isinstance(item, dict):
            turns.append(Turn(question=str(item.get("question", "")), answer=str(item.get("answer", ""))))
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            turns.append(Turn(question=str(item[0]), answer=str(item[1] or "")))
        else:
            raise TypeError(f"history items are Turns, (question, answer) pairs or dicts, not {type(item).__name__}")
    return turns


def parse_input(value: AnswerInput, history: Any = None) -> tuple[str, list]:
    if isinstance(value, dict):
        if "question" not in value:
            raise TypeError('an Answerer input dict needs a "question" (and optionally a "history")')
        return str(value["question"]), as_turns(value.get("history", history))
    if isinstance(value, str):
        return value, as_turns(history)
    raise TypeError(f"an Answerer takes a question (str) or {{'question': …, 'history': …}}, not {type(value).__name__}")


def stream_lines(events: Iterator[dict]) -> Iterator[dict]:
    """The events, with the final answer streamed line by line when no tokens came before it."""
    streamed = False
    for event in events:
        if event.get("type") == "token":
            streamed = True
        elif event.get("type") == "result" and not streamed and event.get("result") is not None:
            for line in event["result"].answer.splitlines(keepends=True):
                yield {"type": "token", "text": line, "final": True}
        yield event


class RunnableAnswerer(Runnable[AnswerInput, AnswerResult]):
    """Mixin: makes an answerer with `stream(question, history)` events a LangChain Runnable."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("stream")
        if own is not None and own is not RunnableAnswerer.stream:
            cls.events = own  # the chain's own event stream
            cls.stream = RunnableAnswerer.stream

    @property
    def InputType(self) -> type:  # noqa: N802 - LangChain's name
        return AnswerInput

    @property
    def OutputType(self) -> type:  # noqa: N802
        return AnswerResult

    def _backend(self) -> str:
        return getattr(getattr(self, "config", None), "backend", "")

    def _events(self, question: str, history: list) -> Iterator[dict]:
        with model_lock(self._backend()):
            yield from stream_lines(self.events(question, history))

    def stream(self, input: AnswerInput, config: RunnableConfig | Sequence | None = None,
               **kwargs: Any) -> Iterator[dict]:
        # stream(question, history) as the chain's own callers use it; stream(input, config) as LangChain does
        history = kwargs.pop("history", None)
        if config is not None and not isinstance(config, dict):
            history, config = config, None
        question, turns = parse_input(input, history)
        config = ensure_config(config)
        run = get_callback_manager_for_config(config).on_chain_start(
            None, {"input": question}, name=config.get("run_name") or self.get_name(), run_id=config.pop("run_id", None))
        result = None
        try:
            for event in self._events(question, turns):
                if event.get("type") == "result":
                    result = event["result"]
                yield event
        except BaseException as exc:
            run.on_chain_error(exc)
            raise
        run.on_chain_end({"output": result.contract() if result is not None else None})

    def invoke(self, input: AnswerInput, config: RunnableConfig | None = None, **kwargs: Any) -> AnswerResult:
        question, turns = parse_input(input, kwargs.pop("history", None))

        def answer(_: Any) -> AnswerResult:
            result = None
            for event in self._events(question, turns):
                if event.get("type") == "result":
                    result = event["result"]
            return result

        return self._call_with_config(answer, input, config)

    async def astream(self, input: AnswerInput, config: RunnableConfig | None = None,
                      **kwargs: Any) -> AsyncIterator[dict]:
        """The same events as `stream`, each computed in a worker thread."""
        events = self.stream(input, config, **kwargs)
        done = object()
        try:
            while (event := await run_in_executor(config, next, events, done)) is not done:
                yield event
        finally:
            events.close()
