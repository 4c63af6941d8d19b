"""Check every answer sentence against the paragraphs it cites.

A sentence is supported when its cited paragraphs (with their article's title and place) hold
- every number it states (93%, 1.2万, 2025年 …), and no cited paragraph states the same kind of
  figure (a rate, 万/亿 amounts, a multiple) with other values only: "收缴率达到100%[1]" fails
  when [1] says 93%, whatever else is cited with it,
- every place it names (a place of the corpus or a province), and
- most of its key terms (jieba words, or failing that its character bigrams, for paraphrases).
An unsupported sentence is re-cited to a retrieved paragraph that does support it, or removed.
No model is involved: the verdicts are deterministic, so evaluations can rely on them.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..places import PROVINCES
from ..schema import strip_suffix
from ..text import citations_in, key_terms, normalise, numbers_in, split_sentences, strip_citations

_FIGURE = re.compile(r"(\d+(?:\.\d+)?)\s*[余多]?\s*(%|万|亿|倍)")  # "80余万" is a figure of 万 too
TERM_THRESHOLD = 0.5
BIGRAM_THRESHOLD = 0.6


@dataclass
class Source:
    """What a citation points at: the paragraph text plus its article's title and place."""

    text: str
    title: str = ""
    place_names: frozenset[str] = frozenset()  # 山东省, 烟台市, 莱阳市, 莱阳, …

    @property
    def haystack(self) -> str:
        return normalise(self.title + "\n" + self.text)


@dataclass
class Support:
    supported: bool
    has_claim: bool = True
    missing_numbers: list[str] = field(default_factory=list)
    wrong_places: list[str] = field(default_factory=list)
    term_coverage: float = 1.0
    bigram_coverage: float = 1.0
    wrong_figures: list[str] = field(default_factory=list)  # "100%（引用段落为 93%）"

    @property
    def reason(self) -> str:
        if self.supported:
            return "supported" if self.has_claim else "no claim to check"
        parts = []
        if self.missing_numbers:
            parts.append("数字不在引用段落中：" + "、".join(self.missing_numbers))
        if self.wrong_places:
            parts.append("地名与引用段落不符：" + "、".join(self.wrong_places))
        if self.wrong_figures:
            parts.append("数字与引用段落不符：" + "、".join(self.wrong_figures))
        if not parts:
            parts.append(f"关键词覆盖不足（词 {self.term_coverage:.0%}，字 {self.bigram_coverage:.0%}）")
        return "；".join(parts)


def _has_number(number: str, haystack: str) -> bool:
    return re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", haystack) is not None


