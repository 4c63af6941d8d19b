"""The numbered context a generating backend reads: which retrieved paragraphs it sees, and how
much of each. Numbers stay those of the retrieval list, so citations map back unchanged.

A small CPU model reads a prompt at ~70–95 tokens/s, so for the local backend the context is the
question's best sentences within a token budget (`build_context(..., budget=…)`): that budget is
what keeps its first token within ~3 s.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import replace

from langchain_core.documents import Document

from ..config import Settings
from ..schema import headline
from .compose import best_per_group
from .evidence import Candidate, Evidence, phrase_in
from .question import Question

# Context budget for the local model, in its own tokens. With the system prompt cached, the
# tokens read per question are this plus the question and ~30 tokens of prompt frame.
LOCAL_CONTEXT_TOKENS = Settings.model_fields["local_context_tokens"].default  # RAG_LOCAL_CONTEXT_TOKENS

TokenCounter = Callable[[str], int]
_WIDE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
_CLAUSE_END = re.compile(r"(?<=[，；：])")
# In a place list or a comparison each side needs room: a longer sentence keeps only its clauses
# that hold a question term (or a figure, for "多少" questions).
CLAUSE_TRIM_TOKENS = 50
# What an article's header line and a citation number cost in a budgeted context, about.
HEADER_TOKENS = 16
MIN_SIDE_TOKENS = 12  # less than this says nothing: the side is left out


def estimate_tokens(text: str) -> int:
    """Without the model's tokenizer: Qwen-style BPE spends ~0.6 token per Chinese character and
    ~1 per other character (digits are single tokens); rounded up to stay on the safe side."""
    wide = len(_WIDE.findall(text))
    return math.ceil(0.65 * wide + 1.1 * (len(text) - wide))


def context_numbers(q: Question, evidence: Evidence, limit: int) -> list[int]:
    """The best paragraph per place for place questions, else the top few by evidence (for a
    comparison, the best of each side first)."""
    if q.wants_places:  # only the places the evidence supports, one paragraph each
        return sorted({c.n for c in evidence.places or evidence.candidates[:1]})[: max(limit, 10)]
    ranked: list[int] = []
    if len(q.places) >= 2 or q.per_article:  # a comparison: each side's best paragraph first
        ranked = [c.n for c in best_per_group(q, evidence.candidates)][:limit]
    for c in evidence.candidates:
        if c.n not in ranked:
            ranked.append(c.n)
    return sorted(ranked[:limit])


def short_title(title: str, place: str) -> str:
    """“山东省莱阳市：实施“幸福共营”工程 推动治理水平跃升” → “实施“幸福共营”工程”: the place
    is in the header already, and the first phrase of a headline carries its topic."""
    title = headline(title)
    if place and title.startswith(place):
        title = title[len(place):]
    title = re.split(r"\s+|——", title.strip())[0]
    return title[:16]


def build_context(docs: list[Document], shown: list[int], evidence: Evidence, compact: bool,
                  budget: int = 0, count: TokenCounter | None = None, q: Question | None = None) -> str:
    """`compact`: only the sentences of each paragraph that bear on the question (citations still
    point at whole paragraphs). `budget` > 0 (compact only): the best of those sentences across
    the shown paragraphs that fit in `budget` tokens, counted by `count` (the model's tokenizer)
    or estimated, under a short header per article (place and short title). For place lists and
    comparisons (`q`) every shown paragraph gets its best sentence before any gets a second."""
    if compact and budget > 0:
        return _budgeted(docs, shown, evidence, budget, count or estimate_tokens, q)

    def body(n: int) -> str:
        text = docs[n - 1].page_content
        if not compact:
            return text
        relevant = [c for c in evidence.candidates if c.n == n][:3]
        relevant.sort(key=lambda c: text.find(c.sentence))
        return "".join(c.sentence for c in relevant) or text[:200]

    return "\n\n".join(
        f"[{n}] 地点：{docs[n - 1].metadata['place_full']}｜文章：{docs[n - 1].metadata['title']}\n{body(n)}"
        for n in shown)


def _budgeted(docs, shown, evidence, budget: int, count: TokenCounter, q: Question | None) -> str:
    spread = q is not None and (q.wants_places or len(q.places) >= 2 or q.per_article)
    allowed = set(shown)
    ranked = [c for c in evidence.candidates if c.n in allowed]
    if not ranked:  # nothing scored in the shown paragraphs: their openings
        ranked = [Candidate(n, docs[n - 1], docs[n - 1].page_content[:120], {}) for n in shown]
    order = ranked
    if spread:  # every place (or report) its best sentence first, then each paragraph its best
        group = (lambda c: (c.doc.metadata["doc"], c.doc.metadata["article"])) if q.per_article and len(q.places) < 2 else (
            lambda c: c.place)
        pool = [c for c in evidence.candidates if c.n in allowed]  # a side may match only by its paragraph
        firsts, seen, taken = [], set(), set()
        for key, candidates in ((group, pool), (lambda c: c.n, ranked)):
            for c in candidates:
                if key(c) not in seen and id(c) not in taken:
                    seen.add(key(c))
                    taken.add(id(c))
                    firsts.append(c)
        # each place's (or report's) best sentence gets a fair share of the budget, so one long
        # sentence of the first side cannot leave the other side out
        groups = len({group(c) for c in firsts})
        share = max(budget // max(groups, 1) - 12, 20)
        order = ([_cut(_trimmed(c, q, count), share, count) for c in firsts[:groups]]
                 + [_trimmed(c, q, count) for c in firsts[groups:] + [c for c in ranked if id(c) not in taken]])
    sides = len({group(c) for c in firsts}) if spread else 1
    chosen: list[Candidate] = []
    for i, c in enumerate(order):
        if any(x.sentence == c.sentence for x in chosen):
            continue
        if not chosen or count(_render(docs, chosen + [c])) <= budget:
            chosen.append(c)  # the best sentence always goes in, whatever its length
        elif i < sides:  # a side of the comparison still gets its say, in what room is left
            room = budget - count(_render(docs, chosen)) - HEADER_TOKENS
            while room >= MIN_SIDE_TOKENS:
                shorter = _cut(c, room, count)
                if count(_render(docs, chosen + [shorter])) <= budget:
                    chosen.append(shorter)
                    break
                room -= 4
    return _render(docs, chosen)


def _cut(c: Candidate, tokens: int, count: TokenCounter) -> Candidate:
    """The sentence's opening that fits in `tokens`, marked "…" when cut."""
    if count(c.sentence) <= tokens:
        return c
    low, high = 0, len(c.sentence)
    while low < high:  # the longest prefix that fits
        mid = (low + high + 1) // 2
        if count(c.sentence[:mid] + "…") <= tokens:
            low = mid
        else:
            high = mid - 1
    return replace(c, sentence=c.sentence[:low] + "…")


def _trimmed(c: Candidate, q: Question, count: TokenCounter) -> Candidate:
    if count(c.sentence) <= CLAUSE_TRIM_TOKENS:
        return c
    clauses = [x for x in _CLAUSE_END.split(c.sentence) if x]
    keep = [i for i, x in enumerate(clauses) if _bears_on(x, q)]
    if not keep or len(keep) == len(clauses):
        return c
    parts, last = [], -1
    for i in keep:
        parts.append(("…" if i > last + 1 else "") + clauses[i])
        last = i
    text = "".join(parts).rstrip("，；：") + ("" if last == len(clauses) - 1 else "…")
    return replace(c, sentence=text)


def _bears_on(clause: str, q: Question) -> bool:
    if q.numeric and re.search(r"\d", clause):
        return True
    return any(phrase_in(p, clause) for p in q.quoted) or any(t in clause for t in q.terms)


def _render(docs: list[Document], chosen: list[Candidate]) -> str:
    """Grouped by article, paragraphs in retrieval order, sentences in the order they are written."""
    by_n: dict[int, list[Candidate]] = {}
    for c in chosen:
        by_n.setdefault(c.n, []).append(c)
    first_n: dict[tuple[str, int], int] = {}
    for n in sorted(by_n):
        first_n.setdefault(_article(docs[n - 1]), n)
    lines, header = [], None
    for n in sorted(by_n, key=lambda n: (first_n[_article(docs[n - 1])], n)):
        d = docs[n - 1]
        title = short_title(d.metadata.get("title", ""), d.metadata.get("place", ""))
        h = f"【{d.metadata.get('place', '')}｜{title}】" if title else f"【{d.metadata.get('place', '')}】"
        if (h, _article(d)) != header:
            lines.append(h)
            header = (h, _article(d))
        lines.append(f"[{n}] " + _joined(d.page_content, [c.sentence for c in by_n[n]]))
    return "\n".join(lines)


def _joined(text: str, sentences: list[str]) -> str:
    """In the order they are written, "…" where the paragraph skips something between them."""
    def start(s: str) -> int:
        return text.find(next((p for p in s.split("…") if p), s))

    out, end = "", None
    for s in sorted(sentences, key=start):
        if end is not None and not text.startswith(s, end) and not out.endswith("…") and not s.startswith("…"):
            out += "…"
        out += s
        end = start(s) + len(s) if "…" not in s else -1
    return out


def _article(d: Document) -> tuple[str, int]:
    return d.metadata.get("doc", ""), d.metadata.get("article", 0)
