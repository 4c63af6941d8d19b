"""The records the parser produces and everything downstream cites."""
from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

ParagraphKind = Literal["body", "heading", "caption"]


class Place(BaseModel):
    """Administrative place of an article, most general first."""

    province: str = ""
    city: str = ""
    county: str = ""

    @property
    def name(self) -> str:
        """The most specific level: 莱阳市, 芝罘区, or 汕头市 when only the city is known."""
        return self.county or self.city or self.province

    @property
    def full(self) -> str:
        return f"{self.province}{self.city}{self.county}"

    def names(self) -> set[str]:
        """Every way the text may name this place: 烟台市芝罘区 → {芝罘区, 芝罘, 烟台市, 烟台, …}."""
        out: set[str] = set()
        for level in (self.province, self.city, self.county):
            if level:
                out.add(level)
                short = strip_suffix(level)
                if len(short) >= 2:
                    out.add(short)
        return out


# longest first: 自治县 before 县 (the national table's units: 旗 and 盟 in Inner Mongolia, 地区 …)
_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区", "自治县", "自治州", "自治旗", "地区", "林区",
             "特区", "省", "市", "区", "县", "旗", "盟")


def strip_suffix(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


_PLACE_PREFIX = re.compile(r"^.{0,14}?[省市区县州旗盟]：")


def headline(title: str) -> str:
    """An article title without its "place：" lead: "广东省罗定市：推动…" → "推动…" (a colon inside
    the headline itself, "传非遗之美：赋发展之力", stays)."""
    return _PLACE_PREFIX.sub("", title, count=1)


class Paragraph(BaseModel):
    """The citation unit: one clean paragraph of one article."""

    id: str  # "{doc}:p{sha1 of text}": content-anchored, survives edits of other paragraphs
    doc: str
    article: int  # 1-based, in file order
    paragraph: int  # 1-based within the article, reading order
    kind: ParagraphKind = "body"
    text: str
    section: str = ""  # the section heading above it, if any
    spans: list[tuple[int, int]] = Field(default_factory=list)  # character spans in the source text
    title: str = ""
    place: Place = Field(default_factory=Place)
    notes: list[str] = Field(default_factory=list)  # what the parser did: joined, relocated, …


class Article(BaseModel):
    doc: str
    number: int
    title: str
    kicker: str = ""
    byline: str = ""
    place: Place = Field(default_factory=Place)
    paragraphs: list[Paragraph] = Field(default_factory=list)

    @property
    def body(self) -> list[Paragraph]:
        return [p for p in self.paragraphs if p.kind == "body"]


class ParsedDoc(BaseModel):
    doc: str  # file name, the document id
    source_path: str = ""
    encoding: str = "utf-8"
    content_hash: str = ""
    text: str = ""  # the decoded source text the spans refer to
    articles: list[Article] = Field(default_factory=list)

    @property
    def paragraphs(self) -> list[Paragraph]:
        return [p for a in self.articles for p in a.paragraphs]


class Citation(BaseModel):
    """A numbered source of an answer: [n] in the text points here."""

    n: int
    id: str  # paragraph id
    doc: str
    article: int
    paragraph: int
    place: str
    place_full: str = ""
    title: str = ""
    text: str  # the full cited paragraph
    score: float | None = None  # retrieval score, for the retrieved list


class SentenceCheck(BaseModel):
    text: str  # as it stands in the answer ("" if removed)
    original: str  # as the backend wrote it
    citations: list[int]
    verdict: Literal["supported", "recited", "removed", "no_claim"]
    supported: bool
    reason: str = ""


class AnswerResult(BaseModel):
    question: str
    standalone_question: str = ""
    answer: str
    refused: bool = False
    refusal_reason: str = ""
    citations: list[Citation] = Field(default_factory=list)
    retrieved: list[Citation] = Field(default_factory=list)
    sentences: list[SentenceCheck] = Field(default_factory=list)
    backend: str = ""
    notes: list[str] = Field(default_factory=list)  # what the chain did: fallbacks, re-citations
    timings_ms: dict[str, float] = Field(default_factory=dict)
    index: dict = Field(default_factory=dict)  # index version and embedding model
    created_at: str = ""

    def contract(self) -> dict:
        """The JSON object of `rag ask --json` (a stable contract other tools rely on)."""
        return self.model_dump()
