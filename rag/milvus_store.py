"""Chunks in Milvus, behind LangChain's `VectorStore` interface: the store for corpora that
outgrow one machine (`RAG_STORE=milvus`).

The same client code talks to Milvus Lite (a local file, ``RAG_MILVUS_URI=/path/chunks.db``:
the tests use it) and to a Milvus Standalone or Distributed server (``http://host:19530`` and a
token). One collection row per chunk:

    id            the chunk id ("{paragraph id}#{n}"), primary key
    text          the chunk text
    lexical       the chunk's BM25 terms: the project's own jieba+bigram tokens (rag.lexical),
                  each spelled as one alphanumeric code word (see `term_code`)
    sparse        BM25 sparse vector, computed by Milvus's built-in BM25 function from `lexical`
    dense         the chunk vector (L2-normalised: inner product is cosine)
    paragraph_id, doc, article, paragraph, place, place_full, title, hash
                  the chunk metadata the FAISS store keeps in chunks.jsonl (filters run on them)

Why the project's tokens rather than Milvus's own Chinese analyzer: the FAISS path scores BM25
on jieba words plus character bigrams with stopwords and question phrases removed; the same
terms make the two stores rank alike (the golden-set recall agrees, see README). Milvus Lite 3.x
knows the tokenizers "standard" and "jieba" only (no "whitespace"), and a server's "standard"
tokenizer splits Chinese characters apart, so each term is sent as a code word that every
standard tokenizer keeps whole. Milvus still does the BM25 bookkeeping (document frequencies,
average length) as documents come and go.

Paragraphs, documents, places and sentence vectors stay in the index folder's docs.sqlite and
sentences.npy (rag.index): the answer side reads them by id, and `rag check` can rebuild from the
source text kept there.
"""
from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from .chunktable import ChunkKey
from .errors import IndexUnusableError
from .lexical import _CJK_RUN, tokenize
from .store import _embed_documents, _embed_query

DEFAULT_COLLECTION = "rag_chunks"
LITE_FILE = "milvus.db"  # Milvus Lite's file inside the index folder when no URI is set
# bm25s's defaults (BM25 "lucene"), which the FAISS path's rag.lexical uses
BM25_K1, BM25_B = 1.5, 0.75
TEXT_MAX = 65535  # Milvus's longest VARCHAR, in bytes
NAME_MAX = 1024  # document names, titles and places
WRITE_BATCH = 1000  # rows per insert or upsert request (a request stays well below gRPC's 64 MB)
TERM_CODE_BYTES = 6  # 48-bit term codes: a chance collision in a million-word vocabulary is ~1 in 500
META_FIELDS = ("paragraph_id", "doc", "article", "paragraph", "place", "place_full", "title", "hash")
DENSE_INDEXES = ("FLAT", "HNSW", "IVF_FLAT", "AUTOINDEX")
HNSW_PARAMS = {"M": 16, "efConstruction": 200}  # Milvus's documented defaults
HNSW_SEARCH_EF = 256  # ≥ fetch_k (100 by default): HNSW returns at most ef hits


class MilvusUnavailableError(IndexUnusableError):
    """Milvus cannot be reached or refuses the request (exit code 3, like any unusable index)."""


@dataclass(frozen=True)
class MilvusSettings:
    uri: str  # a Milvus Lite file (…/chunks.db) or http(s)://host:19530
    token: str = ""  # "user:password" or an API key; empty for Milvus Lite
    db_name: str = ""  # the database on a server ("" = default)
    collection: str = DEFAULT_COLLECTION
    dense_index: str = "FLAT"  # FLAT: exact, as the FAISS store; HNSW for big collections on a server

    @property
    def is_lite(self) -> bool:
        return not re.match(r"^[a-z]+://", self.uri)

    @property
    def shown_uri(self) -> str:
        """The URI without credentials, for messages and the manifest."""
        return re.sub(r"//[^/@]*@", "//", self.uri)


def term_code(term: str) -> str:
    """One BM25 term as a lowercase code word ("t" and hex digits) that the standard tokenizer of
    Milvus Lite and of a Milvus server both keep as a single term."""
    return "t" + hashlib.blake2b(term.encode("utf-8"), digest_size=TERM_CODE_BYTES).hexdigest()


