"""The models and the index behind the web UI, shared by every browser session of a process.

One CaseIndex and a few Answerers (one per answer setting in use) are loaded once. Reads and
writes of the index are guarded by a readers–writer lock: an upload or removal waits for the
questions being retrieved, and questions wait while the index is swapped. A question holds the
read lock only while the index is being searched: generation may go on while a write runs.
CaseIndex itself builds every change beside the live version and swaps it atomically, so the
index on disk is never half-built; afterwards the old version's files are deleted, which is why
readers must not be searching it then.
"""
from __future__ import annotations

import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from rag.chain import Answerer, ChainConfig, Turn
from rag.config import Settings
from rag.errors import IndexUnusableError, InputError, RagError
from rag.index import CaseIndex, IngestReport
from rag.loaders import MAX_BYTES, SUPPORTED, load

NO_INDEX = "还没有索引。请在「文档管理」页上传文档，或在命令行运行：rag ingest data/cases"


class RWLock:
    """Many readers or one writer; a waiting writer keeps new readers out. Not owner-bound:
    a streaming answer may be resumed on another worker thread than the one that locked."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @property
    def writing(self) -> bool:
        return self._writer or self._waiting_writers > 0

    def acquire_read(self) -> None:
        with self._cond:
            while self._writer or self._waiting_writers:
                self._cond.wait()
            self._readers += 1

    def release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    @contextmanager
    def read(self):
        self.acquire_read()
        try:
            yield
        finally:
            self.release_read()

    @contextmanager
    def write(self):
        with self._cond:
            self._waiting_writers += 1
            try:
                while self._writer or self._readers:
                    self._cond.wait()
            finally:
                self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


@dataclass(frozen=True)
class AskOptions:
    """What a user chose in 回答设置."""

    backend: str = "extractive"
    k: int = 8
    place: str = ""
    llm_url: str = ""
    llm_key: str = ""
    llm_model: str = ""


Progress = Callable[[str, int, int], None]


class Engine:
    def __init__(self, settings: Settings, uploads_dir: str | Path) -> None:
        self.settings = settings
        self.uploads_dir = Path(uploads_dir)
        self.rw = RWLock()
        self._mutex = threading.Lock()  # guards the swap of _index and the answerer cache
        self._index: CaseIndex | None = None
        self.error = ""
        self._answerers: OrderedDict[AskOptions, Answerer] = OrderedDict()
        with self._mutex:
            self._open()

    # --- state -----------------------------------------------------------------------------
    def _new_index(self, load: bool = True) -> CaseIndex:
        s = self.settings
        return CaseIndex(s.index_dir, s.embedding, s.chunk_tokens, s.lexical, load=load)

    def _open(self) -> None:
        try:
            self._index, self.error = self._new_index(), ""
        except RagError as exc:
            self._index, self.error = None, str(exc)
        self._answerers.clear()

    def _refresh(self) -> None:
        """Another process (rag ingest) may have swapped the index: follow it."""
        current = Path(self.settings.index_dir) / "CURRENT"
        try:
            live = current.read_text(encoding="utf-8").strip() if current.exists() else ""
        except OSError:
            return
        with self._mutex:
            have = self._index.version_dir.name if self._index is not None and self._index.exists else ""
            if live != have and (live or have):
                self._open()

    def index(self) -> CaseIndex:
        """The live index (call with the read lock held); raises when there is none."""
        self._refresh()
        index = self._index
        if index is None:
            raise IndexUnusableError(self.error or NO_INDEX)
        if not index.exists:
            raise IndexUnusableError(NO_INDEX)
        return index

    def peek(self) -> CaseIndex | None:
        """The live index or None, for status displays."""
        with self.rw.read():
            try:
                return self.index()
            except RagError:
                return None

    def answerer(self, options: AskOptions) -> Answerer:
        index = self.index()
        with self._mutex:
            if self._index is not index:  # swapped meanwhile: the cache belongs to the new one
                index = self._index
            answerer = self._answerers.get(options)
            if answerer is None:
                s = self.settings
                config = ChainConfig(
                    backend=options.backend, k=options.k, place=options.place or None,
                    local_model_path=s.local_model_path, llm_url=options.llm_url, llm_key=options.llm_key,
                    llm_model=options.llm_model, llm_timeout=s.llm_timeout, max_question_chars=s.max_question_chars,
                )
                if options.backend == "local":  # as `rag ask`: short prompts for a small CPU model
                    config.compact_context, config.context_paragraphs = True, 4
                answerer = Answerer(index, config)
                self._answerers[options] = answerer
                while len(self._answerers) > 16:
                    self._answerers.popitem(last=False)
            else:
                self._answerers.move_to_end(options)
            return answerer

    # --- reading ---------------------------------------------------------------------------
    def stream(self, question: str, history: list[Turn], options: AskOptions) -> Iterator[dict]:
        """Answerer.stream with the read lock held while the index is searched (until the
        first event after the chain's "检索中…" status)."""
        self.rw.acquire_read()
        locked = True
        try:
            answerer = self.answerer(options)
            retrieving = False
            for event in answerer.stream(question, history):
                if locked and retrieving:
                    self.rw.release_read()
                    locked = False
                if event["type"] == "status" and event.get("text", "").startswith("检索"):
                    retrieving = True
                yield event
        finally:
            if locked:
                self.rw.release_read()

    def search(self, query: str, *, k: int, mode: str, place: str = "") -> list:
        with self.rw.read():
            index = self.index()
            s = self.settings
            return index.retriever(k=k, fetch_k=s.fetch_k, rrf_k=s.rrf_k, mode=mode,
                                   place=place or None).search(query)

    def documents(self) -> list[dict]:
        with self.rw.read():
            try:
                return self.index().documents()
            except RagError:
                return []

    def places(self) -> list[str]:
        with self.rw.read():
            try:
                return self.index().places()
            except RagError:
                return []

    # --- writing ---------------------------------------------------------------------------
    @contextmanager
    def _writing(self):
        with self.rw.write():
            try:
                writer = self._new_index(load=False)
                yield writer
            finally:
                with self._mutex:
                    self._open()

    def add_files(self, files: list[str | Path], progress: Progress | None = None) -> tuple[IngestReport, list[tuple[str, str]]]:
        """Check each upload, copy the good ones into the uploads folder, ingest them.

        Returns the ingest report and the files refused before ingesting (name, message)."""
        refused: list[tuple[str, str]] = []
        staged: list[tuple[Path, Path]] = []  # (checked upload, destination)
        for f in files:
            path = Path(f)
            name = path.name
            try:
                if path.suffix.lower() not in SUPPORTED:
                    raise InputError(f"不支持的文件类型 {path.suffix or '（无扩展名）'}。"
                                     f"支持：{' '.join(s for s in SUPPORTED if s not in ('.markdown', '.htm'))}")
                size = path.stat().st_size
                if size > MAX_BYTES:
                    raise InputError(f"文件过大（{size / 1e6:.1f} MB），上限 {MAX_BYTES // 1024 // 1024} MB")
                load(path)  # encoding, emptiness, a damaged container: the loader's own messages
            except RagError as exc:
                refused.append((name, str(exc)))
                continue
            except OSError as exc:
                refused.append((name, f"无法读取：{exc}"))
                continue
            staged.append((path, self.uploads_dir / name))
        report = IngestReport()
        if not staged:
            return report, refused
        started = time.perf_counter()
        with self._writing() as writer:
            self.uploads_dir.mkdir(parents=True, exist_ok=True)
            backups: dict[Path, Path] = {}
            for src, dest in staged:
                if dest.exists():  # an update of an earlier upload: keep the old copy until it worked
                    backup = dest.with_name(dest.name + ".previous")
                    shutil.copy2(dest, backup)
                    backups[dest] = backup
                shutil.copyfile(src, dest)
            try:
                report = writer.ingest([dest for _, dest in staged], progress=progress)
            except BaseException:
                for _, dest in staged:
                    self._restore(dest, backups.get(dest))
                raise
            failed = {Path(p).name for p, _ in report.failed}
            for _, dest in staged:
                if dest.name in failed:
                    self._restore(dest, backups.get(dest))
                elif dest in backups:
                    backups[dest].unlink(missing_ok=True)
        report.seconds = time.perf_counter() - started
        return report, refused

    @staticmethod
    def _restore(dest: Path, backup: Path | None) -> None:
        if backup is not None and backup.exists():
            backup.replace(dest)
        else:
            dest.unlink(missing_ok=True)

    def remove(self, doc: str) -> IngestReport:
        with self._writing() as writer:
            report = writer.remove(doc)
            copy = self.uploads_dir / doc
            if copy.is_file():
                copy.unlink()
        return report

    def rebuild(self, progress: Progress | None = None) -> IngestReport:
        """Every stored document parsed and embedded again (a new version, swapped in at the end)."""
        with self._writing() as writer:
            return writer.ingest([], progress=progress, rebuild=True)
