"""eval/list_misses.py: where list answers lose places, counted on the real index."""
import importlib.util
import sys

import pytest
from casedata import REPO

EVAL = REPO / "eval"


@pytest.fixture(scope="module")
def list_misses():
    sys.path.insert(0, str(EVAL))
    spec = importlib.util.spec_from_file_location("list_misses", EVAL / "list_misses.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_expected_place_is_counted_once(list_misses, real_index):
    from rag.answer.chain import Answerer, ChainConfig

    answerer = Answerer(real_index, ChainConfig(backend="extractive"), evidence_model=list_misses.UNFITTED)
    items = [
        {"id": "a", "type": "multi_place", "answerable": True, "question": "物业用信托模式管钱的是哪些地方",
         "places": ["莱阳市"], "evidence": [{"quote": "将物业费、公共收益等全部纳入公开透明的信托账户管理"}]},
        {"id": "b", "type": "multi_place", "answerable": True, "question": "哪些地方在给外卖小哥建驿站",
         "places": ["汕头市", "杭州市"], "evidence": [{"quote": "新就业群体"}]},
        {"id": "c", "type": "single_fact", "answerable": True, "question": "莱阳的物业费收缴率是多少",
         "places": ["莱阳市"], "evidence": []},
    ]
    counts = list_misses.count(answerer, items)
    expected = counts["expected, listed"] + counts["expected, below threshold"] + counts["expected, not a candidate"]
    assert expected == 3  # the lists' places; the fact question is not a list
    assert counts["expected, listed"] >= 1  # 莱阳 for 信托
    assert counts["expected, not a candidate"] >= 1  # 杭州 has no report
    assert set(counts) <= set(list_misses.KINDS)


def test_it_does_not_read_the_test_split(list_misses, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["list_misses.py", str(EVAL / "paraphrase_test.jsonl")])
    with pytest.raises(SystemExit):
        list_misses.main()
