"""rag.lexical: jieba / bigram tokens and the bm25s-backed BM25Index."""
import numpy as np
import pytest

from rag.lexical import FILES, BM25Index, tokenize

DOCS = [
    "山东省烟台市莱阳市推行信托制物业服务模式，物业费收缴率提升至93%。",
    "广西壮族自治区岑溪市通过党建+牛娘戏模式创作治理剧。",
    "广东省云浮市罗定市建立邻里议事会，协商解决微小事1.2万余件。",
    "辽宁省辽阳市开展宜居新辽阳幸福新社区建设。",
]


def test_jieba_tokens_drop_stopwords_and_punctuation():
    tokens = tokenize("莱阳市的信托制物业，和岑溪市的牛娘戏。", "jieba")
    assert "信托" in tokens and "物业" in tokens and "莱阳" in tokens
    assert "的" not in tokens and "和" not in tokens
    assert not any(t in "，。" for t in tokens)
    assert not any(t.startswith("#") for t in tokens)


def test_bigrams_cover_every_cjk_run():
    assert tokenize("信托制物业", "bigram") == ["#信托", "#托制", "#制物", "#物业"]
    assert tokenize("A信托，制", "bigram") == ["#信托"]
    both = tokenize("信托制物业", "jieba+bigram")
    assert set(tokenize("信托制物业", "jieba")) | set(tokenize("信托制物业", "bigram")) == set(both)


def test_ascii_and_numbers_are_lowercased_words():
    tokens = tokenize("推动5G信号覆盖率达到93%，APP上线", "jieba")
    assert "93%" in tokens and "app" in tokens


def test_query_mode_strips_question_phrases():
    question = "哪些地方用信托制物业？"
    as_query = tokenize(question, query=True)
    assert not any(w in t for t in as_query for w in ("哪些", "地方"))
    assert "信托" in as_query
    assert "#哪些" in tokenize(question)  # the same words in a document are kept


def test_unknown_tokenizer():
    with pytest.raises(ValueError):
        tokenize("信托", "whitespace")


@pytest.mark.parametrize("mode", ["jieba", "jieba+bigram", "bigram"])
def test_bm25_finds_the_matching_row(mode):
    index = BM25Index(mode).build(DOCS)
    assert len(index) == 4
    for query, row in (("信托制物业", 0), ("牛娘戏", 1), ("邻里议事", 2), ("辽阳", 3)):
        scores = index.scores(query)
        assert scores.shape == (4,)
        assert int(np.argmax(scores)) == row, (mode, query, scores)


def test_no_match_and_empty_index_give_zeros():
    index = BM25Index().build(DOCS)
    assert not index.scores("量子计算机").any()
    assert not index.scores("？？").any()
    empty = BM25Index().build([])
    assert len(empty) == 0 and empty.scores("信托").shape == (0,)


def test_rows_without_tokens_do_not_shift_later_rows():
    texts = ["信托制物业", "", "。。。", "牛娘戏治理剧"]
    index = BM25Index().build(texts)
    assert list(index.row_lengths) == [len(tokenize(texts[0])), 1, 1, len(tokenize(texts[3]))]  # the placeholder
    scores = index.scores("牛娘戏")
    assert int(np.argmax(scores)) == 3 and scores[1] == 0 and scores[2] == 0


def test_more_matching_terms_score_higher():
    index = BM25Index().build(DOCS + ["物业管理很重要。"])
    scores = index.scores("信托制物业")
    assert scores[0] > scores[4] > 0


def test_save_and_load_round_trip(tmp_path):
    index = BM25Index("jieba").build(DOCS)
    index.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(FILES)
    loaded = BM25Index.load(tmp_path, "jieba")
    assert isinstance(loaded.data, np.memmap) and loaded.mode == "jieba" and len(loaded) == 4
    for query in ("信托制物业", "牛娘戏", "罗定邻里议事"):
        np.testing.assert_array_equal(loaded.scores(query), index.scores(query))
    assert loaded.doc_freq("物业") == index.doc_freq("物业")


