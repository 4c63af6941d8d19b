"""Answers composed from the retrieved sentences themselves, and the evidence test every backend
uses to decide whether the documents answer a question at all.

Sentences are scored by how much of the question's key terms they (and their paragraph) hold.
"哪些地方…" questions get one line per matching place; comparisons and "两篇报道…" one line per
article. Nothing is generated, so every sentence is grounded by construction.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from langchain_core.documents import Document

from .questions import Question
from .schema import headline
from .verify import key_terms, normalise, sentences_of

_QUALIFIER_BEFORE = re.compile(r"之前|以前|此前|原来|原先|起初|最初")
SCORE_THRESHOLD = 0.5
BROAD_THRESHOLD = 0.35
PLACE_LINE_THRESHOLD = 0.6
NAMED_GROUP_FLOOR = 0.15


@dataclass
class Candidate:
    n: int  # citation number: position in the numbered context, from 1
    doc: Document
    sentence: str
    sentence_coverage: float
    paragraph_coverage: float

    @property
    def score(self) -> float:
        return 0.6 * self.sentence_coverage + 0.4 * self.paragraph_coverage

    @property
    def place(self) -> str:
        return self.doc.metadata.get("place", "")

    @property
    def place_full(self) -> str:
        return self.doc.metadata.get("place_full", "")


@dataclass
class Evidence:
    answerable: bool
    reason: str = ""  # why not, in the user's language
    candidates: list[Candidate] = field(default_factory=list)  # best first
    listing: bool = False  # the question asks only which reports there are (of a region, of places)


def phrase_in(phrase: str, text: str) -> bool:
    """“吹哨报到” is in "网格吹哨，部门报到" too: verbatim, or every word of it."""
    phrase, text = normalise(phrase), normalise(text)
    if phrase in text:
        return True
    words = [w for w in key_terms(phrase) if len(w) >= 2]
    return bool(words) and all(w in text for w in words)


def _coverage(weights: dict[str | tuple[str, ...], float], text: str, before: str = "") -> float:
    """The weighted share of the question's terms in `text`. A long, weighty term — a named
    practice (“丰彩桑榆”) or a four-character name — may also be earlier in the paragraph
    (`before`): "打造“丰彩桑榆”品牌…。…服务老年人4522人次" is about it."""
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(w for t, w in weights.items()
               if _holds(t, w, text) or (w >= 4 and isinstance(t, str) and len(t) > 3 and _holds(t, w, before))
               ) / total


def _holds(term: str | tuple[str, ...], weight: float, text: str) -> bool:
    if isinstance(term, tuple):  # alternatives: any one will do, as written (老年大学的食堂 is no 老年食堂)
        return any(t in text for t in term)
    return phrase_in(term, text) if weight >= 4 and len(term) > 3 else term in text


def _weights(q: Question, rarity: Callable[[str], float] | None = None) -> dict[str, float]:
    """Longer and rarer terms weigh more: in this corpus 社区, 服务 and 治理 are in almost every
    paragraph, while 骑手 or 基金 decide whether a paragraph is about the question."""
    def weight(term: str) -> float:
        # a verb says how a thing was done (推行, 设立, 建了), and reports vary it: half weight
        return min(len(term), 4) * (rarity(term) if rarity else 1.0) * (0.5 if term in q.verbs else 1.0)

    # words only in a group or a named practice count with it, not again on their own
    phrases = [p for group in q.alternatives for p in group] + q.quoted
    rest = q.text
    for phrase in phrases:
        rest = rest.replace(phrase, " ")
    grouped = [t for t in q.terms if t not in rest and any(t in p for p in phrases)]
    weights: dict[str | tuple[str, ...], float] = {t: weight(t) for t in q.terms if t not in grouped}
    for group in q.alternatives:
        # the mean of its wordings: one a user made up must not make it decisive
        weights[tuple(normalise(p) for p in group)] = sum(weight(p) for p in group) / len(group)
    # A named practice weighs as much as the rest of the question; in "哪些地方…“X”" it is what
    # is looked for, so twice as much.
    share = 2.0 if q.wants_places else 1.0
    for phrase in q.quoted:
        weights[normalise(phrase)] = max(4.0, share * sum(weights.values()))
    return weights


def assess(q: Question, docs: list[Document], rarity: Callable[[str], float] | None = None) -> Evidence:
    """Do the retrieved paragraphs answer the question? Decided on evidence, not on a model's say."""
    if q.unknown_places and not q.places:
        return Evidence(False, f"已导入的文档中没有关于{'、'.join(q.unknown_places)}的报道。")
    pool = list(enumerate(docs, start=1))
    if q.places:
        pool = [(n, d) for n, d in pool if any(p in d.metadata.get("place_full", "") for p in q.places)]
        if not pool:
            return Evidence(False, f"检索到的段落中没有关于{'、'.join(q.places)}的内容。")
    if q.years:
        pool = [(n, d) for n, d in pool if all(y in d.page_content for y in q.years)]
        if not pool:
            where = "、".join(q.places)
            return Evidence(False, f"文档中没有{where}{'、'.join(q.years)}年的相关内容。")
    weights = _weights(q, rarity)
    # "有哪些广东省的地方", "莱阳和汕头有什么不同", "岑溪的两篇报道分别讲了什么": the reports themselves
    if not weights and q.places and (q.wants_places or q.per_article or len(q.places) >= 2):
        return Evidence(True, "", [Candidate(n, d, _first_sentence(d), 1.0, 1.0) for n, d in pool], listing=True)
    if not weights:
        return Evidence(False, "问题中没有可以检索的关键词，请换个说法。")
    candidates = []
    for n, d in pool:
        paragraph_cov = _coverage(weights, normalise(d.metadata.get("title", "") + d.page_content))
        before = ""
        for sentence in sentences_of(d.page_content):  # quoted as written, matched normalised
            sentence = sentence.strip()
            if len(sentence) >= 6:
                coverage = _coverage(weights, normalise(sentence), normalise(before))
                candidates.append(Candidate(n, d, sentence, coverage, paragraph_cov))
            before += sentence
    broad = q.per_article or len(q.places) >= 2  # comparisons: each side may word it differently
    if q.numeric:  # a figure, in a sentence that names what is counted
        candidates = [c for c in candidates if re.search(r"\d", c.sentence)
                      and (broad or _counts_what_is_asked(q, normalise(c.sentence)))]
        if _QUALIFIER_BEFORE.search(q.text):  # "…之前的收缴率": only a "从…到…" figure answers it
            candidates = [c for c in candidates if re.search(r"[从由]\s*\d", c.sentence)]
    if q.asks_when:
        candidates = [c for c in candidates if re.search(r"\d{4}\s*年", c.sentence)]
    candidates.sort(key=lambda c: (-c.score, c.n))
    if not candidates or candidates[0].score < (BROAD_THRESHOLD if broad else SCORE_THRESHOLD):
        return Evidence(False, f"在已导入的文档中没有找到能回答这个问题的内容（检索词：{'、'.join(q.terms)}）。",
                        candidates)
    return Evidence(True, "", candidates)


