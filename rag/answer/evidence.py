"""Evidence: which retrieved sentences answer the question, and whether any does.

Every sentence of the retrieved paragraphs is described by a few features — how close it is in
meaning to the question (sentence vectors from the index's own model), how close its paragraph
is, how it ranked in retrieval, how much of the question's rarer words it and its paragraph
hold, whether it holds the figure a "多少" question asks for — and a logistic model fitted on
labelled questions (`eval/fit.py`, parameters in `evidence_model.json`) turns them into the
probability that the sentence answers. The question is answered when the best sentence is
likely enough; thresholds come from the same fit.

A few cases are decided before any scoring, because no wording can change them: a place the
corpus does not cover, a year no retrieved paragraph mentions.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from langchain_core.documents import Document

from ..sentences import scored_sentences
from ..text import (FIGURE, YEAR, arabic_numbers, figure_values, in_dictionary, key_terms, normalise, number_value,
                    pos_tags)
from .asked_places import names_other_locality
from .question import OFFICES, QUOTED, Question, holds_measure

MODEL_FILE = Path(__file__).with_name("evidence_model.json")
IN_HALF_THE_PARAGRAPHS = 1 + math.log(2)  # the rarity (rag.lexical: 1 + ln(rows / df)) of a word in half the rows
_COMPARES = re.compile(r"相比|比较|对比|比起|比一比|区别|差别|不一样|异同|谁[更多少快好]")
# what answers "哪一年 / 什么时候 / 哪个朝代": a year, a dynasty, a decade
_TIME = re.compile(r"\d{4}\s*年|[夏商周秦汉晋隋唐宋元明清]朝|[秦汉隋唐宋元明清]代|\d+\s*世纪|\d+\s*年代")
# what answers "几月份", "几号", "哪天": a month, a day of the month or of the week ("每月第一个星期五")
_A_DAY = re.compile(r"\d{1,2}\s*[月日号]|星期[一二三四五六日天]|礼拜[一二三四五六日天]|周[一二三四五六日末]")
_QUALIFIER_BEFORE = re.compile(r"之前|以前|此前|原来|原先|起初|最初")
# what a figure a change arrives at follows: "调整为19个", "提升至93%", "从3万多人变为1万人"
CHANGED_TO = re.compile(r"(?:为|到|至|成)\s*$")
# who a report names by office: "文旅行业党委书记黄耀强"
_OFFICE = re.compile(rf"(?:{'|'.join(OFFICES + ('委员', '代表'))})$")
# the hundred commonest Chinese surnames (公安部 2020 list), to tell a name jieba tags "nr" from a
# word it mistags (岑溪市, 幸福感)
_SURNAMES = frozenset("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜"
                      "崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易"
                      "乔赖文阎")
# A figure as reports write one: digits, or a numeral with a counting word (两个, 三十名); not the
# numerals of set phrases ("一套组合拳", "三化六好").
_HAS_FIGURE = re.compile(r"\d|[两三四五六七八九十百千万]+[个名家项次户件位所人元]")

# a numeral and its measure word jieba cuts off a name (四点 of 四点半课堂, 三张 of 三张清单): no named thing
_NUMERAL_PIECE = re.compile(r"[一二两三四五六七八九十百千万几\d]+[个点张类项条名家种大]?")

FEATURES = (
    "sentence_similarity",  # cosine of question and sentence vectors
    "paragraph_similarity",  # cosine of question and the paragraph's best chunk vector
    "similarity_gap",  # this sentence's similarity less the best one's in the pool (≤ 0)
    "bm25",  # the paragraph's BM25 score over the pool's best
    "retrieval_rank",  # 1 / rank of the paragraph in the fused retrieval
    "sentence_coverage",  # weighted share of the question's terms in the sentence
    "paragraph_coverage",  # the same over the paragraph and its title
    "figure_missing",  # a figure is asked for and the sentence has none
    "figure_matches",  # the figure the question states (1.2万, 九成) is in the sentence
    "measure_found",  # what a figure question counts (人次, 乡贤) is in the sentence
    "unit_found",  # a figure of the kind asked for (元 for 多少钱, % for 几成) is in the sentence
    "quote_missing",  # the question quotes a name (“红色物业”) that the paragraph lacks
    "rare_term_found",  # +1 / -1: the paragraph holds the question's rarest word the documents use (老干部)
    "change_found",  # +1 / -1: "后来调成了几个" and the sentence states a figure changed to ("调整为19个")
)


# Whether the documents answer at all is judged on the question's best candidates together.
QUESTION_FEATURES = (
    "best_probability",  # the best sentence's probability
    "best_similarity",  # the closest sentence in meaning, among the best three
    "best_coverage",  # the largest share of the question's terms in one of the best three sentences
    "best_paragraph_coverage",  # the same over their paragraphs
    "figure_counted",  # a figure question: +1 if one of the best five holds what it counts, else -1
    "rare_term_found",  # +1 / -1: the best paragraph holds the question's rarest word the documents use
)
TOP_SENTENCES = 3
TOP_FIGURES = 5

# "哪些地方…": whether a place qualifies is judged on all its candidates against the other places'.
PLACE_FEATURES = (
    "best_probability",  # the place's best sentence's probability
    "share_of_top",  # that over the best place's
    "similarity_gap",  # the place's closest sentence in meaning less the closest of all places (≤ 0)
    "best_coverage",  # the largest share of the question's terms in one of its sentences
    "best_paragraph_coverage",  # the same over its paragraphs
    "rare_term_found",  # +1 / -1: one of its paragraphs holds the question's rarest word the documents use
    "place_rank",  # 1 / rank of the place by its best probability
)


def place_features(by_place: dict[str, list[tuple[float, dict[str, float]]]]) -> dict[str, dict[str, float]]:
    """`by_place`: each place's candidates as (probability, features)."""
    best = {p: max(prob for prob, _ in cands) for p, cands in by_place.items() if cands}
    if not best:
        return {}
    top = max(best.values()) or 1.0
    closest = {p: max(f.get("sentence_similarity", 0.0) for _, f in by_place[p]) for p in best}
    nearest_of_all = max(closest.values())
    order = sorted(best, key=lambda p: -best[p])
    return {p: {
        "best_probability": best[p],
        "share_of_top": best[p] / top,
        "similarity_gap": closest[p] - nearest_of_all,
        "best_coverage": max(f.get("sentence_coverage", 0.0) for _, f in by_place[p]),
        "best_paragraph_coverage": max(f.get("paragraph_coverage", 0.0) for _, f in by_place[p]),
        "rare_term_found": max(f.get("rare_term_found", 0.0) for _, f in by_place[p]),
        "place_rank": 1.0 / (order.index(p) + 1),
    } for p in best}


