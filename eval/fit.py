"""Fit the evidence model: how sentence features combine, and the thresholds that decide.

    python eval/fit.py                      # fit on the training split, report on dev, write the model
    python eval/fit.py --dry-run            # the same, write nothing
    python eval/fit.py --thresholds-only    # keep the shipped weights, choose the thresholds again

Training questions: eval/golden.jsonl, eval/paraphrase_train.jsonl, eval/paraphrase2.jsonl and
eval/paraphrase3.jsonl (the last two: questions in users' words by other writers, who read only
the documents). Every sentence of the
paragraphs the real chain retrieves for a question is one example, labelled 1 when it overlaps
one of the question's evidence quotes (0 for every sentence of an unanswerable question). A
logistic regression (scikit-learn, standardised features, balanced classes) learns the weights;
then, on the same training questions,
- the answer threshold maximises balanced accuracy of answering answerable questions and
  refusing unanswerable ones (the best sentence's probability against the threshold) among the
  thresholds that refuse at most FALSE_REFUSAL_CAP of the answerable training questions,
- a third regression judges, for "哪些地方…", each candidate place on all its sentences against
  the other places' (rag.answer.evidence.PLACE_FEATURES), labelled by the question's expected
  places; its threshold maximises F1 of the places listed (a place listed wrongly misleads a
  report as much as a place left out),
- the sentence threshold (an answer shows, beside its best sentence, those that reach it) and how
  many sentences an answer shows at most (one cap for how questions, one for the others),
  together: they maximise the training answers made right less the sentences they show over
  SENTENCES_PER_RIGHT_ANSWER,
- the clear threshold is the 2nd percentile of the answerable questions' best probability:
  below it nothing retrieved is relevant at all, and even a generating backend is not asked.
The dev split (eval/paraphrase_dev.jsonl) is reported, never fitted on; the test split is not
read here. Parameters go to rag/answer/evidence_model.json with where they came from.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from rag.answer.chain import Answerer, ChainConfig  # noqa: E402
from rag.answer.compose import compose  # noqa: E402
from rag.answer.evidence import (FEATURES, MODEL_FILE, PLACE_FEATURES, QUESTION_FEATURES, EvidenceModel,  # noqa: E402
                                 Logistic, Shown, place_features, question_features)
from rag.evaluate import missing_groups  # noqa: E402
from rag.index import CaseIndex  # noqa: E402
from rag.text import citations_in, normalise  # noqa: E402

# With paraphrase2 and paraphrase3 (session 5: 407 questions in all), dev answers 0.885 correct
# against 0.846 when they fit only the place model, golden 0.897 against 0.889, heldout and heldout2
# unchanged. (In session 4, golden + train + paraphrase2 alone made heldout worse: 0.882 against 0.941.
# Adding paraphrase4 and paraphrase5 too left dev at 0.885 and lowered golden to 0.889 and
# paraphrase_blind to 0.829 from 0.841: they are kept for measuring, eval/README.md.)
TRAIN = [HERE / "golden.jsonl", HERE / "paraphrase_train.jsonl", HERE / "paraphrase2.jsonl", HERE / "paraphrase3.jsonl"]
PLACE_TRAIN_EXTRA: list[Path] = []  # sets for the place model only (--place-extra)
DEV = [HERE / "paraphrase_dev.jsonl"]
# A sentence is labelled as evidence when it shares this many consecutive characters with a
# quote (or the whole quote, if shorter): quotes are 8 to 80 characters, copied from one paragraph.
OVERLAP_CHARS = 8
CLEAR_PERCENTILE = 2.0
# The product's target for false refusals (issue 9: ≤ 0.05): refusing a question the documents
# answer is the failure users meet most, so the threshold may not buy refusals with more of it.
FALSE_REFUSAL_CAP = 0.05
PLACE_BETA = 1.0
# What one more right answer is worth in sentences shown, over the training answers (about 330).
# Session 7 set 20 at the shoulder of the floor's curve, the caps fixed by hand (4 sentences for a
# how answer, 2 for others). Fitting floor and caps together (session 9), every rate from 40 to 100
# chooses the same limits (floor 0.35, caps 6 and 4: 2.96 sentences an answer against 2.58, five
# more right answers), while 20 and 30 choose a floor of 0.6 that shortens answers and answers
# fewer questions right on the sets not trained on (580 and 581 of 659, against 587 before and
# 594 at 40). 40 is the lowest rate of that stable choice.
SENTENCES_PER_RIGHT_ANSWER = 40
# The limits tried: floors on a 0.05 grid; a how answer needs a few sentences (its paragraph's
# heading and what was done), a fact one or a few; beyond these the answers only grow.
SHOWN_FLOORS = np.round(np.arange(0.05, 0.96, 0.05), 2).tolist()
HOW_CAPS = range(2, 11)
FACT_CAPS = range(1, 6)


def load(paths: list[Path]) -> list[dict]:
    items = []
    for path in paths:
        items += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return items


def _clean(text: str) -> str:
    return "".join(normalise(text).split()).lstrip("■□")


def is_evidence(sentence: str, quotes: list[str]) -> bool:
    s = _clean(sentence)
    for quote in quotes:
        match = SequenceMatcher(None, s, quote, autojunk=False).find_longest_match(0, len(s), 0, len(quote))
        if match.size >= min(OVERLAP_CHARS, len(quote)):
            return True
    return False


# Thresholds of 0 keep every candidate: the thresholds are what is being fitted.
UNFITTED = EvidenceModel(sentence=Logistic({}), question=Logistic({}), answer_threshold=0.0, place_threshold=0.0,
                         clear_threshold=0.0)


def examples(answerer: Answerer, items: list[dict]) -> list[dict]:
    """Per question: its kind, answerability, expected places and every candidate's features."""
    out = []
    for item in items:
        q, _, query = answerer._understand(item["question"], [], [])
        k = answerer.config.k_places if q.wants_places else answerer.config.k_compare if q.comparison else answerer.config.k
        docs = answerer._retrieve(q, query, k)
        evidence = answerer.scorer.assess(q, docs, answerer._query_vector(query))
        quotes = [_clean(e["quote"]) for e in item.get("evidence", [])]
        out.append({
            "id": item["id"], "answerable": item["answerable"], "wants_places": q.wants_places,
            "counts_something": q.numeric and bool(q.measure_terms),
            "expected_places": item.get("places", []) if item["type"] == "multi_place" else [],
            "decided_by_rule": not evidence.candidates,
            "candidates": [{"features": c.features, "place": c.place, "sentence": c.sentence,
                            "label": int(item["answerable"] and is_evidence(c.sentence, quotes))}
                           for c in evidence.candidates],
        })
    return out