def lexical_text(tokens: Iterable[str]) -> str:
    """The `lexical` field of a row: its terms' codes, as many as fit in a VARCHAR."""
    words = [term_code(t) for t in tokens]
    fit = TEXT_MAX // (2 + 2 * TERM_CODE_BYTES)
    return " ".join(words[:fit])


def _quoted(value: str) -> str:
    """A string literal for a Milvus filter expression."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _like_literal(value: str) -> str:
    """`value` inside a LIKE pattern, its own % and _ taken literally."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_").replace('"', '\\"')


def filter_expression(place: str | None = None, doc: str | None = None) -> str:
    """The Milvus filter for the retriever's place and document options (as HybridRetriever's
    mask: the document by name; a place contained in the chunk's place or its full chain)."""
    parts = []
    if doc:
        parts.append(f"doc == {_quoted(doc)}")
    if place:
        pattern = '"%' + _like_literal(place) + '%"'
        parts.append(f"(place_full like {pattern} or place like {pattern})")
    return " and ".join(parts)


_CLIENTS: dict[tuple[str, str, str], Any] = {}
_CLIENTS_LOCK = threading.Lock()


def milvus_client(settings: MilvusSettings):
    """One client per URI, token and database in a process (Milvus Lite opens its file once)."""
    key = (settings.uri, settings.token, settings.db_name)
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(key)
        if client is None:
            try:
                from pymilvus import MilvusClient
            except ImportError as exc:
                raise MilvusUnavailableError(
                    "使用 Milvus 存储需要安装 pymilvus（本地文件还需 milvus-lite）：pip install -e '.[milvus]'") from exc
            # a failure reaches the user as one Chinese message (`unavailable`), the cause attached:
            # pymilvus's own log of it (a traceback on stderr) would only repeat it
            logging.getLogger("pymilvus").setLevel(logging.CRITICAL)
            if settings.is_lite:
                Path(settings.uri).expanduser().parent.mkdir(parents=True, exist_ok=True)
            options = {"uri": settings.uri, "token": settings.token}
            if settings.db_name:
                options["db_name"] = settings.db_name
            try:
                client = MilvusClient(**options)
            except Exception as exc:  # pymilvus raises MilvusException, grpc errors or OSError
                raise unavailable(settings, exc) from exc
            _CLIENTS[key] = client
        return client


def close_milvus(settings: MilvusSettings) -> None:
    """Close this process's client; for Milvus Lite also stop its in-process engine, which holds
    the file (Milvus Lite lets one process at a time open it)."""
    with _CLIENTS_LOCK:
        client = _CLIENTS.pop((settings.uri, settings.token, settings.db_name), None)
    if client is not None:
        client.close()
    if settings.is_lite:
        try:
            from milvus_lite.server_manager import server_manager_instance
        except ImportError:
            return
        server_manager_instance.release_server(str(Path(settings.uri).expanduser()))


def unavailable(settings: MilvusSettings, exc: BaseException) -> MilvusUnavailableError:
    if settings.is_lite and "open local milvus failed" in str(exc).lower():
        return MilvusUnavailableError(
            f"无法打开 Milvus Lite 文件 {settings.uri}：它可能正被另一个进程使用（Milvus Lite 同一时间只允许"
            "一个进程打开，例如正在运行的 rag serve 或网页界面），或 milvus-lite 未安装、目录不可写。"
            "多个进程共用索引时请使用 Milvus 服务（RAG_MILVUS_URI=http://主机:19530）。")
    where = f"Milvus Lite 文件 {settings.uri}" if settings.is_lite else f"Milvus 服务 {settings.shown_uri}"
    return MilvusUnavailableError(
        f"无法连接或使用{where}（集合 {settings.collection}）：{_reason(exc)}。"
        "请检查 RAG_MILVUS_URI、RAG_MILVUS_TOKEN 与服务是否在运行；"
        "本地文件请确认已安装 milvus-lite 且目录可写。")


