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

from rag.chain import Answerer, ChainConfig  # noqa: E402

pytestmark = pytest.mark.slow
QUESTION = "莱阳市物业费收缴率提升到多少？"


@pytest.fixture(scope="session")
def gguf():
    from rag.local_model import assemble

    try:
        return assemble()
    except Exception as exc:  # a part package missing: say which, do not hide it
        pytest.fail(f"cannot assemble the local model: {exc}")


def _config(**kw) -> ChainConfig:
    return ChainConfig(compact_context=True, context_paragraphs=4, **kw)


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
