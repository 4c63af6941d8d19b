"""rag.metrics on hand-made rankings: one group, several groups, duplicates across groups, empty input."""
import math

import pytest

from rag.metrics import ndcg_at_k, recall_at_k, reciprocal_rank


def log2(rank):
    return 1.0 / math.log2(rank + 1)


def test_single_group():
    ranked = ["a", "b", "c", "d"]
    assert recall_at_k(ranked, [{"c"}], 3) == 1.0
    assert recall_at_k(ranked, [{"c"}], 2) == 0.0
    assert reciprocal_rank(ranked, [{"c"}]) == pytest.approx(1 / 3)
    assert ndcg_at_k(ranked, [{"c"}], 10) == pytest.approx(log2(3) / log2(1))
    assert ndcg_at_k(ranked, [{"a"}], 10) == 1.0


def test_group_with_alternatives_counts_once():
    ranked = ["x", "a1", "a2"]
    groups = [{"a1", "a2"}]
    assert recall_at_k(ranked, groups, 3) == 1.0
    assert reciprocal_rank(ranked, groups) == 0.5
    # the second paragraph of an already satisfied group earns nothing
    assert ndcg_at_k(ranked, groups, 3) == pytest.approx(log2(2) / log2(1))


def test_multiple_groups():
    ranked = ["p1", "x", "p2", "y", "p3"]
    groups = [{"p1"}, {"p2"}, {"p3"}, {"p4"}]
    assert recall_at_k(ranked, groups, 1) == 0.25
    assert recall_at_k(ranked, groups, 3) == 0.5
    assert recall_at_k(ranked, groups, 5) == 0.75
    assert reciprocal_rank(ranked, groups) == 1.0
    assert reciprocal_rank(["x", "y", "p3"], groups) == pytest.approx(1 / 3)
    ideal = log2(1) + log2(2) + log2(3) + log2(4)
    assert ndcg_at_k(ranked, groups, 10) == pytest.approx((log2(1) + log2(3) + log2(5)) / ideal)
    # k cuts both the ranking and the ideal
    assert ndcg_at_k(ranked, groups, 2) == pytest.approx(log2(1) / (log2(1) + log2(2)))
    perfect = ["p1", "p2", "p3", "p4"]
    assert ndcg_at_k(perfect, groups, 10) == pytest.approx(1.0)
    assert recall_at_k(perfect, groups, 4) == 1.0


def test_paragraph_in_two_groups_satisfies_only_the_first():
    groups = [{"shared", "a"}, {"shared", "b"}]
    assert ndcg_at_k(["shared"], groups, 10) == pytest.approx(log2(1) / (log2(1) + log2(2)))
    assert ndcg_at_k(["shared", "b"], groups, 10) == pytest.approx(1.0)
    assert recall_at_k(["shared"], groups, 1) == 1.0  # recall: both groups hold it


def test_empty_inputs():
    assert recall_at_k([], [{"a"}], 5) == 0.0
    assert reciprocal_rank([], [{"a"}]) == 0.0
    assert ndcg_at_k([], [{"a"}], 5) == 0.0
    for groups in ([], [set()], [set(), set()]):
        assert recall_at_k(["a"], groups, 5) == 0.0
        assert reciprocal_rank(["a"], groups) == 0.0
        assert ndcg_at_k(["a"], groups, 5) == 0.0
    # empty groups are ignored, not counted as misses
    assert recall_at_k(["a"], [{"a"}, set()], 5) == 1.0
    assert ndcg_at_k(["a"], [{"a"}, set()], 5) == 1.0


def test_no_relevant_result():
    assert recall_at_k(["x", "y"], [{"a"}, {"b"}], 2) == 0.0
    assert reciprocal_rank(["x", "y"], [{"a"}]) == 0.0
    assert ndcg_at_k(["x", "y"], [{"a"}], 2) == 0.0


def test_values_stay_in_unit_interval():
    ranked = [f"p{i}" for i in range(20)]
    groups = [{f"p{i}"} for i in range(0, 20, 3)]
    for k in (1, 3, 5, 10, 20):
        for value in (recall_at_k(ranked, groups, k), ndcg_at_k(ranked, groups, k)):
            assert 0.0 <= value <= 1.0
