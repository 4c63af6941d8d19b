"""The golden set format (eval/golden.jsonl) and how its evidence maps onto indexed paragraphs."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Literal

from pydantic import ValidationError, BaseModel, Field

from .errors import InputError

QuestionType = Literal["single_fact", "numeric", "multi_place", "how", "comparison", "cross_doc", "unanswerable"]


class Evidence(BaseModel):
    file: str
    quote: str


class GoldenItem(BaseModel):
    id: str
    question: str
    type: QuestionType
    answerable: bool
    places: list[str] = Field(default_factory=list)
    must_include: list[list[str]] = Field(default_factory=list)
    evidence: list[Evidence] = Field(default_factory=list)


def load_golden(path: str | Path) -> list[GoldenItem]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到评测集：{path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"无法读取评测集 {path.name}：需要 UTF-8 编码的 JSON Lines 文件") from exc
    items = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(GoldenItem.model_validate_json(line))
        except ValidationError as exc:  # where and what kind of error, never the line's content
            where = "；".join(f"{'.'.join(str(x) for x in e['loc']) or '整行'}（{e['type']}）" for e in exc.errors()[:3])
            raise InputError(f"评测集 {path.name} 第 {n} 行格式错误：{where}。格式见 eval/README.md") from None
    return items


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def evidence_paragraphs(item: GoldenItem, index) -> list[set[str]]:
    """For each evidence quote, the ids of the body paragraphs that contain it.

    A quote found in no body paragraph (a byline, say) gives an empty set: it cannot be retrieved.
    """
    out = []
    for ev in item.evidence:
        quote = _squash(ev.quote).lstrip("■□")
        ids = {pid for pid, text in _body_paragraphs(index, ev.file) if quote in text}
        out.append(ids)
    return out


def _body_paragraphs(index, doc: str) -> list[tuple[str, str]]:
    cache = index.__dict__.setdefault("_golden_cache", {})
    if doc not in cache:
        with index._db() as db:
            rows = db.execute("SELECT id, text FROM paragraphs WHERE doc=? AND kind='body'", (doc,))
            cache[doc] = [(r["id"], _squash(r["text"])) for r in rows]
    return cache[doc]


def dump(items: list[GoldenItem]) -> str:
    return "\n".join(json.dumps(i.model_dump(), ensure_ascii=False) for i in items) + "\n"
