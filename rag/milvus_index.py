"""The case index with its chunks in Milvus (`RAG_STORE=milvus`): `MilvusCaseIndex` and its
retriever.

What stays in the index folder, versioned as for the FAISS store (rag.index): the manifest,
docs.sqlite (documents with their source text, articles, paragraphs — read by id when a result
needs them) and the sentence vectors. What goes to Milvus: one row per chunk, with its vector,
its BM25 terms and the metadata filters use (rag.milvus_store).

A write updates Milvus first (new and changed chunks are upserted), then publishes the new
version of the folder, then deletes the chunks no longer wanted. A reader of the previous version
meanwhile finds its paragraphs still there: the retriever keeps only hits whose paragraph its own
docs.sqlite holds. Milvus has no transaction spanning both: if a write fails between the upsert
and the swap, chunks of the files being ingested may hold their new text while the folder still
has the old one; ingesting the same files again puts both right.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
from pydantic import ConfigDict

from .chunks import chunk_paragraph
from .embeddings import load_embeddings
from .errors import IndexUnusableError
from .index import CHECK_ADVICE, DOCS_DB, FORMAT_VERSION, HASH_AT_OPEN_MAX_BYTES, CaseIndex, version_files
from .lexical import tokenize
from .milvus_store import (LITE_FILE, MilvusLexicon, MilvusSettings, MilvusStore, filter_expression,
                           milvus_client, unavailable)
from .retriever import HybridRetriever
from .sentences import KEYS_FILE as SENTENCE_KEYS
from .sentences import VECTORS_FILE as SENTENCE_VECTORS
from .sentences import SentenceVectors, segment_files
from .store import _embed_documents, _embed_query
from . import PARSER_VERSION

ENGINE = "milvus"
# the files of a version in the folder; the chunk files of the FAISS store are rows in Milvus
LOCAL_FILES = (DOCS_DB, SENTENCE_VECTORS, SENTENCE_KEYS)
EMBED_BATCH = 32  # texts per embedding call, as rag.index


class MilvusRetriever(HybridRetriever):
    """HybridRetriever with its two searches done by Milvus: the fusion, the best chunk per
    paragraph and the article decay are HybridRetriever's own, so both stores rank alike.
    A "row" here is a chunk id; the place and document filters are Milvus expressions."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: MilvusStore
    bm25: MilvusLexicon

    def _mask(self, place: str | None, doc: str | None) -> str | None:
        return filter_expression(place, doc) or None

    def _dense(self, query: str, mask: str | None) -> list[tuple[str, float]]:
        vector = _embed_query(self.store.embeddings, query)
        return self.store.dense_hits(vector, self.fetch_k, mask or "")

    def _lexical(self, query: str, mask: str | None) -> list[tuple[str, float]]:
        return self.store.bm25_hits(self.bm25.query_tokens(query), self.fetch_k, mask or "")