def _logistic(X: np.ndarray, y: np.ndarray, names: tuple[str, ...]) -> Logistic:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(X)
    clf = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(scaler.transform(X), y)
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    return Logistic(weights=dict(zip(names, clf.coef_[0].round(6).tolist())), bias=round(float(clf.intercept_[0]), 6),
                    mean=dict(zip(names, scaler.mean_.round(6).tolist())), scale=dict(zip(names, scale.round(6).tolist())))


def fit_sentences(train: list[dict]) -> tuple[Logistic, int, int]:
    X = np.array([[c["features"].get(f, 0.0) for f in FEATURES] for ex in train for c in ex["candidates"]], dtype=float)
    y = np.array([c["label"] for ex in train for c in ex["candidates"]])
    return _logistic(X, y, FEATURES), len(y), int(y.sum())


def ranked(sentence: Logistic, ex: dict) -> list[tuple[float, dict]]:
    out = [(sentence(c["features"]), c["features"]) for c in ex["candidates"]]
    return sorted(out, key=lambda pair: -pair[0])


def fit_questions(sentence: Logistic, train: list[dict]) -> Logistic:
    scored = [ex for ex in train if ex["candidates"]]
    X = np.array([[question_features(ex["counts_something"], ranked(sentence, ex))[f] for f in QUESTION_FEATURES]
                  for ex in scored], dtype=float)
    y = np.array([int(ex["answerable"]) for ex in scored])
    return _logistic(X, y, QUESTION_FEATURES)


