"""What `rag eval` measures: the table of metrics (key, label, direction, whether it gates a
baseline), how places are matched, and the retrieval metrics over ranked paragraph ids. An
evidence group is a set of paragraph ids any of which holds one piece of required evidence; a
question may need several groups (one per place). Scoring answers is in rag.evaluate, the
reports in rag.report: both read this table, neither imports the other's internals."""
from __future__ import annotations

import math

from .schema import strip_suffix
from .text import normalise

RETRIEVAL_K = 5

# key, label, higher_is_better, headline (a drop beyond the tolerance fails `rag eval --baseline`)
METRICS: list[tuple[str, str, bool, bool]] = [
    ("answer_correct", "答案正确率", True, True),
    ("citation_hit", "引用命中证据", True, True),
    ("citation_recall", "引用召回（句子有据）", True, True),
    ("citation_precision", "引用精确率", True, True),
    (f"recall@{RETRIEVAL_K}", "检索召回", True, True),
    ("mrr", "检索倒数排名", True, True),
    ("ndcg@10", "检索排序质量", True, True),
    ("place_recall", "地点召回", True, True),
    ("place_precision", "地点精确率", True, True),
    ("refusal_accuracy", "拒答准确率", True, True),
    ("false_refusal", "误拒率", False, True),
    ("judge_correct", "LLM 评审正确率", True, False),  # only when a judge is configured
]
METRIC_KEYS = [m[0] for m in METRICS]
LABELS = {m[0]: m[1] for m in METRICS}
HIGHER_IS_BETTER = {m[0]: m[2] for m in METRICS}
HEADLINE = [m[0] for m in METRICS if m[3]]
STAGES = ("retrieve", "first_token", "generate", "total")


def place_key(name: str) -> str:
    """莱阳市 and 莱阳 are the same place."""
    name = normalise(name).strip()
    short = strip_suffix(name)
    return short if len(short) >= 2 else name


def recall_at_k(ranked: list[str], groups: list[set[str]], k: int) -> float:
    """Share of evidence groups with a paragraph in the top k."""
    groups = [g for g in groups if g]
    if not groups:
        return 0.0
    top = set(ranked[:k])
    return sum(bool(g & top) for g in groups) / len(groups)


def reciprocal_rank(ranked: list[str], groups: list[set[str]]) -> float:
    relevant = set().union(*groups) if groups else set()
    for rank, pid in enumerate(ranked, start=1):
        if pid in relevant:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: list[str], groups: list[set[str]], k: int = 10) -> float:
    """Binary gain: a paragraph counts once, for the first group it satisfies."""
    groups = [set(g) for g in groups if g]
    if not groups:
        return 0.0
    remaining = [set(g) for g in groups]
    dcg = 0.0
    for rank, pid in enumerate(ranked[:k], start=1):
        hit = next((g for g in remaining if pid in g), None)
        if hit is not None:
            remaining.remove(hit)
            dcg += 1.0 / math.log2(rank + 1)
    ideal = sum(1.0 / math.log2(r + 1) for r in range(1, min(len(groups), k) + 1))
    return dcg / ideal if ideal else 0.0
