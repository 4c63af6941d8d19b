"""Hybrid retrieval: dense (FAISS) and BM25 results fused.

Two fusions: "weighted" (default), a convex combination of min-max normalised scores, measured
best on the golden set (see README); and "rrf", reciprocal rank fusion, which needs no score scale.

Chunks are searched, paragraphs are returned: the best chunk of a paragraph stands for it, and
the Document handed on holds the whole paragraph with its place, title and position.

Per-call options go through LangChain's config or as keywords, never silently dropped::

    retriever.invoke("信托制物业", config={"configurable": {"place": "莱阳", "k": 3}})
    retriever.invoke("信托制物业", place="莱阳", doc="000_a9507c89ce477295.txt")
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from pydantic import ConfigDict

from . import vectorindex
from .lexical import BM25Index
from .store import FaissStore, _embed_query

MODES = ("hybrid", "dense", "bm25")
# what one call may change: through invoke(..., config={"configurable": {...}}) or as keywords
CALL_OPTIONS = ("k", "place", "doc", "mode", "article_decay")


def call_options(config: RunnableConfig | None, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The per-call options of an invoke: the config's "configurable" values, then keywords."""
    unknown = set(kwargs) - set(CALL_OPTIONS)
    if unknown:
        raise TypeError(f"unknown retriever option(s) {sorted(unknown)}; known: {', '.join(CALL_OPTIONS)}")
    configurable = (config or {}).get("configurable") or {}
    options = {key: configurable[key] for key in CALL_OPTIONS if configurable.get(key) is not None}
    options.update({key: value for key, value in kwargs.items() if value is not None})
    return options


class HybridRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: FaissStore
    bm25: BM25Index
    paragraph_lookup: Callable[[list[str]], dict[str, Document]]
    k: int = 5
    fetch_k: int = 100
    mode: str = "hybrid"
    fusion: str = "weighted"
    dense_weight: float = 0.3  # weighted fusion: share of the dense score; rrf: weight of its ranks
    bm25_weight: float = 1.0  # rrf only
    rrf_k: int = 60
    # Each further paragraph from an article already in the results has its score multiplied by
    # this, so questions that span places or documents see more than one article (1.0: off).
    article_decay: float = 1.0
    place: str | None = None  # keep paragraphs whose place contains this (岑溪, 广东省, …)
    doc: str | None = None  # keep paragraphs of this file

    def invoke(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> list[Document]:
        return super().invoke(input, config, **call_options(config, kwargs))

    async def ainvoke(self, input: str, config: RunnableConfig | None = None, **kwargs: Any) -> list[Document]:
        return await super().ainvoke(input, config, **call_options(config, kwargs))

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **options: Any) -> list[Document]:
        return self.search(query, **options)

    async def _aget_relevant_documents(self, query: str, *, run_manager, **options: Any) -> list[Document]:
        from langchain_core.runnables.config import run_in_executor

        return await run_in_executor(None, self.search, query, **options)

    def search(self, query: str, k: int | None = None, **overrides: Any) -> list[Document]:
        k = self.k if k is None else k
        mode = overrides.get("mode", self.mode)
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if mode not in MODES or self.fusion not in ("weighted", "rrf"):
            raise ValueError(f"unknown mode {mode!r} or fusion {self.fusion!r}")
        place = overrides.get("place", self.place)
        doc = overrides.get("doc", self.doc)
        n = len(self.store)
        if n == 0:
            return []
        mask = self._mask(place, doc)
        dense = self._dense(query, mask) if mode in ("hybrid", "dense") else []
        lexical = self._lexical(query, mask) if mode in ("hybrid", "bm25") else []
        detail: dict[int, dict[str, float]] = {}
        for rank, (row, score) in enumerate(dense):
            detail.setdefault(row, {}).update(dense_rank=rank + 1, dense_score=round(score, 4))
        for rank, (row, score) in enumerate(lexical):
            detail.setdefault(row, {}).update(bm25_rank=rank + 1, bm25_score=round(score, 4))
        if mode == "hybrid" and self.fusion == "weighted":
            fused = self._weighted(dense, lexical)
        else:
            fused = {}
            for weight, hits in ((self.dense_weight if mode == "hybrid" else 1.0, dense), (self.bm25_weight, lexical)):
                for rank, (row, _) in enumerate(hits):
                    fused[row] = fused.get(row, 0.0) + weight / (self.rrf_k + rank + 1)
        chunks = self.store.chunk_keys(list(fused))  # the candidates' ids, in one read (no texts)
        best: dict[str, tuple[float, int]] = {}
        for row, score in fused.items():
            if row not in chunks:
                continue
            pid = chunks[row].paragraph_id
            if pid not in best or score > best[pid][0]:
                best[pid] = (score, row)
        ranked = self._diversify(sorted(best.items(), key=lambda item: -item[1][0]), k,
                                 overrides.get("article_decay", self.article_decay), chunks)
        paragraphs = self.paragraph_lookup([pid for pid, _ in ranked])
        out = []
        for pid, (score, row) in ranked:
            doc_ = paragraphs.get(pid)
            if doc_ is None:
                continue
            meta = dict(doc_.metadata)
            meta.update(score=round(score, 6), chunk_id=chunks[row].id, **detail.get(row, {}))
            out.append(Document(id=pid, page_content=doc_.page_content, metadata=meta))
        return out

    def _weighted(self, dense: list[tuple[int, float]], lexical: list[tuple[int, float]]) -> dict[int, float]:
        alpha = self.dense_weight
        d = dict(dense)
        b = dict(lexical)
        d_low, d_high = (min(d.values()), max(d.values())) if d else (0.0, 1.0)
        b_high = max(b.values()) if b else 1.0
        fused = {}
        for row in set(d) | set(b):
            dn = (d.get(row, d_low) - d_low) / (d_high - d_low) if d_high > d_low else float(row in d)
            bn = b.get(row, 0.0) / b_high if b_high > 0 else 0.0
            fused[row] = alpha * dn + (1 - alpha) * bn
        return fused

    def _diversify(self, ranked: list[tuple[str, tuple[float, int]]], k: int, decay: float,
                   chunks: dict):
        if decay >= 1.0:
            return ranked[:k]
        chosen: list[tuple[str, tuple[float, int]]] = []
        per_article: dict[str, int] = {}
        pool = list(ranked)
        while pool and len(chosen) < k:
            def adjusted(item):
                key = chunks[item[1][1]]
                return item[1][0] * decay ** per_article.get(f"{key.doc}:{key.article}", 0)
            best = max(pool, key=adjusted)
            pool.remove(best)
            chosen_key = chunks[best[1][1]]
            key = f"{chosen_key.doc}:{chosen_key.article}"
            per_article[key] = per_article.get(key, 0) + 1
            chosen.append(best)
        return chosen

    def _mask(self, place: str | None, doc: str | None) -> np.ndarray | None:
        return self.store.mask(place, doc)

    def _dense(self, query: str, mask: np.ndarray | None) -> list[tuple[int, float]]:
        vector = _embed_query(self.store.embeddings, query)
        return vectorindex.search(self.store.index, vector, min(self.fetch_k, len(self.store)), mask)

    def _lexical(self, query: str, mask: np.ndarray | None) -> list[tuple[int, float]]:
        scores = self.bm25.scores(query)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        top = vectorindex.top_k(scores, self.fetch_k)  # a selection, not a sort of every row
        return [(int(r), float(scores[r])) for r in top if scores[r] > 0]
