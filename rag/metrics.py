"""Retrieval metrics over ranked paragraph ids. An evidence group is a set of paragraph ids any of
which holds one piece of required evidence; a question may need several groups (one per place)."""
from __future__ import annotations

import math


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
