"""kill -9 at every step of a write: the index stays consistent and usable, no document is lost,
the next writer cleans up what the killed one left, and `rag check` finds nothing wrong."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from casedata import DOC_LAIYANG, DOC_LUODING
from faultkit import OLD, current, folder_bytes, kill_writer_at, staging_left, texts_of, versions
from rag import faults
from rag.index import CaseIndex

WRITE_STEPS = [s for s in faults.STEPS if s != "parsed"]


def _change(src):
    """One write that updates a document and adds one, with nothing new to embed (the added file
    repeats one the index has; its vectors are reused): a kill costs no model time."""
    laiyang = "\n\n".join(p for p in DOC_LAIYANG.split("\n\n") if OLD not in p)
    (src / "laiyang.txt").write_text(laiyang, encoding="utf-8")
    (src / "copy.md").write_text(DOC_LUODING, encoding="utf-8")


def _assert_consistent(root):
    index = CaseIndex(root)  # opens without error
    docs = [d["doc"] for d in index.documents()]
    assert {"laiyang.txt", "luoding.md"} <= set(docs), docs  # no document lost
    texts = " ".join(texts_of(index))
    assert (OLD in texts) == ("copy.md" not in docs)  # the whole write or none of it
    assert index.retriever(k=1, mode="hybrid").search("信托制物业")[0].metadata["place"] == "莱阳市"
    index.close()
    return docs


@pytest.mark.parametrize("step", WRITE_STEPS)
def test_kill_at_every_write_step(tiny, tmp_path, step):
    root, src = tiny
    before = current(root)
    _change(src)
    kill_writer_at(step, root, [src], tmp_path)
    docs = _assert_consistent(root)
    published = step in ("current-replaced", "pruned")
    assert ("copy.md" in docs) == published
    assert (current(root) != before) == published
    # the next writer finishes the job and removes what the killed one left
    report = CaseIndex(root).ingest([src])
    assert not report.failed and report.embedded == 0
    assert sorted(_assert_consistent(root)) == ["copy.md", "laiyang.txt", "luoding.md"]
    assert staging_left(root) == [] and len(versions(root)) <= 2
    assert CaseIndex(root, load=False).check(repair=False).ok


def test_killed_writers_leave_no_growing_leftovers(tiny, tmp_path):
    """Five kills in a row used to leave five staging folders behind for good."""
    root, src = tiny
    _change(src)
    for _ in range(3):
        kill_writer_at("vectors-saved", root, [src], tmp_path)
        assert len(staging_left(root)) == 1  # each writer removes the one before it left
    kill_writer_at("renamed", root, [src], tmp_path)  # a complete version, never published
    assert staging_left(root) == [] and len(versions(root)) == 2
    CaseIndex(root).ingest([src])
    assert staging_left(root) == [] and len(versions(root)) <= 2
    assert folder_bytes(root) < 3 * sum(f.stat().st_size for f in (root / current(root)).iterdir())


def test_kill_during_rebuild_keeps_every_document(tiny, tmp_path):
    root, _ = tiny
    kill_writer_at("embedded", root, [], tmp_path, rebuild=True)
    assert sorted(_assert_consistent(root)) == ["laiyang.txt", "luoding.md"]


def test_kill_minus_nine_of_the_rag_command(tiny, tmp_path):
    """The real `rag ingest` process, stopped after embedding and killed with SIGKILL."""
    root, src = tiny
    _change(src)
    ready = tmp_path / "ready"
    env = dict(os.environ, RAG_FAULT_STOP_AT="embedded", RAG_FAULT_READY=str(ready), RAG_INDEX_DIR=str(root))
    proc = subprocess.Popen([sys.executable, "-m", "rag.cli", "ingest", str(src)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        import time

        deadline = time.monotonic() + 120
        while not ready.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ready.exists(), proc.stderr.read().decode() if proc.poll() is not None else "timeout"
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -9
    assert sorted(_assert_consistent(root)) == ["laiyang.txt", "luoding.md"]
    assert staging_left(root)  # the killed writer's staging folder…
    CaseIndex(root).ingest([src])
    assert staging_left(root) == []  # …is gone after the next write