def best_scores(model: EvidenceModel, data: list[dict]) -> list[tuple[bool, float]]:
    """(answerable, probability that the documents answer) per question; 0 where a rule refused
    it before scoring."""
    out = []
    for ex in data:
        pairs = ranked(model.sentence, ex)
        out.append((ex["answerable"], model.question(question_features(ex["counts_something"], pairs)) if pairs else 0.0))
    return out


def best_sentence(model: EvidenceModel, data: list[dict]) -> list[tuple[bool, float]]:
    return [(ex["answerable"], max((p for p, _ in ranked(model.sentence, ex)), default=0.0)) for ex in data]


def answer_metrics(pairs: list[tuple[bool, float]], t: float) -> dict:
    answerable = [s for a, s in pairs if a]
    unanswerable = [s for a, s in pairs if not a]
    false_refusal = sum(s < t for s in answerable) / max(len(answerable), 1)
    refusal_acc = sum(s < t for s in unanswerable) / max(len(unanswerable), 1)
    return {"false_refusal": round(false_refusal, 3), "refusal_accuracy": round(refusal_acc, 3),
            "balanced_accuracy": round((1 - false_refusal + refusal_acc) / 2, 3)}


def shown_limits(answerer: Answerer, items: list[dict], model: EvidenceModel) -> tuple[Shown, dict]:
    """What extractive answers show beside their best sentence (`Shown`: the floor a shown
    sentence's probability must reach, and at most how many sentences a how question and any other
    gets), chosen together on the answerable training questions: the most answers that hold what
    they must (must_include) less the sentences they show over SENTENCES_PER_RIGHT_ANSWER (ties: the
    fewer sentences). A how answer depends on the floor and the how cap only, any other on the
    floor and the other cap, so each floor's best caps are found apart. The answers are composed
    anew (the examples keep features, not the paragraphs a composer needs), with `model` as the
    answerer's from here on."""
    answerer.scorer.model = model
    asked = []
    for item in items:
        if not item["answerable"]:
            continue
        q, _, query = answerer._understand(item["question"], [], [])
        evidence = answerer.weigh(q, answerer._retrieve(q, query, answerer._k(q)), query)
        if evidence.answerable:
            asked.append((item, q, evidence))

    def tally(shown: Shown, how: bool) -> tuple[int, int]:
        right = cited = 0
        for item, q, evidence in asked:
            if q.how == how:
                answer = compose(q, evidence, evidence.places, shown)
                right += not missing_groups(answer, item["must_include"])
                cited += len(citations_in(answer))
        return right, cited

    def worth(counts: tuple[int, int]) -> tuple[float, int]:
        return counts[0] - counts[1] / SENTENCES_PER_RIGHT_ANSWER, -counts[1]

    best = None
    for floor in SHOWN_FLOORS:
        how = max(((tally(Shown(floor, how=n), how=True), n) for n in HOW_CAPS), key=lambda x: worth(x[0]))
        fact = max(((tally(Shown(floor, fact=n), how=False), n) for n in FACT_CAPS), key=lambda x: worth(x[0]))
        counts = (how[0][0] + fact[0][0], how[0][1] + fact[0][1])
        if best is None or worth(counts) > worth(best[0]):
            best = (counts, Shown(floor, how[1], fact[1]))
    (right, cited), shown = best
    return shown, {"answered": len(asked), "answers_right": round(right / max(len(asked), 1), 3),
                   "citations_per_answer": round(cited / max(len(asked), 1), 2)}


def place_examples(sentence: Logistic, data: list[dict]) -> list[tuple[set, dict[str, dict[str, float]]]]:
    """Per "哪些地方…" question: the places it expects, and each candidate place's features."""
    out = []
    for ex in data:
        if not (ex["wants_places"] and ex["expected_places"]):
            continue
        groups: dict[str, list] = {}
        for c in ex["candidates"]:
            groups.setdefault(c["place"], []).append((sentence(c["features"]), c["features"]))
        out.append(({_short(p) for p in ex["expected_places"]},
                    {_short(p): f for p, f in place_features(groups).items() if p}))
    return out


