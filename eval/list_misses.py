"""Where "哪些地方…" answers lose places: the shipped evidence model, on any question sets.

    python eval/list_misses.py eval/paraphrase8.jsonl eval/paraphrase9.jsonl

For every expected place of a list question: did the place model score it at or above its
threshold (listed), below it, or was the place not among the candidates at all (retrieval)? For
a place below the threshold: does one of its candidate sentences overlap an evidence quote (the
scoring missed it, not retrieval), and does the question's rarest word appear in its paragraphs
(the `rare_term_found` feature)? The same counts for the places listed that were not expected.
Run it on sets whose answers you may read: never on the test split.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from fit import UNFITTED, _clean, _short, examples, is_evidence, load, place_examples  # noqa: E402

from rag.answer.chain import Answerer, ChainConfig  # noqa: E402
from rag.answer.evidence import default_model  # noqa: E402
from rag.index import CaseIndex  # noqa: E402


KINDS = ("expected, listed", "expected, below threshold", "  of which an evidence sentence was a candidate",
         "  of which the rarest word was missing", "expected, not a candidate", "not expected, listed",
         "not expected, below threshold", "not read as a list")


def count(answerer: Answerer, items: list[dict]) -> Counter:
    model = default_model()
    out: Counter = Counter()
    lists = [it for it in items if it.get("type") == "multi_place" and it["answerable"]]
    for it, ex in zip(lists, examples(answerer, lists)):
        if not ex["wants_places"]:
            out["not read as a list"] += 1
            continue
        [(expected, features)] = place_examples(model.sentence, [ex])
        quotes = [_clean(e["quote"]) for e in it.get("evidence", [])]
        sentences: dict[str, list[str]] = {}
        for c in ex["candidates"]:
            sentences.setdefault(_short(c["place"] or ""), []).append(c["sentence"])
        out["expected, not a candidate"] += len(expected - set(features))
        for place, f in features.items():
            listed = model.place(f) >= model.place_threshold
            out[("expected" if place in expected else "not expected") + (", listed" if listed else ", below threshold")] += 1
            if place in expected and not listed:
                if any(is_evidence(s, quotes) for s in sentences[place]):
                    out["  of which an evidence sentence was a candidate"] += 1
                if f["rare_term_found"] < 0:
                    out["  of which the rarest word was missing"] += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", type=Path, nargs="+")
    ap.add_argument("--index", type=Path, default=Path("index"))
    args = ap.parse_args()
    if any(p.name == "paraphrase_test.jsonl" for p in args.sets):
        ap.error("the test split's answers are not read")
    answerer = Answerer(CaseIndex(args.index), ChainConfig(backend="extractive"), evidence_model=UNFITTED)
    for path in args.sets:
        print(path.name)
        counts = count(answerer, load([path]))
        for kind in KINDS:
            print(f"  {kind}: {counts[kind]}")


if __name__ == "__main__":
    main()