def _figures(text: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for value, unit in _FIGURE.findall(normalise(text)):
        out.setdefault(unit, set()).add(value)
    return out


def contradicted_figures(body: str, sources: list[Source]) -> list[str]:
    """The sentence's figures that a cited paragraph states with other values of the same kind
    and never with the sentence's own: each cited paragraph must agree, not just one of them."""
    mine = _figures(body)
    out = []
    for source in sources:
        theirs = _figures(source.haystack)
        for unit, values in mine.items():
            if theirs.get(unit) and not theirs[unit] & values:
                out.extend(f"{v}{unit}（引用段落为 {'、'.join(sorted(theirs[unit]))}{unit}）" for v in sorted(values))
    return list(dict.fromkeys(out))


def places_in(sentence: str, place_vocab: Iterable[str]) -> list[str]:
    text = normalise(strip_citations(sentence))
    found = [p for p in sorted(set(place_vocab) | set(PROVINCES), key=lambda p: (-len(p), p)) if p in text]
    # "烟台市芝罘区" also contains "芝罘区": keep only the longest mentions
    return [p for p in found if not any(p != q and p in q for q in found)]


def _bigrams(text: str) -> set[str]:
    runs = re.findall(r"[\u4e00-\u9fff]+", text)
    return {r[i:i + 2] for r in runs for i in range(len(r) - 1)}


def check(sentence: str, sources: list[Source], place_vocab: Iterable[str] = ()) -> Support:
    """Does the union of `sources` support `sentence`?"""
    place_vocab = list(place_vocab)
    body = strip_citations(sentence)
    haystack = "\n".join(s.haystack for s in sources)
    names = set().union(*(s.place_names for s in sources)) if sources else set()
    numbers = numbers_in(body)
    terms = key_terms(body, place_vocab)
    mentioned = places_in(body, place_vocab)
    if not numbers and not terms and not mentioned:
        return Support(supported=True, has_claim=False)
    if not sources:
        return Support(supported=False, missing_numbers=numbers, term_coverage=0.0, bigram_coverage=0.0)
    missing = [n for n in numbers if not _has_number(n, haystack)]
    missing += [f"{v}%" for v in sorted(_figures(body).get("%", ())) if v not in missing and not re.search(rf"(?<![\d.]){re.escape(v)}\s*%", haystack)]
    wrong = [p for p in mentioned if p not in names and p not in haystack and strip_suffix(p) not in names]
    figures = contradicted_figures(body, sources)
    coverage = sum(t in haystack for t in terms) / len(terms) if terms else 1.0
    grams = _bigrams(normalise(body)) - _bigrams("".join(mentioned))
    bigram_coverage = len(grams & _bigrams(haystack)) / len(grams) if grams else 1.0
    ok = not missing and not wrong and not figures and (coverage >= TERM_THRESHOLD or bigram_coverage >= BIGRAM_THRESHOLD)
    return Support(ok, True, missing, wrong, coverage, bigram_coverage, figures)


@dataclass
class SentenceVerdict:
    text: str  # the sentence as it stands in the final answer ("" when removed)
    original: str
    citations: list[int]
    verdict: str  # supported | recited | removed | no_claim
    reason: str
    support: Support | None = None


def verify_answer(answer: str, sources: dict[int, Source], place_vocab: Iterable[str] = (),
                  recite: bool = True, require_citation: bool = True) -> tuple[str, list[SentenceVerdict]]:
    """Return the answer with unsupported sentences re-cited or removed, and one verdict each.

    `sources` maps citation numbers to what they point at (all retrieved paragraphs, so a
    sentence can be re-cited to one the model did not name).
    """
    place_vocab = list(place_vocab)
    verdicts: list[SentenceVerdict] = []
    kept: list[str] = []
    for line in answer.splitlines() or [answer]:
        line_out = []
        prefix = re.match(r"^\s*(?:[-*•]|\d+[.、）)](?!\d))\s*", line)  # not the "1." of "1.5公里"
        lead = prefix.group(0) if prefix else ""
        for sentence in split_sentences(line[len(lead):]):
            cited = [n for n in citations_in(sentence) if n in sources]
            body = strip_citations(sentence)
            support = check(body, [sources[n] for n in cited], place_vocab)
            if body.endswith(("：", ":")) and not cited:  # a lead-in to a list makes no claim
                support = Support(supported=True, has_claim=False)
            if not support.has_claim and not cited:
                line_out.append(sentence)
                verdicts.append(SentenceVerdict(sentence, sentence, [], "no_claim", support.reason, support))
                continue
            if support.supported and (cited or not require_citation):
                line_out.append(sentence)
                verdicts.append(SentenceVerdict(sentence, sentence, cited, "supported", support.reason, support))
                continue
            better = _best_source(body, sources, place_vocab) if recite else None
            if better is not None:
                fixed = _with_citation(body, better)
                line_out.append(fixed)
                why = "无引用" if not cited else support.reason
                verdicts.append(SentenceVerdict(fixed, sentence, [better], "recited", f"{why} → 改引 [{better}]",
                                                check(body, [sources[better]], place_vocab)))
            else:
                verdicts.append(SentenceVerdict("", sentence, cited, "removed",
                                                "无引用" if not cited else support.reason, support))
        if line_out:
            kept.append(lead + "".join(line_out))
    return "\n".join(kept).strip(), verdicts


def _best_source(body: str, sources: dict[int, Source], place_vocab) -> int | None:
    best, best_score = None, -1.0
    for n, source in sources.items():
        s = check(body, [source], place_vocab)
        if s.supported and s.has_claim:
            score = s.term_coverage + s.bigram_coverage
            if score > best_score:
                best, best_score = n, score
    return best


def _with_citation(body: str, n: int) -> str:
    m = re.match(r"^(.*?)([。！？!?；;]*)$", body, re.S)
    return f"{m.group(1)}[{n}]{m.group(2)}"