def fit_places(examples: list[tuple[set, dict[str, dict[str, float]]]]) -> Logistic:
    X = np.array([[f[name] for name in PLACE_FEATURES] for _, places in examples for f in places.values()], dtype=float)
    y = np.array([int(p in expected) for expected, places in examples for p in places])
    return _logistic(X, y, PLACE_FEATURES)


def place_scores(model: EvidenceModel, data: list[dict]) -> list[tuple[set, dict[str, float]]]:
    """Per "哪些地方…" question: the places it expects, and each candidate place's probability."""
    return [(expected, {p: model.place(f) for p, f in places.items()})
            for expected, places in place_examples(model.sentence, data)]


def _short(place: str) -> str:
    return place[:-1] if len(place) > 2 and place[-1] in "市区县省" else place


def place_metrics(data: list[tuple[set, dict[str, float]]], t: float, share: float = 0.0) -> dict:
    recalls, precisions = [], []
    for expected, best in data:
        top = max(best.values(), default=0.0)
        listed = {p for p, s in best.items() if s >= t and s >= share * top} or ({max(best, key=best.get)} if best else set())
        recalls.append(len(listed & expected) / len(expected))
        precisions.append(len(listed & expected) / len(listed) if listed else 0.0)
    r, p = float(np.mean(recalls)) if recalls else 0.0, float(np.mean(precisions)) if precisions else 0.0
    b2 = PLACE_BETA ** 2
    f = (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0
    return {"place_recall": round(r, 3), "place_precision": round(p, 3), "f_place": round(f, 3)}


def choose(grid: np.ndarray, score) -> float:
    """The middle of the widest run of thresholds with the best score."""
    values = [score(t) for t in grid]
    best = max(values)
    runs, run = [], []
    for t, v in zip(grid, values):
        if v == best:
            run.append(t)
        elif run:
            runs.append(run)
            run = []
    if run:
        runs.append(run)
    widest = max(runs, key=len)
    return float(round(widest[len(widest) // 2], 3))


def _commit() -> str:
    """The commit the fit ran on (its features are read by that code), or "" outside git."""
    import subprocess

    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=Path("index"))
    ap.add_argument("--out", type=Path, default=MODEL_FILE)
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--thresholds-only", action="store_true",
                    help="keep the weights in --out, choose the thresholds again (after a change to how features are read)")
    ap.add_argument("--refit-places", action="store_true",
                    help="with --thresholds-only: fit the place model again too (on the training sets and --place-extra)")
    ap.add_argument("--examples", type=Path, help="reuse (or save) the extracted examples: JSON file")
    ap.add_argument("--train", type=Path, nargs="+", default=TRAIN, help="training sets (default: %(default)s)")
    ap.add_argument("--place-extra", type=Path, nargs="*", default=PLACE_TRAIN_EXTRA,
                    help="more sets for the place model only (default: %(default)s)")
    args = ap.parse_args()
    if any(p.name == "paraphrase_test.jsonl" for p in args.train + args.place_extra):
        ap.error("the test split is never fitted on")
    started = time.time()
    answerer = Answerer(CaseIndex(args.index), ChainConfig(backend="extractive"), evidence_model=UNFITTED)
    if args.examples and args.examples.exists():
        train, dev, extra = json.loads(args.examples.read_text(encoding="utf-8"))
    else:
        train, dev, extra = (examples(answerer, load(paths)) for paths in (args.train, DEV, args.place_extra))
        if args.examples:
            args.examples.write_text(json.dumps([train, dev, extra], ensure_ascii=False), encoding="utf-8")
    scored = [ex for ex in train if not ex["decided_by_rule"]]
    shipped = EvidenceModel.load(args.out) if args.thresholds_only else None
    if shipped is not None:  # the shipped regressions, their thresholds chosen again on today's features
        sentence, question = shipped.sentence, shipped.question
        n_examples = sum(len(ex["candidates"]) for ex in scored)
        n_positive = sum(c["label"] for ex in scored for c in ex["candidates"])
    else:
        sentence, n_examples, n_positive = fit_sentences(scored)
        question = fit_questions(sentence, scored)
    model = EvidenceModel(sentence, question, 0.0, 0.0, 0.0)
    grid = np.round(np.arange(0.02, 0.99, 0.01), 3)
    train_pairs = best_scores(model, train)
    allowed = [t for t in grid if answer_metrics(train_pairs, t)["false_refusal"] <= FALSE_REFUSAL_CAP] or [grid[0]]
    answer_t = choose(np.array(allowed), lambda t: answer_metrics(train_pairs, t)["balanced_accuracy"])
    keep_place = shipped is not None and shipped.place is not None and not args.refit_places
    place = shipped.place if keep_place else fit_places(place_examples(sentence, train + extra))
    model = EvidenceModel(sentence, question, 0.0, 0.0, 0.0, place=place)
    places = place_scores(model, train + extra)
    place_share = 0.0  # the place model weighs a place against the best one itself (share_of_top)
    place_t = choose(grid, lambda t: place_metrics(places, t)["f_place"])
    clear_t = float(round(np.percentile([s for a, s in best_sentence(model, scored) if a], CLEAR_PERCENTILE), 3))
    model = EvidenceModel(sentence, question, answer_t, place_t, clear_t, place_share=place_share, place=place)
    limits, shown = shown_limits(answerer, load(args.train), model)
    model = EvidenceModel(sentence, question, answer_t, place_t, clear_t, place_share=place_share, place=place,
                          sentence_threshold=limits.floor, how_sentences=limits.how, fact_sentences=limits.fact)
    dev_pairs = best_scores(model, dev)
    report = {
        "train": {"questions": len(train), "sentences": n_examples, "evidence_sentences": n_positive,
                  **answer_metrics(train_pairs, answer_t), **place_metrics(places, place_t, place_share), **shown},
        "dev": {"questions": len(dev), **answer_metrics(dev_pairs, answer_t),
                **place_metrics(place_scores(model, dev), place_t, place_share)},
    }
    data = {
        "sentence": sentence.to_json(),
        "question": question.to_json(),
        "place": place.to_json(),
        "thresholds": {"answer": answer_t, "place": place_t, "place_share": float(place_share), "clear": clear_t,
                       "sentence": limits.floor, "how_sentences": limits.how, "fact_sentences": limits.fact},
        "fitted": {
            "by": "python eval/fit.py", "at": time.strftime("%Y-%m-%d"),
            "code": _commit(),
            **({"weights_from": shipped.meta.get("weights_from") or shipped.meta.get("code") or shipped.meta.get("at"),
                "thresholds_only": True} if shipped is not None else {}),
            "training_sets": [p.name for p in args.train],
            "place_training_sets": [p.name for p in args.train + args.place_extra],
            "dev_set": DEV[0].name,
            "embedding": answerer.index.manifest["embedding"]["model"],
            "method": "three logistic regressions (scikit-learn, C=1, balanced classes, standardised features): "
                      "sentence answers the question / documents answer the question / a place qualifies for a "
                      "list of places; answer threshold: best "
                      f"balanced accuracy on train with false refusals <= {FALSE_REFUSAL_CAP}; place threshold: best "
                      f"F{PLACE_BETA:g} on train; sentence threshold and the caps of sentences shown (how questions / others), together: most extractive answers right on train less citations shown / {SENTENCES_PER_RIGHT_ANSWER}; clear threshold: {CLEAR_PERCENTILE:g}th percentile of answerable "
                      "questions' best sentence probability",
            **report,
        },
    }
    print(json.dumps(report, ensure_ascii=False, indent=1))
    print("sentence weights:", json.dumps(sentence.weights, ensure_ascii=False))
    print("question weights:", json.dumps(question.weights, ensure_ascii=False))
    print("place weights:", json.dumps(place.weights, ensure_ascii=False))
    print(f"thresholds: answer {answer_t}, place {place_t} (and {place_share:g} of the best place's), clear {clear_t}, "
          f"sentence {limits.floor} (at most {limits.how} for how, {limits.fact} else)"
          f" ({time.time() - started:.0f} s)")
    if not args.dry_run:
        args.out.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
