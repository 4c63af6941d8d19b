"""A FAISS vector store behind LangChain's `VectorStore` interface, saved without pickles.

LangChain's own FAISS store pickles its docstore, and loading a pickle can execute code. Here the
vectors go to a FAISS file and the documents to JSON Lines, so loading an index never runs code
from it. Another engine (a server-side vector database) can replace this class for corpora that
outgrow one machine: the rest of the system only uses the `VectorStore` methods.

A store built in memory holds its Documents in a list. A store opened from an index
(`FaissStore.opened`) holds a `ChunkTable` instead: the texts stay in docs.sqlite and are read
by row when a result needs them, and the FAISS file is memory-mapped (rag/vectorindex.py).
"""
from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from . import vectorindex
from .chunktable import ChunkKey, ChunkTable, RowsById
from .errors import IndexUnusableError
from .vectorindex import faiss

VECTORS_FILE = "vectors.faiss"
DOCS_FILE = "chunks.jsonl"
Filter = Callable[[dict], bool] | dict[str, Any] | None


class FaissStore(VectorStore):
    def __init__(self, embeddings: Embeddings, dim: int) -> None:
        self._embeddings = embeddings
        self.dim = dim
        self.index = faiss.IndexFlatIP(dim)
        self.docs: list[Document] | ChunkTable = []  # row i of the index is docs[i]
        self._row_of: dict[str, int] | RowsById = {}

    @classmethod
    def opened(cls, index, embeddings: Embeddings, table: ChunkTable) -> FaissStore:
        """A read-only store over an index's FAISS file and its chunk table."""
        if index.ntotal != len(table):
            raise IndexUnusableError(f"索引损坏：向量 {index.ntotal} 条，分块 {len(table)} 条，两者不一致。"
                                     "请运行 rag check 修复，或重建索引：rag ingest --rebuild")
        store = cls(embeddings, index.d)
        store.index, store.docs, store._row_of = index, table, RowsById(table)
        return store

    @property
    def read_only(self) -> bool:
        return isinstance(self.docs, ChunkTable)

    def chunks(self, rows: list[int]) -> dict[int, Document]:
        """row → Document for these rows (rows of removed documents are absent)."""
        if self.read_only:
            return self.docs.rows(rows)
        return {int(r): self.docs[r] for r in rows}

    def chunk_keys(self, rows: list[int]) -> dict[int, ChunkKey]:
        """row → (id, paragraph_id, doc, article): what ranking needs, without the texts."""
        if self.read_only:
            return self.docs.keys(rows)
        out = {}
        for r in rows:
            d = self.docs[r]
            out[int(r)] = ChunkKey(d.id, d.metadata.get("paragraph_id", d.id), d.metadata.get("doc", ""),
                                   d.metadata.get("article", 0))
        return out

    def mask(self, place: str | None = None, doc: str | None = None) -> np.ndarray | None:
        """Rows of `doc` and `place` (contained in the place's name or its whole chain); None: all."""
        if self.read_only:
            return self.docs.mask(place, doc)
        if not place and not doc:
            return None
        mask = np.ones(len(self.docs), dtype=bool)
        for row, d in enumerate(self.docs):
            meta = d.metadata
            if doc and meta.get("doc") != doc:
                mask[row] = False
            elif place and place not in meta.get("place_full", "") and place not in meta.get("place", ""):
                mask[row] = False
        return mask

    @property
    def embeddings(self) -> Embeddings:
        return self._embeddings

    def __len__(self) -> int:
        return len(self.docs)

    # --- writing ---------------------------------------------------------------------------
    def add_texts(self, texts: Iterable[str], metadatas: list[dict] | None = None, *,
                  ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        texts = list(texts)
        vectors = _embed_documents(self._embeddings, texts)
        return self.add_vectors(vectors, texts, metadatas, ids=ids)

    def add_vectors(self, vectors: np.ndarray, texts: list[str], metadatas: list[dict] | None = None, *,
                    ids: list[str] | None = None) -> list[str]:
        if self.read_only:
            raise TypeError("a store opened from an index is read-only: add through CaseIndex.ingest")
        metadatas = metadatas or [{} for _ in texts]
        ids = ids or [str(uuid.uuid4()) for _ in texts]
        if not (len(vectors) == len(texts) == len(metadatas) == len(ids)):
            raise ValueError(f"lengths differ: {len(vectors)} vectors, {len(texts)} texts, "
                             f"{len(metadatas)} metadatas, {len(ids)} ids")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate ids in one call")
        duplicate = [i for i in ids if i in self._row_of]
        if duplicate:
            raise ValueError(f"ids already in the store: {duplicate[:3]}")
        self.index.add(vectors)
        for doc_id, text, meta in zip(ids, texts, metadatas):
            self._row_of[doc_id] = len(self.docs)
            self.docs.append(Document(id=doc_id, page_content=text, metadata=dict(meta)))
        return ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        if not ids:
            return False
        if self.read_only:
            raise TypeError("a store opened from an index is read-only: remove through CaseIndex.remove")
        drop = {self._row_of[i] for i in ids if i in self._row_of}
        if not drop:
            return False
        keep = [r for r in range(len(self.docs)) if r not in drop]
        vectors = self.vectors()[keep] if keep else np.zeros((0, self.dim), dtype=np.float32)
        docs = [self.docs[r] for r in keep]
        self.index = faiss.IndexFlatIP(self.dim)
        self.docs, self._row_of = [], {}
        if docs:
            self.index.add(vectors)
            self.docs = docs
            self._row_of = {d.id: r for r, d in enumerate(docs)}
        return True

    def vectors(self) -> np.ndarray:
        if not len(self.docs):
            return np.zeros((0, self.dim), dtype=np.float32)
        return vectorindex.vectors(self.index)

    def vector_of(self, chunk_id: str) -> np.ndarray | None:
        """A stored chunk's vector (the answer side compares the question with its paragraph)."""
        row = self._row_of.get(chunk_id) if chunk_id else None
        return None if row is None else self.index.reconstruct(int(row))

    def get_by_ids(self, ids: list[str], /) -> list[Document]:
        rows = [self._row_of.get(i) for i in ids]
        found = self.chunks([r for r in rows if r is not None])
        return [found[r] for r in rows if r is not None and r in found]

    # --- searching -------------------------------------------------------------------------
    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    def similarity_search_with_score(self, query: str, k: int = 4, filter: Filter = None,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        vector = _embed_query(self._embeddings, query)
        return self.similarity_search_with_score_by_vector(vector, k, filter=filter)

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[Document]:
        return [d for d, _ in self.similarity_search_with_score_by_vector(embedding, k, **kwargs)]

    def similarity_search_with_score_by_vector(self, embedding, k: int = 4, filter: Filter = None,
                                               **kwargs: Any) -> list[tuple[Document, float]]:
        if not len(self.docs) or k <= 0:
            return []
        query = np.asarray(embedding, dtype=np.float32).reshape(1, self.dim)
        predicate = _as_predicate(filter)
        allowed = self.mask()
        fetch = len(self.docs) if predicate else k
        hits = vectorindex.search(self.index, query, fetch, allowed)
        out = []
        for start in range(0, len(hits), 500):
            part = hits[start:start + 500]
            docs = self.chunks([row for row, _ in part])
            for row, score in part:
                doc = docs.get(row)
                if doc is None or (predicate and not predicate(doc.metadata)):
                    continue
                out.append((doc, score))
                if len(out) >= k:
                    return out
        return out

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return lambda score: (score + 1.0) / 2.0  # cosine in [-1, 1] → [0, 1]

    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings, metadatas: list[dict] | None = None, *,
                   ids: list[str] | None = None, **kwargs: Any) -> FaissStore:
        vectors = _embed_documents(embedding, list(texts))
        store = cls(embedding, dim=vectors.shape[1] if len(vectors) else len(embedding.embed_query("维度")))
        store.add_vectors(vectors, list(texts), metadatas, ids=ids)
        return store

    # --- files -----------------------------------------------------------------------------
    def save_local(self, folder: str | Path) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / VECTORS_FILE))
        with open(folder / DOCS_FILE, "w", encoding="utf-8") as f:
            for doc in self.docs:
                f.write(json.dumps({"id": doc.id, "text": doc.page_content, "metadata": doc.metadata},
                                   ensure_ascii=False) + "\n")

    @classmethod
    def load_local(cls, folder: str | Path, embeddings: Embeddings, dim: int) -> FaissStore:
        folder = Path(folder)
        try:
            index = faiss.read_index(str(folder / VECTORS_FILE))
            with open(folder / DOCS_FILE, encoding="utf-8") as f:
                rows = [json.loads(line) for line in f if line.strip()]
            docs = [Document(id=r["id"], page_content=r["text"], metadata=r["metadata"]) for r in rows]
        except (OSError, RuntimeError, ValueError, KeyError, TypeError) as exc:  # decoding errors are ValueErrors
            raise IndexUnusableError(f"索引文件损坏或不完整（{folder}）：{exc}。请重建索引：rag ingest --rebuild") from exc
        if index.d != dim:
            raise IndexUnusableError(f"索引向量维度为 {index.d}，与嵌入模型的维度 {dim} 不符。请重建索引：rag ingest --rebuild")
        if index.ntotal != len(rows):
            raise IndexUnusableError(
                f"索引损坏：向量 {index.ntotal} 条，文本 {len(rows)} 条，两者不一致。请重建索引：rag ingest --rebuild")
        store = cls(embeddings, dim)
        store.index = index
        store.docs = docs
        store._row_of = {d.id: i for i, d in enumerate(store.docs)}
        return store