def _reason(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return message.strip().splitlines()[0][:300]


class _ChunkCache(OrderedDict):
    """Chunks (Document) and their vectors seen in recent results, by chunk id. The retriever
    reads `store.docs[chunk_id]` for the hits it has just fetched, as it reads FaissStore.docs."""

    LIMIT = 50_000  # many concurrent searches' hits (a search brings at most 2 × fetch_k)

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()  # the UI searches from several threads

    def remember(self, chunk_id: str, doc: Document, vector: np.ndarray | None) -> None:
        with self._lock:
            self[chunk_id] = (doc, vector)
            self.move_to_end(chunk_id)
            while len(self) > self.LIMIT:
                self.popitem(last=False)


class _DocsView:
    """`store.docs[chunk_id]` → the chunk's Document, for hits this process has fetched."""

    def __init__(self, cache: _ChunkCache) -> None:
        self._cache = cache

    def __getitem__(self, chunk_id: str) -> Document:
        return self._cache[chunk_id][0]


class MilvusStore(VectorStore):
    def __init__(self, embeddings: Embeddings, dim: int, settings: MilvusSettings, *, create: bool = False) -> None:
        self._embeddings = embeddings
        self.dim = dim
        self.settings = settings
        self.collection = settings.collection
        self.client = milvus_client(settings)
        self._cache = _ChunkCache()
        self.docs = _DocsView(self._cache)
        self._count: int | None = None
        with self._calls():
            exists = self.client.has_collection(self.collection)
        if not exists:
            if not create:
                raise IndexUnusableError(
                    f"Milvus（{settings.shown_uri}）中没有集合 {self.collection}：它可能被删除了，或配置指向了别的服务。"
                    "请检查 RAG_MILVUS_URI 与 RAG_MILVUS_COLLECTION，或重建索引：rag ingest --rebuild")
            self._create_collection()
        self._check_dimension()
        with self._calls():
            self.client.load_collection(self.collection)  # a server searches loaded collections only

    @property
    def embeddings(self) -> Embeddings:
        return self._embeddings

    def _calls(self):
        return _Calls(self.settings)

    # --- the collection -----------------------------------------------------------------------
    def _create_collection(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        with self._calls():
            schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=NAME_MAX)
            schema.add_field("text", DataType.VARCHAR, max_length=TEXT_MAX)
            schema.add_field("lexical", DataType.VARCHAR, max_length=TEXT_MAX, enable_analyzer=True,
                             analyzer_params={"tokenizer": "standard"}, enable_match=True)
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dim)
            for name in META_FIELDS:
                if name in ("article", "paragraph"):
                    schema.add_field(name, DataType.INT64)
                else:
                    schema.add_field(name, DataType.VARCHAR, max_length=NAME_MAX)
            schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                         input_field_names=["lexical"], output_field_names=["sparse"]))
            params = self.client.prepare_index_params()
            kind = self.settings.dense_index.upper()
            if kind not in DENSE_INDEXES:
                raise IndexUnusableError(f"不支持的 Milvus 向量索引类型 {kind}，可选：{'、'.join(DENSE_INDEXES)}")
            params.add_index("dense", index_type=kind, metric_type="IP",
                             params=HNSW_PARAMS if kind == "HNSW" else {})
            params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                             params={"bm25_k1": BM25_K1, "bm25_b": BM25_B})
            params.add_index("doc", index_type="INVERTED")
            # every write is visible to the next search (ingest, then ask)
            self.client.create_collection(self.collection, schema=schema, index_params=params,
                                          consistency_level="Strong")

    def _check_dimension(self) -> None:
        with self._calls():
            info = self.client.describe_collection(self.collection)
        for f in info.get("fields", []):
            if f.get("name") == "dense":
                dim = int((f.get("params") or {}).get("dim", self.dim))
                if dim != self.dim:
                    raise IndexUnusableError(
                        f"Milvus 集合 {self.collection} 的向量维度为 {dim}，与嵌入模型的维度 {self.dim} 不符。"
                        "请换一个集合名（RAG_MILVUS_COLLECTION），或重建索引：rag ingest --rebuild")

    def save_local(self, folder) -> None:
        """The rows are in Milvus already: nothing to write beside the index."""

    def drop(self) -> None:
        with self._calls():
            self.client.drop_collection(self.collection)
        self._cache.clear()
        self._count = None

    def __len__(self) -> int:
        if self._count is None:
            with self._calls():
                rows = self.client.query(self.collection, filter="", output_fields=["count(*)"])
            self._count = int(rows[0]["count(*)"]) if rows else 0
        return self._count

    def count(self, expression: str) -> int:
        with self._calls():
            rows = self.client.query(self.collection, filter=expression, output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    # --- writing ----------------------------------------------------------------------------------
    def add_texts(self, texts: Iterable[str], metadatas: list[dict] | None = None, *,
                  ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        texts = list(texts)
        vectors = _embed_documents(self._embeddings, texts)
        tokens = [tokenize(t) for t in texts]
        return self.add_vectors(vectors, texts, metadatas, ids=ids, tokens=tokens)

    def add_vectors(self, vectors: np.ndarray, texts: list[str], metadatas: list[dict] | None = None, *,
                    ids: list[str] | None = None, tokens: list[list[str]] | None = None,
                    progress: Callable[[int, int], None] | None = None) -> list[str]:
        """Write rows (a row whose id exists is replaced). `tokens`: the BM25 terms of each text
        (default: rag.lexical's tokens of the text)."""
        metadatas = metadatas or [{} for _ in texts]
        ids = ids or [str(uuid.uuid4()) for _ in texts]
        tokens = tokens if tokens is not None else [tokenize(t) for t in texts]
        if not (len(vectors) == len(texts) == len(metadatas) == len(ids) == len(tokens)):
            raise ValueError(f"lengths differ: {len(vectors)} vectors, {len(texts)} texts, "
                             f"{len(metadatas)} metadatas, {len(ids)} ids, {len(tokens)} token lists")
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)
        for start in range(0, len(ids), WRITE_BATCH):
            rows = [_row(ids[i], texts[i], metadatas[i], tokens[i], vectors[i])
                    for i in range(start, min(start + WRITE_BATCH, len(ids)))]
            with self._calls():
                self.client.upsert(self.collection, rows)
            if progress:
                progress(min(start + WRITE_BATCH, len(ids)), len(ids))
        for chunk_id in ids:
            self._cache.pop(chunk_id, None)
        self._count = None
        return ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        if not ids:
            return False
        ids = list(ids)
        for start in range(0, len(ids), WRITE_BATCH):
            with self._calls():
                self.client.delete(self.collection, ids=ids[start:start + WRITE_BATCH])
        for chunk_id in ids:
            self._cache.pop(chunk_id, None)
        self._count = None
        return True

    def rows_of_docs(self, docs: Iterable[str], fields: tuple[str, ...] = ("hash", "dense")) -> Iterator[dict]:
        """The rows of these documents (all rows when `docs` is None), a batch at a time."""
        docs = list(docs)
        for start in range(0, len(docs), WRITE_BATCH):
            expression = f"doc in [{', '.join(_quoted(d) for d in docs[start:start + WRITE_BATCH])}]"
            yield from self._iterate(expression, fields)

    def all_rows(self, fields: tuple[str, ...] = ("hash",)) -> Iterator[dict]:
        yield from self._iterate("", fields)

    def _iterate(self, expression: str, fields: tuple[str, ...]) -> Iterator[dict]:
        with self._calls():
            iterator = self.client.query_iterator(self.collection, batch_size=WRITE_BATCH, filter=expression,
                                                  output_fields=["id", *fields])
        try:
            while True:
                with self._calls():
                    batch = iterator.next()
                if not batch:
                    break
                yield from batch
        finally:
            iterator.close()

    def vector_of(self, chunk_id: str) -> np.ndarray | None:
        cached = self._cache.get(chunk_id)
        if cached is not None and cached[1] is not None:
            return cached[1]
        with self._calls():
            rows = self.client.get(self.collection, ids=[chunk_id], output_fields=["dense", "text", *META_FIELDS])
        if not rows:
            return None
        doc, vector = _hit_document(rows[0])
        self._cache.remember(chunk_id, doc, vector)
        return vector

    def chunks(self, ids: list[str]) -> dict[str, Document]:
        """The chunks of these ids that recent results brought (as FaissStore.chunks of the
        FAISS/BM25 rework: the retriever's candidates' metadata in one read)."""
        out = {}
        for chunk_id in ids:
            cached = self._cache.get(chunk_id)
            if cached is not None:
                out[chunk_id] = cached[0]
        missing = [i for i in ids if i not in out]
        if missing:
            out.update((d.id, d) for d in self.get_by_ids(missing))
        return out

    def chunk_keys(self, ids: list[str]) -> dict[str, ChunkKey]:
        """What the retriever needs of its candidates (here a "row" is a chunk id)."""
        return {i: ChunkKey(i, d.metadata["paragraph_id"], d.metadata["doc"], int(d.metadata["article"]))
                for i, d in self.chunks(ids).items()}

    def mask(self, place: str | None, doc: str | None) -> str | None:
        """The retriever's filter as a Milvus expression (None: no filter)."""
        return filter_expression(place, doc) or None

    def get_by_ids(self, ids: list[str], /) -> list[Document]:
        if not ids:
            return []
        with self._calls():
            rows = self.client.get(self.collection, ids=list(ids), output_fields=["text", *META_FIELDS])
        found = {r["id"]: _hit_document(r)[0] for r in rows}
        return [found[i] for i in ids if i in found]

    # --- searching ----------------------------------------------------------------------------------
    def dense_hits(self, vector: np.ndarray, limit: int, expression: str = "") -> list[tuple[str, float]]:
        """(chunk id, cosine) of the `limit` nearest chunks passing the filter, best first."""
        search_params: dict[str, Any] = {"metric_type": "IP"}
        if self.settings.dense_index.upper() == "HNSW":
            search_params["params"] = {"ef": max(HNSW_SEARCH_EF, limit)}
        with self._calls():
            result = self.client.search(self.collection, data=[np.asarray(vector, dtype=np.float32).tolist()],
                                        anns_field="dense", limit=limit, filter=expression,
                                        output_fields=["text", *META_FIELDS], search_params=search_params)
        return self._remember_hits(result[0], score=float)

    def bm25_hits(self, tokens: list[str], limit: int, expression: str = "") -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best `limit` chunks holding any of the terms, best first."""
        if not tokens:
            return []
        with self._calls():
            result = self.client.search(self.collection, data=[lexical_text(tokens)], anns_field="sparse",
                                        limit=limit, filter=expression, output_fields=["text", *META_FIELDS],
                                        search_params={"metric_type": "BM25"})
        # a BM25 score is never negative; Milvus Lite reports it negated (as a distance), a server as is
        hits = self._remember_hits(result[0], score=lambda d: abs(float(d)))
        return [(chunk_id, score) for chunk_id, score in hits if score > 0]

    def _remember_hits(self, hits, score: Callable[[float], float]) -> list[tuple[str, float]]:
        out = []
        for hit in hits:
            entity = dict(hit.get("entity") or {})
            entity["id"] = hit["id"]
            doc, vector = _hit_document(entity)
            previous = self._cache.get(hit["id"])
            if vector is None and previous is not None:
                vector = previous[1]
            self._cache.remember(hit["id"], doc, vector)
            out.append((hit["id"], score(hit["distance"])))
        return out

    def similarity_search(self, query: str, k: int = 4, **kwargs: Any) -> list[Document]:
        return [doc for doc, _ in self.similarity_search_with_score(query, k, **kwargs)]

    def similarity_search_with_score(self, query: str, k: int = 4, filter: dict | str | None = None,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        vector = _embed_query(self._embeddings, query)
        return self.similarity_search_with_score_by_vector(vector, k, filter=filter)

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4, **kwargs: Any) -> list[Document]:
        return [d for d, _ in self.similarity_search_with_score_by_vector(embedding, k, **kwargs)]

    def similarity_search_with_score_by_vector(self, embedding, k: int = 4, filter: dict | str | None = None,
                                               **kwargs: Any) -> list[tuple[Document, float]]:
        """`filter`: a Milvus expression, or {"place": …, "doc": …} as the retriever's options."""
        if k <= 0:
            return []
        expression = filter if isinstance(filter, str) else filter_expression(**(filter or {}))
        return [(self.docs[chunk_id], score) for chunk_id, score in self.dense_hits(embedding, k, expression)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        return lambda score: (score + 1.0) / 2.0  # cosine in [-1, 1] → [0, 1]

    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings, metadatas: list[dict] | None = None, *,
                   ids: list[str] | None = None, settings: MilvusSettings | None = None,
                   **kwargs: Any) -> MilvusStore:
        if settings is None:
            raise ValueError("MilvusStore.from_texts needs settings=MilvusSettings(uri=…)")
        vectors = _embed_documents(embedding, list(texts))
        dim = vectors.shape[1] if len(vectors) else len(embedding.embed_query("维度"))
        store = cls(embedding, dim, settings, create=True)
        store.add_vectors(vectors, list(texts), metadatas, ids=ids)
        return store


class MilvusLexicon:
    """What the answer side asks of the BM25 index (`doc_freq`, `rarity`, `mode`, `len`), answered
    by Milvus from the same terms the FAISS path's BM25Index counts."""

    def __init__(self, store: MilvusStore, mode: str) -> None:
        self.store = store
        self.mode = mode
        self._sizes: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.store)

    def query_tokens(self, query: str) -> list[str]:
        return tokenize(query, self.mode, query=True)

    def doc_freq(self, term: str) -> int:
        """As BM25Index.doc_freq: the rows holding the term's rarest character bigram (or, without
        bigrams, the term itself)."""
        runs = _CJK_RUN.findall(term) if self.mode != "jieba" else []
        sizes = [self._column_size("#" + r[i:i + 2]) for r in runs for i in range(len(r) - 1)]
        return min(sizes) if sizes else self._column_size(term.lower())

    def rarity(self, term: str) -> float:
        rows = len(self)
        if not rows:
            return 1.0
        df = self.doc_freq(term)
        return 1.0 + math.log(rows / df) if df else 1.0 + math.log(rows) / 2

    def _column_size(self, token: str) -> int:
        with self._lock:
            size = self._sizes.get(token)
        if size is None:
            size = self.store.count(f'TEXT_MATCH(lexical, "{term_code(token)}")')
            with self._lock:
                self._sizes[token] = size
        return size

    def save(self, folder) -> None:
        """The terms live in Milvus: nothing to write beside the index."""


