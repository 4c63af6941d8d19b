"""The generating backends for real: llama.cpp in-process with the GGUF model assembled from PyPI,
and the OpenAI-compatible client against llama.cpp's own server on 127.0.0.1 serving the same file.

Slow (a 1.5B model on two CPU cores): a few questions only."""
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

llama_cpp = pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install -e '.[llm]')")

from rag.answer.chain import Answerer, ChainConfig  # noqa: E402
from rag.answer.context import LOCAL_CONTEXT_TOKENS, build_context, context_numbers  # noqa: E402
from rag.llm import chat_prompt_ids, load_prompt, local_chat_model, physical_cores, token_counter  # noqa: E402
from rag.answer.question import analyse  # noqa: E402
from rag.validate import clean_question  # noqa: E402

pytestmark = pytest.mark.slow
QUESTION = "莱阳市物业费收缴率提升到多少？"


@pytest.fixture(scope="session")
def gguf():
    from rag.local_model import assemble

    try:
        return assemble()
    except Exception as exc:  # a part package missing: say which, do not hide it
        pytest.fail(f"cannot assemble the local model: {exc}")


def _config(**kw) -> ChainConfig:  # as `rag ask --backend local` sets it up
    return ChainConfig(compact_context=True, context_paragraphs=4, context_tokens=LOCAL_CONTEXT_TOKENS, **kw)


def test_local_backend_answers_with_verified_citations(real_index, gguf):
    answerer = Answerer(real_index, _config(backend="local", local_model_path=str(gguf)))
    events = list(answerer.stream(QUESTION))
    tokens = [e for e in events if e["type"] == "token"]
    result = events[-1]["result"]
    assert len(tokens) > 1, "the local model should stream tokens"
    assert result.backend == "local", result.notes
    assert "93%" in result.answer and result.citations
    assert result.citations[0].place == "莱阳市"
    assert all(s.verdict in ("supported", "recited", "no_claim") for s in result.sentences if s.text)
    assert result.timings_ms["first_token"] > 0
    print(f"local: first token {result.timings_ms['first_token']:.0f} ms, total {result.timings_ms['total']:.0f} ms")


def test_local_backend_refusal_is_decided_on_evidence(real_index, gguf):
    r = Answerer(real_index, _config(backend="local", local_model_path=str(gguf))).ask("北京市是怎么推行信托制物业的？")
    assert r.refused and "北京市" in r.answer
    assert "generate" in r.timings_ms and r.timings_ms["generate"] < 50  # no model call at all


def test_local_backend_can_search_with_the_reports_own_words(real_index, gguf):
    plain = Answerer(real_index, _config(backend="local", local_model_path=str(gguf))).ask(QUESTION)
    answerer = Answerer(real_index, _config(backend="local", local_model_path=str(gguf), rewrite_query=True))
    result = answerer.ask(QUESTION)
    [note] = [n for n in result.notes if n.startswith("检索时加上了模型给出的书面说法：")]
    assert len(note) > len("检索时加上了模型给出的书面说法：")
    assert not any("检索时" in n for n in plain.notes)
    assert not result.refused and any(c.place == "莱阳市" for c in result.citations)
    assert all(s.verdict in ("supported", "recited", "no_claim") for s in result.sentences if s.text)


def test_the_query_is_rewritten_only_for_a_generating_backend(real_index):
    answerer = Answerer(real_index, ChainConfig(backend="extractive", rewrite_query=True))
    notes: list[str] = []
    assert answerer._searched_for(QUESTION, notes) == QUESTION and notes == []


def _common_prefix(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def _prompt_ids(answerer, model, question):
    """The prompt the chain gives llama.cpp for `question`, rebuilt from the same public steps."""
    cfg = answerer.config
    question = clean_question(question, cfg.max_question_chars)
    q = analyse(question, answerer.known_places)
    k = cfg.k_places if q.wants_places else cfg.k_compare if (len(q.places) >= 2 or q.per_article) else cfg.k
    docs = answerer.index.retriever(k=k).search(question)
    evidence = answerer.weigh(q, docs, question)
    context = build_context(docs, context_numbers(q, evidence, cfg.context_paragraphs), evidence, True,
                            cfg.context_tokens, token_counter(model), q)
    prompt = load_prompt("answer_places" if q.wants_places else "answer")
    return chat_prompt_ids(model, prompt.format_messages(context=context, question=question))


def _first_token(answerer, question):
    events = answerer.stream(question)
    for event in events:
        if event["type"] == "token":
            break
    else:
        pytest.fail(f"no token for {question}")
    events.close()


def test_local_model_keeps_the_system_prompt_cached_across_questions(real_index, gguf):
    """llama.cpp reuses the KV cache of the longest token prefix a prompt shares with the previous
    call. The warm-up at load reads the shared system message, so every question, the first one
    included and whichever prompt it uses, reads only its own context and question."""
    model = local_chat_model(str(gguf))
    client = model.client
    assert client.n_ctx() == 2048 and client.context_params.n_threads == physical_cores()
    assert client.context_params.n_threads_batch == physical_cores()
    system = load_prompt("answer").messages[0].prompt.template
    shared = _common_prefix(chat_prompt_ids(model, load_prompt("answer").format_messages(context="【甲", question="乙")),
                            chat_prompt_ids(model, load_prompt("answer_places").format_messages(context="【丙", question="丁")))
    assert shared > len(client.tokenize(system.encode("utf-8"), add_bos=False, special=False))

    answerer = Answerer(real_index, _config(backend="local", local_model_path=str(gguf)))
    previous = list(client._input_ids)  # the warm-up's tokens, or the previous test's question
    assert previous, "the model should have read the system prompt at load"
    for question in ("莱阳市推行信托制物业后，物业费收缴率提升到了多少？", "哪些地方用信托制物业？",
                     "辽阳市和殷都区培训社区干部的规模有什么不同？"):
        ids = _prompt_ids(answerer, model, question)
        reused = _common_prefix(previous, ids)
        assert reused >= shared, (question, reused, shared)
        assert len(ids) - reused <= LOCAL_CONTEXT_TOKENS + 70, (question, len(ids) - reused)
        _first_token(answerer, question)
        assert list(client._input_ids[:len(ids)]) == ids, "llama.cpp read another prompt than the one rebuilt here"
        previous = list(client._input_ids)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(gguf, tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    # the server's log goes to a file: llama.cpp writes a lot while loading, and an unread pipe
    # would fill up and stall it
    with open(log, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1", "--port",
             str(port), "--n_ctx", "4096", "--model_alias", "qwen-local"],
            stdout=sink, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(1)
    else:
        proc.kill()
        pytest.fail(f"llama_cpp.server did not become ready in 300 s: {log.read_text(errors='replace')[-2000:]}")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_openai_compatible_backend_against_llama_cpp_server(real_index, llama_server):
    answerer = Answerer(real_index, _config(backend="openai", llm_url=llama_server, llm_model="qwen-local",
                                            llm_timeout=180))
    events = list(answerer.stream(QUESTION))
    result = events[-1]["result"]
    assert sum(e["type"] == "token" for e in events) > 1, "the endpoint should stream"
    assert result.backend == "openai", result.notes
    assert "93%" in result.answer and result.citations[0].place == "莱阳市"
