"""Split eval/paraphrase.jsonl once into train / dev / test (stratified by question type).

    python eval/split.py            # writes eval/paraphrase_{train,dev,test}.jsonl

The seed is fixed so the split never changes: evidence scoring is fitted on train
(eval/fit.py), choices are made on dev, and test is reported only at the end — its failures are
not read to patch the code. Re-running with the same file gives the same split.
"""
from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20261127
SHARES = {"train": 0.5, "dev": 0.2, "test": 0.3}


def split(items: list[dict], seed: int = SEED) -> dict[str, list[dict]]:
    by_type: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        by_type[item["type"]].append(item)
    rng = random.Random(seed)
    out: dict[str, list[dict]] = {name: [] for name in SHARES}
    for kind in sorted(by_type):
        group = sorted(by_type[kind], key=lambda i: i["id"])
        rng.shuffle(group)
        n_train = round(len(group) * SHARES["train"])
        n_dev = round(len(group) * SHARES["dev"])
        out["train"] += group[:n_train]
        out["dev"] += group[n_train:n_train + n_dev]
        out["test"] += group[n_train + n_dev:]
    return {name: sorted(part, key=lambda i: i["id"]) for name, part in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=HERE / "paraphrase.jsonl")
    args = ap.parse_args()
    items = [json.loads(line) for line in args.source.read_text(encoding="utf-8").splitlines() if line.strip()]
    for name, part in split(items).items():
        path = args.source.with_name(f"{args.source.stem}_{name}.jsonl")
        path.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in part), encoding="utf-8")
        print(f"{path.name}: {len(part)}")


if __name__ == "__main__":
    main()