def _embed_documents(embeddings: Embeddings, texts: list[str]) -> np.ndarray:
    if hasattr(embeddings, "embed_array"):
        return embeddings.embed_array(texts)
    return np.asarray(embeddings.embed_documents(texts), dtype=np.float32)


_QUERY_VECTORS: OrderedDict[tuple[int, str], np.ndarray] = OrderedDict()


def _embed_query(embeddings: Embeddings, text: str) -> np.ndarray:
    """A question is embedded once, though retrieval and evidence scoring both need its vector
    (a small per-process memo of the latest questions)."""
    key = (id(embeddings), text)
    vector = _QUERY_VECTORS.get(key)
    if vector is None:
        if hasattr(embeddings, "embed_query_array"):
            vector = np.asarray(embeddings.embed_query_array(text), dtype=np.float32)
        else:
            vector = np.asarray(embeddings.embed_query(text), dtype=np.float32)
        _QUERY_VECTORS[key] = vector
        while len(_QUERY_VECTORS) > 64:
            _QUERY_VECTORS.popitem(last=False)
    return vector


def _as_predicate(filter: Filter) -> Callable[[dict], bool] | None:
    if filter is None or callable(filter):
        return filter
    wanted = dict(filter)

    def match(meta: dict) -> bool:
        for key, value in wanted.items():
            have = meta.get(key)
            if isinstance(value, (list, tuple, set)):
                if have not in value:
                    return False
            elif have != value:
                return False
        return True

    return match
