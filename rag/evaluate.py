"""Measure retrieval against the golden set: recall@k, MRR and nDCG@10 per mode and question type."""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from statistics import mean

from .golden import GoldenItem, evidence_paragraphs
from .metrics import ndcg_at_k, recall_at_k, reciprocal_rank


def retrieval_scores(index, items: list[GoldenItem], mode: str, k: int = 5, fetch: int = 10) -> dict:
    retriever = index.retriever(k=max(k, fetch), mode=mode)
    per_type: dict[str, list[dict]] = defaultdict(list)
    unmatched: list[str] = []
    for item in items:
        if not item.answerable:
            continue
        groups = evidence_paragraphs(item, index)
        if not any(groups):
            unmatched.append(item.id)
            continue
        ranked = [d.metadata["id"] for d in retriever.search(item.question)]
        row = {
            "id": item.id,
            f"recall@{k}": recall_at_k(ranked, groups, k),
            "mrr": reciprocal_rank(ranked, groups),
            "ndcg@10": ndcg_at_k(ranked, groups, 10),
        }
        per_type[item.type].append(row)
        per_type["all"].append(row)
    summary = {
        t: {m: round(mean(r[m] for r in rows), 4) for m in (f"recall@{k}", "mrr", "ndcg@10")} | {"n": len(rows)}
        for t, rows in per_type.items()
    }
    return {"summary": summary, "rows": per_type["all"], "unmatched": unmatched}


def eval_index_dir(root: Path, spec: str) -> Path:
    return root / "eval" / re.sub(r"[^A-Za-z0-9_.-]+", "_", spec)