class MilvusCaseIndex(CaseIndex):
    DOCS_DELTA_MIN_BYTES = None  # docs.sqlite is always one file here (LOCAL_FILES)

    def __init__(self, root: str | Path = "index", embedding: str | None = None, chunk_tokens: int = 400,
                 lexical: str = "jieba+bigram", *, load: bool = True, search: bool = True,
                 milvus: MilvusSettings | None = None) -> None:
        self.milvus = milvus or MilvusSettings(uri=str(Path(root) / LITE_FILE))
        self._stale_chunks: list[str] = []
        super().__init__(root, embedding, chunk_tokens, lexical, load=load, search=search)

    def retriever(self, **kwargs) -> MilvusRetriever:
        self.require()
        return MilvusRetriever(store=self.store, bm25=self.bm25, paragraph_lookup=self.paragraphs, **kwargs)

    # --- opening ----------------------------------------------------------------------------------
    @staticmethod
    def file_problems(version: Path, manifest: dict, hashed=(), files=None) -> list[str]:
        files = version_files(manifest) if files is None else files
        return CaseIndex.file_problems(version, manifest, hashed,
                                       [f for f in files if f in LOCAL_FILES or f.startswith("sentences+")])

    def _open_version(self, version: Path, strict: bool) -> None:
        if not strict:  # rebuilding: only docs.sqlite is read
            return super()._open_version(version, strict)
        manifest = self._read_manifest(version)
        recorded = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
        small = [name for name, entry in recorded.items() if name != DOCS_DB and isinstance(entry, dict)
                 and isinstance(entry.get("size"), int) and entry["size"] <= HASH_AT_OPEN_MAX_BYTES]
        problems = self.file_problems(version, manifest, small)
        if problems:
            raise IndexUnusableError(f"索引文件损坏（{version}）：{'；'.join(problems)}。{CHECK_ADVICE}")
        if not self.search:  # documents only (rag list)
            self._connect(version)
            self.manifest, self.version_dir = manifest, version
            return
        stored = manifest.get("store") or {}
        if stored.get("engine") != ENGINE:
            raise IndexUnusableError(
                f"索引 {self.root} 是用 FAISS 存储构建的，当前配置的是 Milvus（RAG_STORE=milvus）。"
                "请去掉 RAG_STORE 设置，或换一个索引目录，或用 Milvus 重建：rag ingest --rebuild")
        if stored.get("collection") != self.milvus.collection:
            raise IndexUnusableError(
                f"索引 {self.root} 的分块存在 Milvus 集合 {stored.get('collection')} 中，"
                f"当前配置的集合是 {self.milvus.collection}。请改正 RAG_MILVUS_COLLECTION，或重建索引：rag ingest --rebuild")
        built_with = manifest["embedding"]["spec"]
        if self.requested_embedding and self.requested_embedding != built_with:
            raise IndexUnusableError(
                f"索引是用嵌入模型 {built_with} 构建的，当前要求的是 {self.requested_embedding}。"
                f"两者的向量不可比较：请改用 --embedding {built_with}，或用新模型重建索引：rag ingest --rebuild")
        embeddings = load_embeddings(built_with)
        dim = manifest["embedding"]["dim"]
        if getattr(embeddings, "dim", dim) != dim:
            raise IndexUnusableError(f"嵌入模型 {built_with} 的维度与索引记录的 {dim} 不符：模型可能已更换。请重建索引。")
        store = MilvusStore(embeddings, dim, self.milvus)
        self._connect(version)
        try:
            sentences = SentenceVectors.load(version)
        except (OSError, ValueError) as exc:
            raise IndexUnusableError(f"句向量文件损坏（{version}）：{exc}。{CHECK_ADVICE}") from exc
        self.store, self.bm25, self.sentences = store, MilvusLexicon(store, manifest.get("lexical", self.lexical)), sentences
        self.manifest, self.version_dir = manifest, version

    # --- writing ----------------------------------------------------------------------------------
    def _write(self, *args, **kwargs) -> None:
        self._stale_chunks = []
        super()._write(*args, **kwargs)  # upserts (in _build_vectors), then publishes the version
        if self._stale_chunks and self.store is not None:
            self.store.delete(self._stale_chunks)
        self._stale_chunks = []

    def _writable_store(self, embeddings, dim: int, reuse: bool) -> MilvusStore:
        """The collection, created when missing; a rebuild with a model of another dimension
        replaces it."""
        client = milvus_client(self.milvus)
        try:
            exists = client.has_collection(self.milvus.collection)
            if exists and not reuse:
                fields = client.describe_collection(self.milvus.collection).get("fields", [])
                have = next((int((f.get("params") or {}).get("dim", 0)) for f in fields if f.get("name") == "dense"), dim)
                if have != dim:
                    client.drop_collection(self.milvus.collection)
        except Exception as exc:
            raise unavailable(self.milvus, exc) from exc
        return MilvusStore(embeddings, dim, self.milvus, create=True)

    def _build_vectors(self, embeddings, incoming, replaced, report, progress, reuse, known=None):
        """rag.index's hook (format 1): the chunks go to Milvus; returns (store, lexicon)."""
        return self._upsert_chunks(embeddings, incoming, replaced, report, progress, reuse, known)

    def _build_rows(self, embeddings, folder, incoming, replaced, report, progress, reuse, known=None) -> dict:
        """The same for rag.index's format-2 hook (`_build_rows`, branch of the FAISS/BM25 rework),
        which expects a summary of what was built."""
        store, lexicon = self._upsert_chunks(embeddings, incoming, replaced, report, progress, reuse, known)
        chunks = len(store) - len(self._stale_chunks)
        return {"kind": ENGINE, "rows": chunks, "chunks": chunks, "mode": lexicon.mode, "doc_codes": [],
                "places": [], "merged": not reuse, "dim": store.dim, "store": store}

    def _upsert_chunks(self, embeddings, incoming, replaced, report, progress, reuse, known=None):
        dim = getattr(embeddings, "dim", None) or len(embeddings.embed_query("维度"))
        store = self._writable_store(embeddings, dim, reuse)
        cache: dict[str, np.ndarray] = dict(known or {})
        if reuse:
            old_ids = []
            for row in store.rows_of_docs(sorted(replaced), ("hash", "dense")):
                cache.setdefault(row["hash"], np.asarray(row["dense"], dtype=np.float32))
                old_ids.append(row["id"])
            report.reused += len(store) - len(old_ids)  # the chunks of documents not touched stay
        else:
            old_ids = [row["id"] for row in store.all_rows(())]
        mode = self.bm25.mode if reuse and self.bm25 is not None else self.lexical
        new_chunks = [(p, c) for d in incoming for a in d.articles for p in a.body
                      for c in chunk_paragraph(p, self.chunk_tokens)]
        missing = {c.hash: c.embed_text for _, c in new_chunks if c.hash not in cache}
        hashes = list(missing)
        fresh: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), EMBED_BATCH):
            part = hashes[start:start + EMBED_BATCH]
            fresh.update(zip(part, _embed_documents(embeddings, [missing[h] for h in part])))
            if progress:
                progress("计算向量", min(start + EMBED_BATCH, len(missing)), len(missing))
        report.embedded += len(missing)
        report.reused += len(new_chunks) - sum(1 for _, c in new_chunks if c.hash in missing)
        texts = [c.text for _, c in new_chunks]
        metas = [{"paragraph_id": p.id, "doc": p.doc, "article": p.article, "paragraph": p.paragraph,
                  "place": p.place.name, "place_full": p.place.full, "title": p.title, "hash": c.hash}
                 for p, c in new_chunks]
        ids = [c.id for _, c in new_chunks]
        tokens = [tokenize(c.embed_text, mode) for _, c in new_chunks]
        if new_chunks:
            vectors = np.vstack([cache[c.hash] if c.hash in cache else fresh[c.hash] for _, c in new_chunks])
            store.add_vectors(vectors, texts, metas, ids=ids, tokens=tokens,
                              progress=(lambda done, total: progress("写入 Milvus", done, total)) if progress else None)
        wanted = set(ids)
        self._stale_chunks = [i for i in old_ids if i not in wanted]
        return store, MilvusLexicon(store, mode)

    def _write_manifest(self, folder: Path, spec: str, embeddings, built, lexical: str | None = None) -> None:
        """`built`: the store (format-1 hook) or `_build_rows`'s summary (format 2)."""
        store: MilvusStore = built["store"] if isinstance(built, dict) else built
        lexical = lexical or built["mode"]
        with self._db(folder / DOCS_DB) as db:
            docs = {r["doc"]: r["content_hash"] for r in db.execute("SELECT doc, content_hash FROM documents")}
            hashes = {r["id"]: r["hash"] for r in db.execute("SELECT id, hash FROM paragraphs WHERE kind='body'")}
        chunks = len(store) - len(self._stale_chunks)
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "parser_version": PARSER_VERSION,
            "embedding": {"spec": spec, "model": getattr(embeddings, "model_id", spec), "dim": store.dim},
            "store": {"engine": ENGINE, "uri": self.milvus.shown_uri, "collection": self.milvus.collection},
            "chunk_tokens": self.chunk_tokens,
            "tokenizer": "tiktoken/cl100k_base",
            "lexical": lexical,
            "counts": {"documents": len(docs), "paragraphs": len(hashes), "chunks": chunks},
            "files": self._file_entries(folder, [name for name in LOCAL_FILES if (folder / name).is_file()]
                                        + segment_files(folder)),
            "documents": docs,
            "paragraphs": hashes,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")

    def _vector_cache(self, versions: list[Path]) -> dict[str, np.ndarray]:
        """chunk hash → vector, from the collection (`rag check` rebuilding from stored text)."""
        embeddings = load_embeddings(self.embedding_spec)
        dim = getattr(embeddings, "dim", None) or len(embeddings.embed_query("维度"))
        try:
            store = MilvusStore(embeddings, dim, self.milvus)
        except IndexUnusableError:
            return {}
        return {row["hash"]: np.asarray(row["dense"], dtype=np.float32) for row in store.all_rows(("hash", "dense"))}