def test_bm25s_reads_the_files_itself(tmp_path):
    """The files are bm25s's own: bm25s.BM25.load(mmap=True, allow_pickle=False) opens them."""
    import bm25s

    from rag.lexical import BM25_FILES

    index = BM25Index().build(DOCS)
    index.save(tmp_path)
    engine = bm25s.BM25.load(tmp_path, data_name=BM25_FILES["data"], indices_name=BM25_FILES["indices"],
                             indptr_name=BM25_FILES["indptr"], vocab_name=BM25_FILES["vocab"],
                             params_name=BM25_FILES["params"], mmap=True, allow_pickle=False)
    terms = [t for t in tokenize("信托制物业", query=True) if t in engine.vocab_dict]
    np.testing.assert_array_equal(np.asarray(engine.get_scores(terms), dtype=np.float32), index.scores("信托制物业"))


def test_files_load_without_pickle(tmp_path):
    """Every array is a plain .npy that np.load(allow_pickle=False) reads, as bm25s.load does."""
    BM25Index().build(DOCS).save(tmp_path)
    for f in tmp_path.glob("*.npy"):
        assert np.load(f, allow_pickle=False).dtype != object


def test_same_scores_as_bm25s_own_index():
    """Built in numpy, bit for bit what bm25s.BM25.index gives (the baseline was measured with it)."""
    import bm25s

    texts = DOCS + ["物业管理很重要，物业服务。", "", "社区社区社区"]
    tokens = [tokenize(t) for t in texts]
    reference = bm25s.BM25()
    reference.index([t or ["\u0000"] for t in tokens], show_progress=False)
    ours = BM25Index().build(tokens=tokens)
    for query in ("信托制物业", "社区物业", "牛娘戏 辽阳"):
        terms = [t for t in tokenize(query, query=True) if t in reference.vocab_dict]
        np.testing.assert_array_equal(ours.scores(query), np.asarray(reference.get_scores(terms), dtype=np.float32))


def test_extending_equals_building_anew():
    """Appending rows, removing rows (kept as placeholders or dropped) gives the scores a fresh build gives."""
    tokens = [tokenize(t) for t in DOCS + ["物业管理很重要。", "社区食堂"]]
    removed = np.array([False, True, False, False, False, False])
    fresh = BM25Index().build(tokens=[t for t, r in zip(tokens, removed) if not r] + [tokenize("信托物业新做法")])
    base = BM25Index().build(tokens=tokens)
    compacted = base.extended([tokenize("信托物业新做法")], removed, compact=True)
    kept = base.extended([tokenize("信托物业新做法")], removed, compact=False)
    assert len(compacted) == 6 and len(kept) == 7 and kept.live_rows == 6
    for query in ("信托制物业", "社区食堂", "牛娘戏"):
        np.testing.assert_array_equal(compacted.scores(query), fresh.scores(query))
        np.testing.assert_array_equal(np.delete(kept.scores(query), 1), fresh.scores(query))
    assert compacted.rarity("物业") == fresh.rarity("物业") and kept.doc_freq("牛娘") == 0


def test_doc_freq_counts_rows_holding_a_term_as_substring():
    texts = ["社区服务中心", "社区食堂", "非遗传承工坊", "服务群众", "社区"]
    index = BM25Index("jieba+bigram").build(texts)
    for term in ("社区", "服务", "社区服务", "非遗", "食堂"):
        brute = sum(term in t for t in texts)
        # the rarest bigram bounds the substring count from above, and is exact for two characters
        assert index.doc_freq(term) >= brute
        if len(term) == 2:
            assert index.doc_freq(term) == brute
    assert index.doc_freq("区块链") == 0
    assert index.rarity("非遗") > index.rarity("社区") >= 1.0
    assert BM25Index().rarity("社区") == 1.0  # empty index