def question_features(counts_something: bool, ranked: list[tuple[float, dict[str, float]]]) -> dict[str, float]:
    """`ranked`: (probability, features) of the candidates, best first; `counts_something`: the
    question asks for a figure and names what is counted."""
    top = ranked[:TOP_SENTENCES]
    rare = top[0][1].get("rare_term_found", 0.0)
    return {
        "best_probability": top[0][0],
        "best_similarity": max(f.get("sentence_similarity", 0.0) for _, f in top),
        "best_coverage": max(f.get("sentence_coverage", 0.0) for _, f in top),
        "best_paragraph_coverage": max(f.get("paragraph_coverage", 0.0) for _, f in top),
        "figure_counted": (1.0 if any(f.get("measure_found", 0.0) > 0 for _, f in ranked[:TOP_FIGURES]) else -1.0)
        if counts_something else 0.0,
        "rare_term_found": rare,
    }


@dataclass
class Candidate:
    n: int  # citation number: position in the numbered context, from 1
    doc: Document
    sentence: str
    features: dict[str, float]
    probability: float = 0.0

    @property
    def score(self) -> float:
        return self.probability

    @property
    def sentence_coverage(self) -> float:
        return self.features.get("sentence_coverage", 0.0)

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
    best: float = 0.0  # the best sentence's probability
    places: list[Candidate] = field(default_factory=list)  # "哪些地方…": each qualifying place's best
    # a clear refusal: nothing any backend could answer from (a place the corpus lacks, no
    # relevant paragraph at all); a generating backend is still asked the others
    clear: bool = False
    # a question asking two things: each part with its own evidence, answered one after the other
    parts: list[tuple[Question, Evidence]] = field(default_factory=list)

    def numbered_in(self, docs: list[Document]) -> Evidence:
        """The same evidence, its candidates cited by their paragraphs' places in `docs`."""
        at = {d.id: n for n, d in enumerate(docs, start=1)}
        for c in self.candidates:  # (its places are some of its candidates)
            c.n = at[c.doc.id]
        return self

    @classmethod
    def of_parts(cls, parts: list[tuple[Question, Evidence]]) -> Evidence:
        """Answerable when any part is; the candidates of all parts, best first."""
        seen, candidates = set(), []
        for c in sorted((c for _, e in parts for c in e.candidates), key=lambda c: -c.probability):
            if (c.n, c.sentence) not in seen:
                seen.add((c.n, c.sentence))
                candidates.append(c)
        answered = [e for _, e in parts if e.answerable]
        reason = "" if answered else parts[0][1].reason
        return cls(bool(answered), reason, candidates, best=max(e.best for _, e in parts),
                   clear=all(e.clear for _, e in parts), parts=parts)


