"""The models and the index behind the web UI, shared by every browser session of a process.

The index is loaded once per version and shared; Answerers are cached per answer setting. A
question never waits for an upload or a rebuild: it reads a *snapshot*, a folder of hard links
to the files of the version that was live when it started (index/.ui-snapshots/…). CaseIndex
builds every change beside the live version, swaps CURRENT atomically and then deletes the old
version's files; the snapshot's links keep them readable until the last question that uses them
has finished, and the snapshot folder is removed then. Writes (upload, removal, rebuild) are
serialised by a lock here, and across processes by CaseIndex's own file lock.
"""
from __future__ import annotations

import itertools
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rag.answer.chain import Answerer, Turn
from rag.config import Settings
from rag.errors import IndexUnusableError, InputError, RagError
from rag.index import VERSION_NAME, CaseIndex, IngestReport
from rag.loaders import MAX_BYTES, SUPPORTED, load
from rag.schema import AnswerResult

NO_INDEX = "还没有索引。请在「文档管理」页上传文档。"
SNAPSHOTS = ".ui-snapshots"
_serial = itertools.count(1)


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


@dataclass(eq=False)
class Snapshot:
    """One index version as questions read it, with the Answerers built on it."""

    index: CaseIndex
    folder: Path
    version: str
    refs: int = 0
    retired: bool = False
    answerers: OrderedDict = field(default_factory=OrderedDict)


