"""Paths, sample documents and small helpers shared by the tests.

They live here rather than in conftest.py: tests/ui has a conftest.py too, and `from conftest import`
inside a test can then pick up the wrong one (both are imported under the module name "conftest").
"""
from __future__ import annotations

import re
from pathlib import Path

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


def write_files(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder
