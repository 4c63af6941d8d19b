"""Helpers of the fault-injection suite: a writer stopped at a named step and killed with
SIGKILL (rag.faults), index inspection, and re-sealing a forged version's checksums."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import time
from pathlib import Path

from rag.index import INDEX_FILES, CaseIndex

DOC_THIRD = "河南省安阳市殷都区：网格治理\n\n河南省安阳市殷都区推行网格化治理，网格员每天入户走访。\n"
OLD = "红色物业联盟，居民满意度明显提高"
NEW = "老旧小区加装电梯六十部，群众出行更方便"


def current(root: Path) -> str:
    return (root / "CURRENT").read_text(encoding="utf-8").strip()


def docs_of(root: Path) -> list[str]:
    return [d["doc"] for d in CaseIndex(root).documents()]


def texts_of(index: CaseIndex) -> list[str]:
    with index._db() as db:
        return [r["text"] for r in db.execute("SELECT text FROM paragraphs")]


def staging_left(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob(".staging-*")) + (["CURRENT.tmp"] if (root / "CURRENT.tmp").exists() else [])


def versions(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("v[0-9]*"))


def folder_bytes(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file())


def reseal(version: Path) -> None:
    """Record the files' current sizes and checksums in the manifest, as a forger would."""
    manifest = json.loads((version / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"] = {n: {"size": (version / n).stat().st_size,
                             "sha256": hashlib.sha256((version / n).read_bytes()).hexdigest()} for n in INDEX_FILES}
    (version / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")


def _writer(root: str, paths: list[str], rebuild: bool, env: dict[str, str]) -> None:
    os.environ.update(env)
    CaseIndex(root, load=False).ingest(paths, rebuild=rebuild)


def _context():
    """Writers are forked from a fresh, single-threaded server with the modules, jieba and the
    model already loaded (forking the threaded test process itself can deadlock the child)."""
    import multiprocessing

    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["faultwarm"])
    return ctx


def kill_writer_at(step: str, root: Path, paths: list[Path], tmp: Path, *, rebuild: bool = False,
                   timeout: float = 120.0) -> None:
    """Start a writer, let it run to `step`, where it stops itself (SIGSTOP), and kill it there
    with SIGKILL: nothing of its own cleanup runs."""
    ready = tmp / f"ready-{step}-{time.monotonic_ns()}"
    env = {"RAG_FAULT_STOP_AT": step, "RAG_FAULT_READY": str(ready)}
    proc = _context().Process(target=_writer, args=(str(root), [str(p) for p in paths], rebuild, env))
    proc.start()
    deadline = time.monotonic() + timeout
    try:
        while not ready.exists():
            if not proc.is_alive():
                raise AssertionError(f"the writer ended (exit code {proc.exitcode}) before step {step}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the writer never reached step {step}")
            time.sleep(0.01)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()
    assert proc.exitcode == -signal.SIGKILL


def start_writer(root: Path, paths: list[Path]):
    """A writer that runs to the end (join it, then look at its exitcode)."""
    proc = _context().Process(target=_writer, args=(str(root), [str(p) for p in paths], False, {}))
    proc.start()
    return proc