def _link_or_copy(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:  # a file system without hard links
        shutil.copy2(src, dest)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Engine:
    def __init__(self, settings: Settings, uploads_dir: str | Path) -> None:
        self.settings = settings
        self.root = Path(settings.index_dir)
        self.uploads_dir = Path(uploads_dir)
        self.error = ""
        self._mutex = threading.Lock()  # guards _snap and the reference counts
        self._reload_lock = threading.Lock()  # one snapshot taken at a time
        self._write_lock = threading.Lock()  # index writes, one at a time
        self._snap: Snapshot | None = None
        self._sweep_stale_snapshots()
        self._reload()

    # --- snapshots -------------------------------------------------------------------------
    def _live_version(self) -> str:
        """The version CURRENT names (only a version name, never a path), or the newest intact
        one when CURRENT is missing or damaged (as CaseIndex falls back)."""
        probe = self.settings.case_index(self.root, load=False)
        name, _ = probe.read_current()
        if name is not None:
            return name
        for version in probe.versions():  # sizes only: the snapshot's own opening checks the rest
            try:
                if not probe.file_problems(version, probe._read_manifest(version)):
                    return version.name
            except RagError:
                continue
        return ""

    def _take_snapshot(self) -> Snapshot | None:
        s = self.settings
        for _ in range(5):
            version = self._live_version()
            if not version:
                return None
            if not VERSION_NAME.fullmatch(version):  # never a path from the index folder's data
                raise IndexUnusableError(f"索引 {self.root} 的版本指针 CURRENT 已损坏。请运行 rag check 修复。")
            folder = self.root / SNAPSHOTS / f"{os.getpid()}-{next(_serial)}"
            try:
                (folder / version).mkdir(parents=True)
                for f in (self.root / version).iterdir():
                    if f.is_file():
                        _link_or_copy(f, folder / version / f.name)
                (folder / "CURRENT").write_text(version, encoding="utf-8")
                index = s.case_index(folder, s.embedding)
                return Snapshot(index=index, folder=folder, version=version)
            except FileNotFoundError:  # that version was replaced while being linked: take the new one
                shutil.rmtree(folder, ignore_errors=True)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
        raise IndexUnusableError(f"索引 {self.root} 正在被频繁改写，暂时无法读取，请稍后再试。")

    def _reload(self, only_if_changed: bool = False) -> None:
        with self._reload_lock:
            if only_if_changed and self._live_version() == (self._snap.version if self._snap else ""):
                return  # another thread has just followed the change
            try:
                snap, error = self._take_snapshot(), ""
            except RagError as exc:
                snap, error = None, str(exc)
            with self._mutex:
                old, self._snap, self.error = self._snap, snap, error
                if old is not None:
                    old.retired = True
                    if old.refs == 0:
                        shutil.rmtree(old.folder, ignore_errors=True)

    def _refresh(self) -> None:
        """Another process (rag ingest) may have swapped the index: follow it."""
        live = self._live_version()
        snap = self._snap
        if live != (snap.version if snap is not None else "") and not self._write_lock.locked():
            self._reload(only_if_changed=True)

    def _release(self, snap: Snapshot) -> None:
        with self._mutex:
            snap.refs -= 1
            if snap.retired and snap.refs == 0:
                shutil.rmtree(snap.folder, ignore_errors=True)

    def _sweep_stale_snapshots(self) -> None:
        """Snapshot folders left by processes that are gone."""
        for folder in (self.root / SNAPSHOTS).glob("*-*"):
            pid = folder.name.split("-", 1)[0]
            if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def reading(self) -> Iterator[Snapshot]:
        """The live snapshot, kept readable until the block ends; raises when there is no index."""
        self._refresh()
        with self._mutex:
            snap = self._snap
            if snap is not None:
                snap.refs += 1
        if snap is None:
            raise IndexUnusableError(self.error or NO_INDEX)
        try:
            yield snap
        finally:
            self._release(snap)

    def peek(self) -> CaseIndex | None:
        """The live index or None, for status displays (manifest only: nothing read from disk)."""
        self._refresh()
        snap = self._snap
        return snap.index if snap is not None else None

    def answerer(self, snap: Snapshot, options: AskOptions) -> Answerer:
        with self._mutex:
            answerer = snap.answerers.get(options)
            if answerer is not None:
                snap.answerers.move_to_end(options)
                return answerer
        config = self.settings.chain_config(backend=options.backend, k=options.k, place=options.place or None,
                                            llm_url=options.llm_url, llm_key=options.llm_key,
                                            llm_model=options.llm_model)
        answerer = Answerer(snap.index, config)
        with self._mutex:
            answerer = snap.answerers.setdefault(options, answerer)
            while len(snap.answerers) > 16:
                snap.answerers.popitem(last=False)
        return answerer

    # --- reading ---------------------------------------------------------------------------
    def stream(self, question: str, history: list[Turn], options: AskOptions) -> Iterator[dict]:
        """Answerer.stream on the snapshot that was live when the question came."""
        with self.reading() as snap:
            yield from self.answerer(snap, options).stream(question, history)

    def ask(self, question: str, options: AskOptions | None = None) -> AnswerResult:
        with self.reading() as snap:
            return self.answerer(snap, options or AskOptions()).ask(question)

    def search(self, query: str, *, k: int, mode: str, place: str = "") -> list:
        with self.reading() as snap:
            s = self.settings
            return snap.index.retriever(k=k, fetch_k=s.fetch_k, rrf_k=s.rrf_k, mode=mode,
                                        place=place or None).search(query)

    def documents(self) -> list[dict]:
        try:
            with self.reading() as snap:
                return snap.index.documents()
        except RagError:
            return []

    def places(self) -> list[str]:
        try:
            with self.reading() as snap:
                return snap.index.places()
        except RagError:
            return []

    # --- writing ---------------------------------------------------------------------------
    @property
    def writing(self) -> bool:
        return self._write_lock.locked()

    @contextmanager
    def _writing(self):
        with self._write_lock:
            try:
                s = self.settings
                yield s.case_index(self.root, s.embedding, load=False)
            finally:
                self._reload()
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
            copy = self._upload_copy(report.sources.get(doc, ""))
            if copy is not None:
                copy.unlink()
        return report

    def _upload_copy(self, source_path: str) -> Path | None:
        """The uploads folder's copy of a removed document: only a file directly inside that folder
        (a name from the index, such as ../victim.txt, never reaches outside it)."""
        if not source_path:
            return None
        folder = self.uploads_dir.resolve()
        copy = Path(source_path)
        if not copy.is_absolute():
            copy = Path.cwd() / copy
        if copy.is_symlink() or copy.resolve().parent != folder or not copy.resolve().is_file():
            return None
        return copy.resolve()

    def rebuild(self, progress: Progress | None = None) -> IngestReport:
        """Every stored document parsed and embedded again from the source text the index keeps
        (of the newest version where it is intact); a new version, swapped in at the end. The
        report's notes say what was rebuilt, and `lost` what could not be recovered."""
        with self._writing() as writer:
            return writer.ingest([], progress=progress, rebuild=True)
