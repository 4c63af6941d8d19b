"""The users'-own-words set and its fixed train / dev / test split (eval/split.py), and the
pieces of the evidence fit (eval/fit.py) that decide labels and thresholds."""
import importlib.util
import json
from collections import Counter

from casedata import REPO

EVAL = REPO / "eval"


def _module(name):
    spec = importlib.util.spec_from_file_location(name, EVAL / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _items(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_set_is_large_and_covers_every_type():
    items = _items(EVAL / "paraphrase.jsonl")
    assert len(items) >= 150
    counts = Counter(i["type"] for i in items)
    assert set(counts) == {"single_fact", "numeric", "multi_place", "how", "comparison", "cross_doc", "unanswerable"}
    assert counts["unanswerable"] >= 20 and counts["multi_place"] >= 15


def test_the_stored_split_is_the_seeded_split_and_parts_are_disjoint():
    split = _module("split").split(_items(EVAL / "paraphrase.jsonl"))
    seen = set()
    for name, part in split.items():
        stored = [i["id"] for i in _items(EVAL / f"paraphrase_{name}.jsonl")]
        assert stored == [i["id"] for i in part], name
        assert not seen & set(stored)
        seen |= set(stored)
    assert len(seen) == len(_items(EVAL / "paraphrase.jsonl"))
    types = Counter(i["type"] for i in split["test"])
    assert all(types[t] >= 1 for t in ("single_fact", "numeric", "multi_place", "unanswerable"))


def test_fit_labels_a_sentence_by_its_overlap_with_a_quote():
    fit = _module("fit")
    quote = fit._clean("■全市各类邻里议事载体已协商解决“微小事”1.2万余件")
    assert fit.is_evidence("截至目前，全市各类邻里议事载体已协商解决“微小事”1.2万余件。", [quote])
    assert not fit.is_evidence("罗定市推动社区党群服务中心提质增效。", [quote])


def test_fit_chooses_the_middle_of_the_widest_best_run():
    import numpy as np

    fit = _module("fit")
    grid = np.round(np.arange(0.1, 1.0, 0.1), 3)
    pairs = [(True, 0.9), (True, 0.8), (True, 0.7), (False, 0.3), (False, 0.2)]
    assert fit.answer_metrics(pairs, 0.5) == {"false_refusal": 0.0, "refusal_accuracy": 1.0, "balanced_accuracy": 1.0}
    assert fit.answer_metrics(pairs, 0.85)["false_refusal"] == round(2 / 3, 3)
    # every threshold in (0.3, 0.7] is perfect: 0.4, 0.5, 0.6, 0.7 on the grid; the middle is taken
    assert fit.choose(grid, lambda t: fit.answer_metrics(pairs, t)["balanced_accuracy"]) == 0.6


def test_a_place_is_judged_against_the_other_places():
    from rag.answer.evidence import place_features

    groups = {
        "莱阳市": [(0.9, {"sentence_similarity": 0.92, "sentence_coverage": 0.8, "paragraph_coverage": 0.9, "rare_term_found": 1.0})],
        "汕头市": [(0.3, {"sentence_similarity": 0.88, "sentence_coverage": 0.2, "paragraph_coverage": 0.4, "rare_term_found": -1.0}),
                  (0.1, {"sentence_similarity": 0.90, "sentence_coverage": 0.5, "paragraph_coverage": 0.4, "rare_term_found": 1.0})],
    }
    f = place_features(groups)
    assert f["莱阳市"]["place_rank"] == 1.0 and f["汕头市"]["place_rank"] == 0.5
    assert f["汕头市"]["share_of_top"] == 0.3 / 0.9
    # the best of each signal over all of a place's sentences, not only its most probable one
    assert f["汕头市"]["best_coverage"] == 0.5 and f["汕头市"]["rare_term_found"] == 1.0
    assert round(f["汕头市"]["similarity_gap"], 6) == -0.02


def test_the_shipped_model_has_a_place_model_fitted_on_more_lists():
    from rag.answer.evidence import PLACE_FEATURES, default_model

    model = default_model()
    assert model.place is not None and set(model.place.weights) == set(PLACE_FEATURES)
    assert {"paraphrase2.jsonl", "paraphrase3.jsonl"} <= set(model.meta["place_training_sets"])
    assert "paraphrase_test.jsonl" not in model.meta["training_sets"] + model.meta["place_training_sets"]
