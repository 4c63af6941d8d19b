"""rag.golden: the golden-set format and how its evidence maps onto indexed paragraphs."""
import json

import pytest

from casedata import FILE_002, GOLDEN
from rag.errors import InputError
from rag.golden import Evidence, GoldenItem, dump, evidence_paragraphs, load_golden


def test_load_the_golden_set():
    items = load_golden(GOLDEN)
    assert len(items) >= 100 and len({i.id for i in items}) == len(items)
    assert {i.type for i in items} >= {"single_fact", "unanswerable"}
    assert load_golden(GOLDEN) == [GoldenItem.model_validate_json(line) for line in dump(items).splitlines()]


def test_bad_golden_files(tmp_path):
    with pytest.raises(InputError) as info:
        load_golden(tmp_path / "missing.jsonl")
    assert "找不到" in str(info.value)
    good = {"id": "q1", "question": "问", "type": "single_fact", "answerable": True}
    (tmp_path / "g.jsonl").write_text(json.dumps(good) + "\n\n" + json.dumps({**good, "type": "essay"}) + "\n",
                                      encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_golden(tmp_path / "g.jsonl")
    assert "第 3 行" in str(info.value)


def test_evidence_maps_to_body_paragraphs(real_index):
    item = GoldenItem(id="t", question="哪些地方用信托制物业?", type="single_fact", answerable=True, evidence=[
        Evidence(file=FILE_002, quote="以信托制物业为关键突破"),
        Evidence(file=FILE_002, quote="■中共莱阳市委组织部"),  # a byline: in no body paragraph
        Evidence(file="missing.txt", quote="信托"),
    ])
    found, byline, missing = evidence_paragraphs(item, real_index)
    assert len(found) == 1
    (pid,) = found
    assert "信托制物业" in real_index.paragraphs([pid])[pid].page_content
    assert byline == set() and missing == set()
