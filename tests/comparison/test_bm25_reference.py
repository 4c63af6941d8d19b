"""BM25Index (bm25s) against independent references on the real corpus' own tokens.

- rank_bm25's BM25Okapi: another BM25 variant (Robertson idf with an epsilon floor, where bm25s uses
  Lucene's log(1 + ...) idf), so rankings agree strongly but not perfectly; the figures are printed.
- A direct numpy implementation of the Lucene formula bm25s documents: scores must be proportional.
"""
from collections import Counter

import numpy as np
import pytest

from casedata import GOLDEN
from rag.golden import load_golden
from rag.lexical import tokenize

K1, B = 1.5, 0.75


@pytest.fixture(scope="module")
def corpus_tokens(real_index):
    """Each chunk's tokens, from the text it was indexed with (its header of place, title and
    section, then its text): the index keeps term frequencies, not token lists."""
    docs = list(real_index.store.docs)
    paragraphs = real_index.paragraphs([d.metadata["paragraph_id"] for d in docs])

    def embed_text(chunk):
        m = paragraphs[chunk.metadata["paragraph_id"]].metadata
        head = "｜".join(x for x in (m["place_full"], m["title"], m["section"]) if x)
        return f"{head}\n{chunk.page_content}" if head else chunk.page_content

    tokens = [tokenize(embed_text(d), real_index.bm25.mode) for d in docs]
    assert len(tokens) == len(real_index.store) > 100
    assert [len(t) or 1 for t in tokens] == list(real_index.bm25.row_lengths)  # the stored lengths
    return tokens


@pytest.fixture(scope="module")
def questions():
    items = [i for i in load_golden(GOLDEN) if i.answerable]
    assert len(items) >= 100
    return [i.question for i in items]


def top(scores, k):
    return [int(i) for i in np.argsort(-np.asarray(scores), kind="stable")[:k]]


def test_ranking_agrees_with_rank_bm25(real_index, corpus_tokens, questions):
    from rank_bm25 import BM25Okapi

    reference = BM25Okapi(corpus_tokens, k1=K1, b=B)
    top1 = overlaps = 0
    per_question = []
    compared = 0
    for question in questions:
        ours = real_index.bm25.scores(question)
        if not ours.any():
            continue
        theirs = reference.get_scores(tokenize(question, real_index.bm25.mode, query=True))
        compared += 1
        a, b = top(ours, 5), top(theirs, 5)
        top1 += a[0] == b[0]
        overlap = len(set(a) & set(b)) / 5
        overlaps += overlap
        per_question.append(overlap)
    top1_rate, mean_overlap = top1 / compared, overlaps / compared
    print(f"\nBM25Index vs rank_bm25.BM25Okapi on {compared} golden questions: "
          f"top-1 agreement {top1_rate:.3f}, mean top-5 overlap {mean_overlap:.3f}, "
          f"worst top-5 overlap {min(per_question):.2f}, "
          f"questions with full top-5 overlap {sum(o == 1.0 for o in per_question)}")
    assert compared >= 100
    assert top1_rate >= 0.9
    assert mean_overlap >= 0.85
    assert min(per_question) >= 0.4


def test_scores_are_the_lucene_formula(real_index, corpus_tokens, questions):
    n = len(corpus_tokens)
    lengths = np.array([len(t) for t in corpus_tokens], dtype=np.float64)
    avgdl = lengths.mean()
    df = Counter(term for row in corpus_tokens for term in set(row))
    counts = [Counter(row) for row in corpus_tokens]
    worst = 0.0
    for question in questions[:60]:
        terms = [t for t in tokenize(question, real_index.bm25.mode, query=True) if t in df]  # repeats count
        expected = np.zeros(n)
        for term in terms:
            idf = np.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            tf = np.array([c[term] for c in counts], dtype=np.float64)
            expected += idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths / avgdl))
        ours = real_index.bm25.scores(question).astype(np.float64)
        if not terms:
            assert not ours.any()
            continue
        # bm25s leaves out the constant (k1 + 1) factor: same ranking, scores scaled by 1 / (k1 + 1)
        np.testing.assert_allclose(ours * (K1 + 1), expected, rtol=1e-4, atol=1e-4)
        assert top(ours, 10) == top(expected, 10) or np.allclose(
            np.sort(ours)[-10:] * (K1 + 1), np.sort(expected)[-10:], rtol=1e-4)
        worst = max(worst, float(np.abs(ours * (K1 + 1) - expected).max()))
    print(f"\nmax |BM25Index·(k1+1) − Lucene BM25| over 60 questions: {worst:.2e}")
