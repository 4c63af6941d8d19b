"""rag.retriever.HybridRetriever on the real corpus index (shared, read-only)."""
import pytest
from langchain_core.retrievers import BaseRetriever

from casedata import FILE_000, FILE_002, FILE_003, GOLDEN
from rag.retriever import MODES, HybridRetriever

TRUST = "哪些地方用信托制物业?"


@pytest.fixture(scope="module")
def retriever(real_index):
    return real_index.retriever(k=5)


def test_trust_property_question_finds_laiyang_first(retriever):
    hits = retriever.search(TRUST)
    assert len(hits) == 5
    top = hits[0]
    assert top.metadata["place"] == "莱阳市"
    assert top.metadata["place_full"] == "山东省烟台市莱阳市"
    assert top.metadata["doc"] == FILE_002
    assert "信托制物业" in top.page_content
    assert top.id == top.metadata["id"] and top.id.startswith(f"{FILE_002}:p")
    assert top.metadata["title"].startswith("山东省莱阳市")
    assert top.metadata["kind"] == "body"
    scores = [h.metadata["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.id for h in hits}) == 5  # paragraphs, not chunks: no duplicates


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_returns_results(retriever, mode):
    hits = retriever.search(TRUST, mode=mode)
    assert len(hits) == 5
    assert hits[0].metadata["place"] == "莱阳市", mode
    for h in hits:
        if mode == "dense":
            assert "dense_rank" in h.metadata and "bm25_rank" not in h.metadata
        if mode == "bm25":
            assert "bm25_rank" in h.metadata and "dense_rank" not in h.metadata
            assert h.metadata["bm25_score"] > 0
    assert any("dense_rank" in h.metadata and "bm25_rank" in h.metadata
               for h in retriever.search(TRUST, mode="hybrid"))


def test_rrf_fusion(real_index):
    hits = real_index.retriever(k=5, fusion="rrf").search(TRUST)
    assert hits[0].metadata["place"] == "莱阳市"
    assert all(0 < h.metadata["score"] <= (0.3 + 1.0) / 61 + 1e-9 for h in hits)


def test_place_filter_covers_every_file_that_names_the_place(retriever):
    hits = retriever.search("社区党群服务中心", k=30, place="罗定")
    assert hits
    assert {h.metadata["place"] for h in hits} == {"罗定市"}
    assert {h.metadata["place_full"] for h in hits} == {"广东省云浮市罗定市"}
    assert {h.metadata["doc"] for h in hits} == {FILE_000, FILE_003}
    for mode in MODES:
        hits = retriever.search("社区党群服务中心", k=10, place="罗定", mode=mode)
        assert {h.metadata["place"] for h in hits} == {"罗定市"}, mode


def test_place_filter_by_province_and_unknown_place(retriever):
    hits = retriever.search("基层治理", k=40, place="广东省")
    assert hits and all(h.metadata["place_full"].startswith("广东省") for h in hits)
    assert {h.metadata["place"] for h in hits} >= {"罗定市", "汕头市"}
    assert retriever.search("基层治理", place="拉萨") == []


def test_doc_filter(retriever):
    hits = retriever.search(TRUST, k=20, doc=FILE_003)
    assert hits and {h.metadata["doc"] for h in hits} == {FILE_003}
    both = retriever.search(TRUST, k=20, doc=FILE_000, place="岑溪")
    assert both and {(h.metadata["doc"], h.metadata["place"]) for h in both} == {(FILE_000, "岑溪市")}
    assert retriever.search(TRUST, doc="missing.txt") == []


def test_k(retriever):
    assert len(retriever.search(TRUST, k=1)) == 1
    assert len(retriever.search(TRUST, k=12)) == 12


def test_article_decay_spreads_results_over_articles(real_index):
    question = "社区治理有哪些做法"
    plain = real_index.retriever(k=8).search(question)
    spread = real_index.retriever(k=8, article_decay=0.3).search(question)
    articles = lambda hits: {(h.metadata["doc"], h.metadata["article"]) for h in hits}  # noqa: E731
    assert len(articles(spread)) >= len(articles(plain))
    assert len(articles(spread)) >= 4


def test_works_through_langchain_invoke(real_index):
    retriever = real_index.retriever(k=3)
    assert isinstance(retriever, BaseRetriever) and isinstance(retriever, HybridRetriever)
    docs = retriever.invoke(TRUST)
    assert len(docs) == 3 and docs[0].metadata["place_full"] == "山东省烟台市莱阳市"
    assert [d.id for d in docs] == [d.id for d in retriever.search(TRUST)]
    batch = retriever.batch([TRUST, "牛娘戏"])
    assert batch[1][0].metadata["place"] == "岑溪市"
    filtered = real_index.retriever(k=3, place="罗定").invoke(TRUST)
    assert filtered and {d.metadata["place"] for d in filtered} == {"罗定市"}


def test_search_results_are_whole_paragraphs(real_index, retriever):
    for hit in retriever.search("牛娘戏 治理剧", k=5):
        stored = real_index.paragraphs([hit.id])[hit.id]
        assert hit.page_content == stored.page_content
        assert hit.metadata["chunk_id"].startswith(hit.id + "#")


def test_golden_set_recall(real_index):
    """A floor under retrieval quality on the golden set's single-place questions (hybrid, k=5)."""
    from rag.golden import evidence_paragraphs, load_golden
    from rag.metrics import recall_at_k

    items = [i for i in load_golden(GOLDEN) if i.answerable and i.type == "single_fact"]
    retriever = real_index.retriever(k=5)
    recalls = []
    for item in items:
        groups = evidence_paragraphs(item, real_index)
        if not any(groups):
            continue
        ranked = [h.id for h in retriever.search(item.question)]
        recalls.append(recall_at_k(ranked, groups, 5))
    mean = sum(recalls) / len(recalls)
    print(f"\nhybrid recall@5 on {len(recalls)} single_fact questions: {mean:.3f}")
    assert len(recalls) >= 20 and mean >= 0.8