class _Calls:
    """Milvus failures as the users' message naming the URI (rag.errors: exit code 3)."""

    def __init__(self, settings: MilvusSettings) -> None:
        self.settings = settings

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if exc is None or isinstance(exc, IndexUnusableError) or not isinstance(exc, Exception):
            return False
        from pymilvus.exceptions import MilvusException

        try:
            import grpc
            rpc_errors: tuple = (grpc.RpcError,)
        except ImportError:
            rpc_errors = ()
        if isinstance(exc, (MilvusException, ConnectionError, TimeoutError, *rpc_errors)):
            raise unavailable(self.settings, exc) from exc
        return False


def _row(chunk_id: str, text: str, meta: dict, tokens: list[str], vector: np.ndarray) -> dict:
    row = {"id": chunk_id, "text": _fit(text, TEXT_MAX), "lexical": lexical_text(tokens), "dense": vector.tolist()}
    for name in META_FIELDS:
        value = meta.get(name)
        row[name] = int(value or 0) if name in ("article", "paragraph") else _fit(str(value or ""), NAME_MAX)
    return row


def _fit(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")


def _hit_document(entity: dict) -> tuple[Document, np.ndarray | None]:
    meta = {name: entity.get(name) for name in META_FIELDS if name in entity}
    vector = entity.get("dense")
    vector = None if vector is None else np.asarray(vector, dtype=np.float32)
    return Document(id=entity["id"], page_content=entity.get("text", ""), metadata=meta), vector