def _counts_what_is_asked(q: Question, sentence: str) -> bool:
    return (all(t in sentence for t in q.measure_terms)
            and (not q.measure_context or any(t in sentence for t in q.measure_context)))


def compose(q: Question, evidence: Evidence) -> str:
    """The extractive answer: the best sentences, each with its citation."""
    cands = evidence.candidates
    if evidence.listing:
        where = "、".join(q.places)
        if q.wants_places:
            return "\n".join([f"文档中属于{where}的地方："] + [_title_line(c) for c in best_per_group(q, cands)])
        reports = {_report(c): c for c in reversed(cands)}  # each report's best-ranked paragraph
        lines = [_title_line(c) for c in sorted(reports.values(), key=lambda c: c.n)]
        return "\n".join([f"文档中关于{where}的报道："] + lines)
    if q.wants_places or len(q.places) >= 2 or q.per_article:
        lines = _grouped_lines(q, cands)
        if len(lines) > 1 or (lines and q.wants_places):
            intro = "文档中有相关做法的地方：" if q.wants_places else ""
            return "\n".join(([intro] if intro else []) + lines)
    best = cands[0]
    chosen = [best]
    if q.how:  # a "how" answer is the best paragraph's relevant sentences, in their order
        chosen += [c for c in cands[1:] if c.n == best.n and c.sentence_coverage > 0][:3]
    for c in cands[1:]:
        if len(chosen) >= (4 if q.how else 2):
            break
        if c.score >= 0.85 * best.score and c.sentence not in {x.sentence for x in chosen}:
            chosen.append(c)
    chosen.sort(key=lambda c: (c.n, c.doc.page_content.find(c.sentence)))
    return "\n".join(_line(c, with_place=(i == 0 or c.place != chosen[i - 1].place)) for i, c in enumerate(chosen))