@dataclass(frozen=True)
class Logistic:
    """A logistic regression over named, standardised features."""

    weights: dict[str, float]
    bias: float = 0.0
    mean: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)

    def __call__(self, features: dict[str, float]) -> float:
        z = self.bias + sum(w * (features.get(name, 0.0) - self.mean.get(name, 0.0)) / (self.scale.get(name, 1.0) or 1.0)
                            for name, w in self.weights.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def to_json(self) -> dict:
        return {"weights": self.weights, "bias": self.bias, "mean": self.mean, "scale": self.scale}


@dataclass(frozen=True)
class Shown:
    """What an extractive answer shows beside its best sentence: the sentences at least `floor`
    likely to answer, at most `how` of them for a how question (from the best paragraph first) and
    `fact` for any other. All three are fitted by eval/fit.py (the answers made right less the
    sentences shown); 4 and 2 are the caps chosen by hand before they were fitted."""

    floor: float
    how: int = 4
    fact: int = 2


@dataclass(frozen=True)
class EvidenceModel:
    """The fitted models and thresholds (eval/fit.py writes them to evidence_model.json)."""

    sentence: Logistic  # does this sentence answer the question? (over FEATURES)
    question: Logistic  # do the documents answer it at all? (over QUESTION_FEATURES)
    answer_threshold: float  # the question model's probability must reach this to answer
    place_threshold: float  # a place is listed for "哪些地方…" when its best sentence reaches this
    clear_threshold: float  # a best sentence below this: nothing relevant at all, for every backend
    meta: dict = field(default_factory=dict, compare=False, hash=False)
    place_share: float = 0.0  # …and a listed place reaches this share of the best place's probability
    # does this place qualify for "哪些地方…"? (over PLACE_FEATURES); with it, place_threshold
    # applies to its probability and place_share is not used
    place: Logistic | None = None
    # an answer shows, beside its best sentence, those at least this likely (None: place_threshold)
    sentence_threshold: float | None = None
    how_sentences: int = Shown.how  # …and at most this many for a how question
    fact_sentences: int = Shown.fact  # …or for any other

    @property
    def shown(self) -> Shown:
        floor = self.place_threshold if self.sentence_threshold is None else self.sentence_threshold
        return Shown(floor, self.how_sentences, self.fact_sentences)

    def probability(self, features: dict[str, float]) -> float:
        return self.sentence(features)

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> EvidenceModel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(sentence=Logistic(**data["sentence"]), question=Logistic(**data["question"]),
                   answer_threshold=data["thresholds"]["answer"], place_threshold=data["thresholds"]["place"],
                   clear_threshold=data["thresholds"]["clear"], meta=data.get("fitted", {}),
                   place_share=data["thresholds"].get("place_share", 0.0),
                   place=Logistic(**data["place"]) if data.get("place") else None,
                   sentence_threshold=data["thresholds"].get("sentence"),
                   how_sentences=data["thresholds"].get("how_sentences", Shown.how),
                   fact_sentences=data["thresholds"].get("fact_sentences", Shown.fact))


@lru_cache(maxsize=1)
def default_model() -> EvidenceModel:
    return EvidenceModel.load()


# A count a user puts into a name ("三张清单") is their summary; the report may count otherwise
# ("三个清单") or list the items without counting them ("需求清单…认领清单…项目清单").
_MEASURE_WORDS = "个张项类条种件"
_COUNT_WORD = re.compile(rf"([0-9一二两三四五六七八九十]+)[{_MEASURE_WORDS}]")


@lru_cache(maxsize=1024)
def _phrase_parts(phrase: str) -> tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """A quoted phrase as it is matched (a phrase is tried against every paragraph retrieved):
    normalised; its "A/B" alternatives; its words; the numbers it counts with."""
    phrase = normalise(phrase)
    words = [w for w in key_terms(phrase) if len(w) >= 2]
    return (phrase, tuple(p for p in re.split(r"[/／]", phrase) if p),
            tuple(w for w in words if not _COUNT_WORD.fullmatch(w)),
            tuple(m.group(1) for w in words if (m := _COUNT_WORD.fullmatch(w))))


def phrase_in(phrase: str, text: str) -> bool:
    """“吹哨报到” is in "网格吹哨，部门报到" too: verbatim, or every word of it; a count in it
    ("三张清单") as the same number with any measure word, or as that many mentions of what it
    counts. "A/B" is in a text that holds either."""
    phrase, parts, words, numbers = _phrase_parts(phrase)
    text = normalise(text)
    if len(parts) > 1:
        return any(phrase_in(p, text) for p in parts)
    if phrase in text:
        return True
    if not words or not all(w in text for w in words):
        return False
    counted = words[-1]
    for number in numbers:
        said = re.search(rf"{number}[{_MEASURE_WORDS}]?[“”\"]?{re.escape(counted)}", text)
        n = number_value(number)
        if not said and (n is None or text.count(counted) < n):
            return False
    return True


def term_weights(q: Question, rarity: Callable[[str], float] | None = None) -> dict[str | tuple[str, ...], float]:
    """Longer and rarer terms weigh more: in this corpus 社区, 服务 and 治理 are in almost every
    paragraph, while 骑手 or 基金 decide whether a paragraph is about the question. A verb says
    how a thing was done (推行, 设立), and reports vary it: half weight. Words of an "A或B" group,
    an "X等Y" pair or a quoted name count with it, not again on their own. An item of an "A或B"
    group also holds by its rarest word: a report's 长者食堂 is what "社区食堂或者助餐服务" asks for
    (not so the kind of an "X等Y": 新就业群体's 就业 is not 外卖骑手)."""
    def weight(term: str) -> float:
        return min(len(term), 4) * (rarity(term) if rarity else 1.0) * (0.5 if term in q.verbs else 1.0)

    groups = q.alternatives + q.examples
    phrases = [p for group in groups for p in group] + q.quoted
    rest = q.text
    for phrase in phrases:
        rest = rest.replace(phrase, " ")
    grouped = [t for t in q.terms if t not in rest and any(t in p for p in phrases)]
    weights: dict[str | tuple[str, ...], float] = {t: weight(t) for t in q.terms if t not in grouped}
    for group in groups:
        wordings = [normalise(p) for p in group]
        if group in q.alternatives and rarity:
            wordings += [w for p in wordings if (w := _rarest_word(p, rarity))]
        weights[tuple(dict.fromkeys(wordings))] = sum(weight(p) for p in group) / len(group)
    for phrase in q.quoted:
        weights[normalise(phrase)] = max(4.0, sum(weights.values()))
    return weights


def _rarest_word(phrase: str, rarity: Callable[[str], float]) -> str:
    """The rarest word of a phrase of several (食堂 of 社区食堂), unless most paragraphs use it (服务
    of 社区服务: a word in most of them says nothing about which one is meant)."""
    words = [w for w in key_terms(phrase) if len(w) >= 2]
    if len(words) < 2:
        return ""
    rarest = max(words, key=rarity)
    return rarest if rarity(rarest) > IN_HALF_THE_PARAGRAPHS else ""


def coverage(weights: dict[str | tuple[str, ...], float], text: str, before: str = "") -> float:
    """The weighted share of the question's terms in `text`. A long, weighty term — a named
    practice (“丰彩桑榆”) — may also be earlier in the paragraph (`before`)."""
    total = sum(weights.values())
    if not total:
        return 0.0
    return sum(w for t, w in weights.items()
               if _holds(t, w, text) or (w >= 4 and isinstance(t, str) and len(t) > 3 and _holds(t, w, before))
               ) / total


def _holds(term: str | tuple[str, ...], weight: float, text: str) -> bool:
    if isinstance(term, tuple):  # alternatives: any one will do, as written
        return any(t in text for t in term)
    return phrase_in(term, text) if weight >= 4 and len(term) > 3 else term in text


class EvidenceScorer:
    """Features and probabilities for the sentences of retrieved paragraphs.

    `sentence_vector(text)` and `paragraph_vector(doc)` give unit vectors from the index;
    `query_vector` is the question's own."""

    def __init__(self, model: EvidenceModel, sentence_vector: Callable[[list[str]], np.ndarray],
                 paragraph_vector: Callable[[Document], np.ndarray | None],
                 rarity: Callable[[str], float] | None = None,
                 doc_freq: Callable[[str], int] | None = None) -> None:
        self.model = model
        self.doc_freq = doc_freq
        self.sentence_vectors = sentence_vector
        self.paragraph_vector = paragraph_vector
        self.rarity = rarity

    def candidates(self, q: Question, query_vector: np.ndarray, pool: list[tuple[int, Document]]) -> list[Candidate]:
        weights = term_weights(q, self.rarity)
        rarest = self._rarest_term(q)
        bm25_best = max((d.metadata.get("bm25_score") or 0.0 for _, d in pool), default=0.0) or 1.0
        rows: list[tuple[int, Document, str, str]] = []  # (n, doc, sentence, text before it)
        for n, d in pool:
            before = ""
            for sentence in scored_sentences(d.page_content):
                rows.append((n, d, sentence, before))
                before += sentence
        if not rows:
            return []
        sims = self.sentence_vectors([r[2] for r in rows]) @ query_vector
        best_sim = float(sims.max())
        paragraphs: dict[int, dict[str, float]] = {}  # what a paragraph's sentences share, reckoned once
        out = []
        for (n, d, sentence, before), sim in zip(rows, sims):
            if n not in paragraphs:
                vector = self.paragraph_vector(d)
                whole = normalise(d.metadata.get("title", "") + d.page_content)
                paragraphs[n] = {
                    "paragraph_similarity": float(vector @ query_vector) if vector is not None else float(sim),
                    "paragraph_coverage": coverage(weights, whole),
                    "quote_missing": float(bool(q.quoted) and not all(phrase_in(p, d.page_content) for p in q.quoted)),
                    "rare_term_found": 0.0 if not rarest else (1.0 if rarest in whole else -1.0),
                }
            norm = normalise(sentence)
            features = {
                "sentence_similarity": float(sim),
                "similarity_gap": float(sim) - best_sim,
                "bm25": (d.metadata.get("bm25_score") or 0.0) / bm25_best,
                "retrieval_rank": 1.0 / n,
                "sentence_coverage": coverage(weights, norm, normalise(before)),
                **paragraphs[n],
                **_figure_features(q, sentence),
                "change_found": 0.0 if not q.after_change else (1.0 if changed_to(q, norm) else -1.0),
            }
            out.append(Candidate(n, d, sentence, features, self.model.probability(features)))
        out.sort(key=lambda c: (-c.probability, c.n))
        return out

    def _rarest_term(self, q: Question) -> str:
        """The question's word that the fewest paragraphs use, among those some paragraph uses
        (石围, 金丰: a named thing). "" without a word the documents use, or without counts."""
        if self.doc_freq is None:
            return ""
        used = [(self.doc_freq(t), t) for t in q.terms if len(t) >= 2 and not _NUMERAL_PIECE.fullmatch(t)]
        used = [(df, t) for df, t in used if df > 0]
        return min(used)[1] if used else ""

    def assess(self, q: Question, docs: list[Document], query_vector: np.ndarray) -> Evidence:
        """Do the retrieved paragraphs answer the question? Decided on evidence, for every backend."""
        if q.unknown_places and not q.excluded and (not q.places or _COMPARES.search(q.text)):
            # "杭州的共富工坊跟烟台的幸福工坊比": one side of a comparison is missing
            return Evidence(False, f"已导入的文档中没有关于{'、'.join(q.unknown_places)}的报道。", clear=True)
        pool = list(enumerate(docs, start=1))
        if q.excluded:
            pool = [(n, d) for n, d in pool if not any(p in d.metadata.get("place_full", "") for p in q.excluded)]
        if q.places:
            pool = [(n, d) for n, d in pool if any(p in d.metadata.get("place_full", "") for p in q.places)]
            if not pool:
                return Evidence(False, f"检索到的段落中没有关于{'、'.join(q.places)}的内容。", clear=True)
        if q.quoted and not q.comparison:  # “五星”支部: a report that never names it is not about it
            # a quote no retrieved report names is the user's own wording (“自我造血”, “先免费体验、再
            # 花点钱上系统课”), not a name: the paragraphs are judged without it (quote_missing)
            named = _articles_naming(pool, quoted_names(q.quoted), every=not q.quotes_either)
            pool = [(n, d) for n, d in pool if _article(d) in named] or pool
        if q.named_plain:  # "还有哪搞幸福工坊": the same, for a name the reports quote
            named = _articles_naming(pool, q.named_plain, every=True)
            pool = [(n, d) for n, d in pool if _article(d) in named] or pool
        if q.localities:  # 石围社区's figure is not 北区社区's
            pool = [(n, d) for n, d in pool if any(x in d.page_content for x in q.localities)
                    or not names_other_locality(d.page_content, q.localities)]
            if not pool:
                return Evidence(False, f"检索到的段落中没有关于{'、'.join(q.localities)}的内容。")
        if q.years:
            pool = [(n, d) for n, d in pool if all(y in d.page_content for y in q.years)]
            if not pool:
                where = "、".join(q.places)
                return Evidence(False, f"文档中没有{where}{'、'.join(q.years)}年的相关内容。", clear=True)
        # "有哪些广东省的地方", "莱阳和汕头有什么不同", "岑溪的两篇报道分别讲了什么": the reports themselves
        if not q.terms and not q.quoted and q.places and (q.wants_places or q.per_article or len(q.places) >= 2):
            listing = [Candidate(n, d, _first_sentence(d), {}, 1.0) for n, d in pool]
            return Evidence(True, "", listing, listing=True, best=1.0)
        candidates = self.candidates(q, query_vector, pool)
        if q.asks_when:
            candidates = [c for c in candidates if _TIME.search(c.sentence)]
        if q.asks_day:
            candidates = [c for c in candidates if _A_DAY.search(c.sentence)]
        if q.numeric:  # a "多少" question is answered by a sentence with a figure in it
            candidates = [c for c in candidates if not c.features.get("figure_missing")]
        if q.units:  # "多少钱" is not answered by a count of people: a figure of the kind asked
            candidates = [c for c in candidates if c.features.get("unit_found", 0.0) > 0]
        for wordings in q.rates:  # "日均多少人次" is not answered by a total
            candidates = [c for c in candidates if any(w in c.sentence for w in wordings)]
        if q.members:  # "具体是哪6类" is not answered by "明确6种类别乡贤"
            candidates = [c for c in candidates if lists(c.sentence, *q.members)]
        if q.asks_person:  # "党委书记叫啥名字" is not answered by "由社区党委书记担任法人"
            candidates = [c for c in candidates if person_named(c.sentence)]
        if q.numeric and _asks_before(q.text):  # "…之前的收缴率": only a "从…到…" figure answers it
            candidates = [c for c in candidates if re.search(r"[从由]\s*\d", c.sentence)]
        best = candidates[0].probability if candidates else 0.0
        answers = self.model.question(question_features(
            q.numeric and bool(q.measure_terms), [(c.probability, c.features) for c in candidates])) if candidates else 0.0
        if answers < self.model.answer_threshold:
            terms = "、".join(q.terms) if q.terms else "（无）"
            return Evidence(False, f"在已导入的文档中没有找到能回答这个问题的内容（检索词：{terms}）。", candidates,
                            best=best, clear=best < self.model.clear_threshold)
        return Evidence(True, "", candidates, best=best)

    def places_with_evidence(self, q: Question, candidates: list[Candidate]) -> list[Candidate]:
        """For "哪些地方…": each place's best sentence, for every place whose best sentence is
        likely enough to answer. (Only reports naming a name the question quotes have
        candidates: “红色物业”, a place that has no such thing does not have it.)"""
        by_place: dict[str, Candidate] = {}
        groups: dict[str, list[tuple[float, dict[str, float]]]] = {}
        for c in candidates:
            if c.place and c.place not in q.excluded:
                by_place.setdefault(c.place, c)
                groups.setdefault(c.place, []).append((c.probability, c.features))
        if self.model.place is not None:
            features = place_features(groups)
            return [c for c in by_place.values() if self.model.place(features[c.place]) >= self.model.place_threshold]
        top = max((c.probability for c in by_place.values()), default=0.0)
        return [c for c in by_place.values() if c.probability >= self.model.place_threshold
                and c.probability >= self.model.place_share * top]


def quoted_names(quoted: list[str]) -> list[str]:
    """The quoted names a report must name: a word of the language in quotes beside a name
    ("让小区有个“主心骨”，这种“支部建在小区”的做法") is the user's emphasis."""
    names = [p for p in quoted if not in_dictionary(p)]
    return names or quoted


def _article(d: Document) -> tuple[str, int]:
    return d.metadata.get("doc", ""), d.metadata.get("article", 0)


def _articles_naming(pool: list[tuple[int, Document]], quoted: list[str], every: bool) -> set[tuple[str, int]]:
    """The reports (document, article) of which a paragraph in `pool` names every quoted name, or
    with `every` False any one ("“15分钟服务圈”“15分钟生活圈”这种提法…"): a report names its
    practice once and goes on about it (“头雁培育” …, then "已开展7期")."""
    test = all if every else any
    return {_article(d) for _, d in pool if test(phrase_in(p, d.metadata.get("title", "") + d.page_content) for p in quoted)}


def _figure_features(q: Question, sentence: str) -> dict[str, float]:
    if not q.numeric and not q.figures:
        return {"figure_missing": 0.0, "figure_matches": 0.0, "measure_found": 0.0, "unit_found": 0.0}
    has_figure = bool(_HAS_FIGURE.search(YEAR.sub("", normalise(sentence))))  # "2025年以来" counts nothing
    text = arabic_numbers(normalise(sentence))
    values = figure_values(text)
    matches = any(abs(v - f) <= 0.1 * max(abs(f), 1.0) for f in q.figures for v in values)
    measure = bool(q.measure_terms) and all(holds_measure(t, text) for t in q.measure_terms) and (
        not q.measure_context or any(t in text for t in q.measure_context))
    unit = bool(q.units) and any(re.search(rf"\d\s*(?:余|多)?(?:万|亿)?(?:余|多)?{re.escape(u)}", text) for u in q.units)
    return {"figure_missing": float(q.numeric and not has_figure), "figure_matches": float(matches),
            "measure_found": float(measure), "unit_found": float(unit) - float(bool(q.units) and not unit)}


def changed_to(q: Question, sentence: str) -> str:
    """The figure of the kind asked for that a change in `sentence` arrives at ("调整为19个" → 19个), or ""."""
    text = arabic_numbers(normalise(sentence))
    for m in FIGURE.finditer(text):
        unit = (m.group(2) or "") + (m.group(3) or "")
        if CHANGED_TO.search(text[:m.start()]) and (not q.units or any(unit.lstrip("余多").startswith(u)
                                                                         or (m.group(3) or "").startswith(u)
                                                                         for u in q.units)):
            return m.group(0)
    return ""


def _asks_before(text: str) -> bool:
    """Whether the figure asked for is the one before a change: "之前的收缴率是多少" — a qualifier in
    a clause that asks the figure, not "把原来的网格员转成社区工作者，转了多少人"."""
    return any(_QUALIFIER_BEFORE.search(c) and re.search(r"多少|几", c) for c in re.split(r"[，,。？?！!；;]", text))


def lists(sentence: str, count: int, kind: str = "") -> bool:
    """Whether `sentence` names at least `count` things (of `kind`, when given: "石围社区、北区社区"),
    one after another ("A、B和C", “A”“B”)."""
    def named(items: list[str]) -> int:
        return sum(1 for x in items if x.strip() and (not kind or kind in x))

    clauses = re.split(r"[，,。；;：:！!？?]", sentence)
    listed = max((named(re.split(r"、|以及|及|和|与", c)) for c in clauses if "、" in c), default=0)
    quoted = named(QUOTED.findall(sentence))
    return max(listed, quoted) >= count


def person_named(sentence: str) -> str:
    """The person a sentence names by office ("党委书记黄耀强" → 黄耀强), or ""."""
    tags = pos_tags(sentence)
    for (before, _), (word, flag) in zip(tags, tags[1:]):
        if flag == "nr" and 2 <= len(word) <= 3 and word[0] in _SURNAMES and _OFFICE.search(before):
            return word
    return ""


def _first_sentence(d: Document) -> str:
    sentences = scored_sentences(d.page_content)
    return sentences[0] if sentences else d.page_content
