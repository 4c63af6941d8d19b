"""BM25 over Chinese words (jieba), optionally with character bigrams for terms jieba splits badly."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np

from .text import INDEX_STOPWORDS, QUESTION_WORDS, segmenter

TOKENIZERS = ("jieba", "jieba+bigram", "bigram")
TOKENS_FILE = "tokens.jsonl"
_WORD = re.compile(r"[\u4e00-\u9fff]|[A-Za-z]+|\d+(?:\.\d+)?%?")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
_QUESTION_PHRASES = re.compile(
    r"有哪些|哪些|哪里|哪儿|哪个|什么|怎么样|怎么|怎样|如何|多少|是否|有没有|请问|分别|地方|城市|地区|举措|做法|情况")


def tokenize(text: str, mode: str = "jieba+bigram", *, query: bool = False) -> list[str]:
    if mode not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {mode!r}; choose from {TOKENIZERS}")
    tokens: list[str] = []
    if query:
        text = _QUESTION_PHRASES.sub(" ", text)
    if mode in ("jieba", "jieba+bigram"):
        dropped = INDEX_STOPWORDS | QUESTION_WORDS if query else INDEX_STOPWORDS
        for word in segmenter().cut_for_search(text):
            word = word.strip().lower()
            if word and word not in dropped and _WORD.match(word):
                tokens.append(word)
    if mode in ("jieba+bigram", "bigram"):
        for run in _CJK_RUN.findall(text):
            tokens.extend("#" + run[i:i + 2] for i in range(len(run) - 1))
    return tokens


class BM25Index:
    def __init__(self, mode: str = "jieba+bigram") -> None:
        self.mode = mode
        self.tokens: list[list[str]] = []
        self._bm25 = None

    def __len__(self) -> int:
        return len(self.tokens)

    def build(self, texts: list[str] | None = None, tokens: list[list[str]] | None = None) -> BM25Index:
        import bm25s

        self.tokens = tokens if tokens is not None else [tokenize(t, self.mode) for t in texts or []]
        self._bm25 = None
        if self.tokens:
            self._bm25 = bm25s.BM25()
            # an empty token list would make bm25s drop the row and shift every later one
            self._bm25.index([t or ["\u0000"] for t in self.tokens], show_progress=False)
        return self

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for the query (zeros when nothing matches)."""
        if self._bm25 is None:
            return np.zeros(len(self.tokens), dtype=np.float32)
        terms = [t for t in tokenize(query, self.mode, query=True) if t in self._bm25.vocab_dict]
        if not terms:
            return np.zeros(len(self.tokens), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(terms), dtype=np.float32)

    def doc_freq(self, term: str) -> int:
        """About how many rows hold `term` as a substring: its rarest character bigram (an upper
        bound that also counts words jieba splits or does not know, such as 非遗), or its own
        token without bigrams."""
        if self._bm25 is None:
            return 0
        runs = _CJK_RUN.findall(term) if self.mode != "jieba" else []
        sizes = [self._column_size("#" + r[i:i + 2]) or 0 for r in runs for i in range(len(r) - 1)]
        return min(sizes) if sizes else (self._column_size(term.lower()) or 0)

    def rarity(self, term: str) -> float:
        """1 for a term in every row, up to 1 + ln(rows) for a term in one. A term in no row is
        the user's own wording (住房补贴 that no report mentions, or a paraphrase): it counts as
        moderately rare, so paragraphs matching only a question's common words do not answer it."""
        rows = len(self.tokens)
        if not rows:
            return 1.0
        df = self.doc_freq(term)
        return 1.0 + math.log(rows / df) if df else 1.0 + math.log(rows) / 2

    def _column_size(self, token: str) -> int | None:
        i = self._bm25.vocab_dict.get(token)
        if i is None:
            return None
        indptr = self._bm25.scores["indptr"]
        return int(indptr[i + 1] - indptr[i]) if i + 1 < len(indptr) else None

    def save(self, folder: str | Path) -> None:
        with open(Path(folder) / TOKENS_FILE, "w", encoding="utf-8") as f:
            f.write(json.dumps({"mode": self.mode}, ensure_ascii=False) + "\n")
            for row in self.tokens:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> BM25Index:
        with open(Path(folder) / TOKENS_FILE, encoding="utf-8") as f:
            head = json.loads(f.readline())
            tokens = [json.loads(line) for line in f if line.strip()]
        return cls(head["mode"]).build(tokens=tokens)