def best_per_group(q: Question, cands: list[Candidate]) -> list[Candidate]:
    """The best sentence of each place that answers a "哪些地方…" question, or of each place or
    article a comparison names ("两篇报道分别…")."""
    by_group: dict[str, Candidate] = {}
    best = cands[0].score if cands else 0.0
    for c in cands:
        key = _group_key(q, c)
        if key in by_group:
            continue
        if q.wants_places:  # places that answer well, or about as well as the best one
            ok = (c.score >= min(PLACE_LINE_THRESHOLD, 0.9 * best)
                  and all(phrase_in(p, c.doc.page_content) for p in q.quoted))
        elif q.places:  # the places compared were named by the user: each gets its closest sentence
            ok = c.score >= NAMED_GROUP_FLOOR or q.per_article  # (or, for a report, its title)
        else:
            ok = c.score >= max(0.35, 0.5 * best)
        if ok:
            by_group[key] = c
    return list(by_group.values())


def _grouped_lines(q: Question, cands: list[Candidate]) -> list[str]:
    """One line per group. A comparison's line may hold a second sentence of the same group when
    it scores nearly as well: the two sides of a comparison are rarely one sentence each."""
    lines = []
    for first in best_per_group(q, cands):
        if first.score < NAMED_GROUP_FLOOR:  # nothing in this report matches: what it is about
            lines.append(_title_line(first))
            continue
        chosen = [first]
        if not q.wants_places:
            same = [c for c in cands if _group_key(q, c) == _group_key(q, first) and c.sentence != first.sentence]
            if same and same[0].score >= 0.8 * first.score:
                chosen.append(same[0])
        chosen.sort(key=lambda c: (c.n, c.doc.page_content.find(c.sentence)))
        head = _line(chosen[0], with_place=True, with_title=q.per_article and len(q.places) < 2)
        lines.append("- " + head + "".join(_line(c, with_place=False) for c in chosen[1:]))
    return lines


def _first_sentence(d: Document) -> str:
    sentences = sentences_of(d.page_content)
    return sentences[0].strip() if sentences else d.page_content


def _group_key(q: Question, c: Candidate) -> str:
    return _report(c) if q.per_article else c.place


def _report(c: Candidate) -> str:
    return f"{c.doc.metadata['doc']}:{c.doc.metadata['article']}"


def _title_line(c: Candidate) -> str:
    """"- 罗定市（…）《title》[n]。": a report named by its place and title alone."""
    return f"- {_who(c, with_title=True)}[{c.n}]。"


def _line(c: Candidate, with_place: bool, with_title: bool = False) -> str:
    sentence = c.sentence
    end = ""
    if sentence and sentence[-1] in "。！？!?；;":
        sentence, end = sentence[:-1], "。"
    prefix = ""
    if with_place and c.place and (c.place not in sentence or with_title):
        prefix = _who(c, with_title) + "："
    return f"{prefix}{sentence}[{c.n}]{end}"


def _who(c: Candidate, with_title: bool) -> str:
    """"莱阳市（山东省烟台市莱阳市）", with the report's title when asked ("两篇报道…": which says what)."""
    who = f"{c.place}（{c.place_full}）" if c.place_full and c.place_full != c.place else c.place
    title = c.doc.metadata.get("title", "")
    if with_title and title:
        who += f"《{headline(title)}》"
    return who
