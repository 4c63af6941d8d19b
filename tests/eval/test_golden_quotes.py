"""Sanity checks for the evaluation sets: the golden set (eval/golden.jsonl) and the two held-out
sets written later without looking at the answer logic (eval/heldout.jsonl, eval/heldout2.jsonl).

Every evidence quote must be a verbatim substring of a single line of the
sample corpus in data/cases/, so the golden set cannot silently drift from
the documents it is supposed to be grounded in.
"""

import json
from collections import Counter
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN_PATH = REPO_ROOT / "eval" / "golden.jsonl"
SETS = [GOLDEN_PATH, REPO_ROOT / "eval" / "heldout.jsonl", REPO_ROOT / "eval" / "heldout2.jsonl",
        REPO_ROOT / "eval" / "paraphrase.jsonl", REPO_ROOT / "eval" / "paraphrase2.jsonl",
        REPO_ROOT / "eval" / "paraphrase3.jsonl", REPO_ROOT / "eval" / "paraphrase4.jsonl",
        REPO_ROOT / "eval" / "paraphrase5.jsonl", REPO_ROOT / "eval" / "paraphrase_blind.jsonl",
        REPO_ROOT / "eval" / "paraphrase6.jsonl", REPO_ROOT / "eval" / "paraphrase7.jsonl",
        REPO_ROOT / "eval" / "paraphrase8.jsonl", REPO_ROOT / "eval" / "paraphrase9.jsonl",
        REPO_ROOT / "eval" / "paraphrase10.jsonl", REPO_ROOT / "eval" / "paraphrase11.jsonl"]
all_sets = pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
CORPUS_DIR = REPO_ROOT / "data" / "cases"

VALID_TYPES = {
    "single_fact",
    "numeric",
    "multi_place",
    "how",
    "comparison",
    "cross_doc",
    "unanswerable",
}
MIN_TYPE_COUNTS = {
    "single_fact": 25,
    "numeric": 20,
    "multi_place": 15,
    "how": 12,
    "comparison": 8,
    "cross_doc": 10,
    "unanswerable": 15,
}
MIN_ITEMS = 100
QUOTE_MIN_LEN = 8
QUOTE_MAX_LEN = 80
REQUIRED_FIELDS = {
    "id",
    "question",
    "type",
    "answerable",
    "places",
    "must_include",
    "evidence",
}


def _raw_lines(path=GOLDEN_PATH):
    assert path.is_file(), f"missing evaluation set: {path}"
    text = path.read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def _items(path=GOLDEN_PATH):
    return [json.loads(line) for line in _raw_lines(path)]


def _corpus_lines():
    assert CORPUS_DIR.is_dir(), f"missing sample corpus folder: {CORPUS_DIR}"
    files = sorted(CORPUS_DIR.glob("*.txt"))
    assert files, f"no .txt files in {CORPUS_DIR}"
    return {p.name: p.read_text(encoding="utf-8").splitlines() for p in files}


def test_every_line_parses_as_object():
    lines = _raw_lines()
    assert lines, "golden set is empty"
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:  # pragma: no cover - failure path
            pytest.fail(f"line {n} is not valid JSON: {exc}")
        assert isinstance(obj, dict), f"line {n} is not a JSON object"
        missing = REQUIRED_FIELDS - obj.keys()
        assert not missing, f"line {n} missing fields {sorted(missing)}"


@all_sets
def test_ids_unique_and_well_formed(path):
    ids = [item["id"] for item in _items(path)]
    dupes = [i for i, c in Counter(ids).items() if c > 1]
    assert not dupes, f"duplicate ids: {dupes}"
    for i in ids:
        assert isinstance(i, str) and i[0] == ids[0][0] and i[1:].isdigit(), i


@all_sets
def test_types_valid(path):
    for item in _items(path):
        assert item["type"] in VALID_TYPES, f"{item['id']}: bad type {item['type']!r}"
        assert isinstance(item["answerable"], bool), item["id"]
        assert (item["type"] == "unanswerable") == (not item["answerable"]), (
            f"{item['id']}: type/answerable mismatch"
        )
        assert isinstance(item["question"], str) and item["question"].strip(), item["id"]


@all_sets
def test_answerable_fields_filled_and_unanswerable_empty(path):
    for item in _items(path):
        iid = item["id"]
        if item["answerable"]:
            assert item["places"], f"{iid}: answerable item without places"
            assert item["must_include"], f"{iid}: answerable item without must_include"
            assert item["evidence"], f"{iid}: answerable item without evidence"
            for place in item["places"]:
                assert isinstance(place, str) and place, iid
            for group in item["must_include"]:
                assert isinstance(group, list) and group, f"{iid}: empty must_include group"
                for alt in group:
                    assert isinstance(alt, str) and alt.strip(), f"{iid}: bad alternative {alt!r}"
        else:
            assert item["places"] == [], f"{iid}: unanswerable item has places"
            assert item["must_include"] == [], f"{iid}: unanswerable item has must_include"
            assert item["evidence"] == [], f"{iid}: unanswerable item has evidence"


@all_sets
def test_evidence_quotes_are_verbatim_single_line_substrings(path):
    corpus = _corpus_lines()
    problems = []
    for item in _items(path):
        for ev in item["evidence"]:
            fname, quote = ev.get("file"), ev.get("quote")
            if fname not in corpus:
                problems.append(f"{item['id']}: unknown file {fname!r}")
                continue
            if not isinstance(quote, str) or not (QUOTE_MIN_LEN <= len(quote) <= QUOTE_MAX_LEN):
                problems.append(f"{item['id']}: quote length out of range: {quote!r}")
                continue
            if "\n" in quote or not any(quote in line for line in corpus[fname]):
                problems.append(f"{item['id']}: quote not on a single line of {fname}: {quote!r}")
    assert not problems, "\n".join(problems)


def test_size_and_type_mix():
    items = _items()
    assert len(items) >= MIN_ITEMS, f"only {len(items)} items"
    counts = Counter(item["type"] for item in items)
    short = {t: (counts.get(t, 0), n) for t, n in MIN_TYPE_COUNTS.items() if counts.get(t, 0) < n}
    assert not short, f"type counts below minimum (have, need): {short}"
