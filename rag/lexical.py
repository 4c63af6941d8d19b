"""BM25 over Chinese words (jieba), optionally with character bigrams for terms jieba splits badly.

The index is bm25s's own (Lucene BM25, k1 1.5, b 0.75): a sparse matrix of precomputed scores
per (token, row), saved with bm25s's `save` and opened with `BM25.load(mmap=True)` without
pickle, so opening costs the same at 50 rows and at 200,000. Beside it two arrays of ours make
an index grow without tokenising again: the term frequency of every stored entry and the token
count of every row.

Growing (Lucene's design): the files above are the main segment and are never rewritten by an
ingest that only appends. The rows of new documents go to a small segment of their own
(``bm25+<version>_*``: postings and term frequencies, no scores), and a removed document's rows
are marked REMOVED in ``bm25_rows.npy`` (800 KB at 200,000 rows, the only file rewritten). Until
the segments are merged, scores are computed at query time from the term frequencies with the
statistics of the whole corpus (N, average length and document frequency of the live rows), the
same formula bit for bit as the precomputed ones, so search results do not depend on how the
index was grown. ``bm25_segments.json`` lists the extra segments; a fresh build or a merge
(`extended`) writes one main segment with exact precomputed scores and no list.
"""
from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from .text import INDEX_STOPWORDS, QUESTION_WORDS, segmenter

TOKENIZERS = ("jieba", "jieba+bigram", "bigram")
# bm25s's files, under names of ours (flat in the version folder), and our two arrays
BM25_FILES = {"data": "bm25_data.npy", "indices": "bm25_indices.npy", "indptr": "bm25_indptr.npy",
              "vocab": "bm25_vocab.json", "params": "bm25_params.json"}
TF_FILE = "bm25_tf.npy"  # term frequency of each stored entry, aligned with bm25_data.npy
ROWS_FILE = "bm25_rows.npy"  # tokens per row; REMOVED for a row of a removed document
FILES = (*BM25_FILES.values(), TF_FILE, ROWS_FILE)
SEGMENTS_FILE = "bm25_segments.json"  # only while there are extra segments or unscored removals
SEGMENT_PARTS = ("indices", "indptr", "tf", "vocab")  # files of an extra segment: f"{name}_{part}.npy/json"
# An ingest that would make more extra segments than this merges them all into the main one.
MAX_SEGMENTS = 16
REMOVED = -1
EMPTY_ROW = "\u0000"  # a row without tokens holds this one, as it always did with bm25s.index
K1, B = 1.5, 0.75  # bm25s's defaults (Lucene variant), which the golden baseline was measured with
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


# Characters that split a text into pieces tokenised independently: whitespace and Chinese
# punctuation are block boundaries for jieba (outside its re_han), never inside a CJK bigram
# run, and never a token themselves, so a text's tokens are, as a bag, its pieces' tokens.
_PIECE_BREAK = re.compile(r"[\s，。！？；：、“”‘’（）《》【】｜…—·]+")
PIECE_MEMO_MAX = 200_000  # pieces remembered while tokenising one ingest (≈ 100 MB at most)


def tokenize_many(texts: Iterable[str], mode: str = "jieba+bigram") -> list[list[str]]:
    """Index tokens of many texts: as a bag, each row equals tokenize(text, mode) (BM25 counts,
    it does not read order), computed once per distinct clause: a report's boilerplate, a title
    heading every chunk of its article, a sentence quoted twice are segmented once."""
    memo: dict[str, list[str]] = {}
    out = []
    for text in texts:
        tokens: list[str] = []
        for piece in _PIECE_BREAK.split(text):
            if not piece:
                continue
            found = memo.get(piece)
            if found is None:
                if len(memo) >= PIECE_MEMO_MAX:
                    memo.clear()
                found = memo[piece] = tokenize(piece, mode)
            tokens.extend(found)
        out.append(tokens)
    return out


# From this many texts on, tokenising is spread over a process pool (one worker per core): each
# worker pays about a second to load jieba's dictionary, which 20,000 chunks (≈ 30 s of
# segmenting on one core) repay many times over.
POOL_MIN_TEXTS = 20_000
POOL_BATCH = 2_000


def tokenize_all(texts: list[str], mode: str = "jieba+bigram") -> list[list[str]]:
    """tokenize_many, in a process pool for big ingests."""
    import os

    workers = os.cpu_count() or 1
    if len(texts) < POOL_MIN_TEXTS or workers < 2:
        return tokenize_many(texts, mode)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    batches = [texts[i:i + POOL_BATCH] for i in range(0, len(texts), POOL_BATCH)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return [row for batch in pool.map(tokenize_many, batches, [mode] * len(batches)) for row in batch]


class Segment:
    """Postings of rows appended after the main segment: its own vocabulary (token → column),
    global row numbers, term frequencies; no scores (they depend on the whole corpus)."""

    def __init__(self, name: str, vocab: dict[str, int], indptr: np.ndarray, indices: np.ndarray,
                 tf: np.ndarray, fresh: bool) -> None:
        self.name, self.vocab, self.indptr, self.indices, self.tf = name, vocab, indptr, indices, tf
        self.fresh = fresh  # built in memory, not yet saved

    def files(self) -> list[str]:
        return [f"{self.name}_{part}.{'json' if part == 'vocab' else 'npy'}" for part in SEGMENT_PARTS]

    def postings(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        t = self.vocab.get(token)
        if t is None:
            return None
        start, end = self.indptr[t], self.indptr[t + 1]
        return self.indices[start:end], self.tf[start:end]


class BM25Index:
    def __init__(self, mode: str = "jieba+bigram") -> None:
        self.mode = mode
        self.vocab: dict[str, int] = {}
        self.data = np.zeros(0, dtype=np.float32)  # score of each entry, column by column (CSC)
        self.indices = np.zeros(0, dtype=np.int32)  # row of each entry
        self.indptr = np.zeros(1, dtype=np.int64)  # entries of token t: indptr[t]:indptr[t + 1]
        self.tf = np.zeros(0, dtype=np.uint16)
        self.row_lengths = np.zeros(0, dtype=np.int32)  # REMOVED for removed rows
        self.segments: list[Segment] = []  # appended since the main segment was written
        self.exact = True  # `data` holds the current scores (no extra segment, no unscored removal)
        self.main_fresh = True  # the main segment was built in memory (save writes it)
        self.main_rows = 0  # rows when the main segment was written (bm25s's num_docs)
        self._stats: tuple[int, float] | None = None
        self._norm: np.ndarray | None = None  # per row, for scoring at query time
        self._live: np.ndarray | None = None  # per row: not removed (None: no row is)

    def __len__(self) -> int:
        return len(self.row_lengths)

    @property
    def live_rows(self) -> int:
        return int(np.count_nonzero(self.row_lengths != REMOVED))

    def _corpus(self) -> tuple[int, float]:
        """(live rows, their average length), as _scores computes them."""
        if self._stats is None:
            lengths = np.asarray(self.row_lengths)
            live = lengths != REMOVED
            n = int(live.sum())
            average = np.asarray(lengths[live], dtype=np.int64).mean() if n else 0.0
            self._live = None if n == len(lengths) else live
            if n:  # the length norm of every row, as _scores computes it
                self._norm = _length_norm(lengths, average)
            self._stats = (n, float(average))
        return self._stats

    def _postings(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, term frequencies) of the live rows holding `token`, over every segment."""
        parts = []
        t = self.vocab.get(token)
        if t is not None and t + 1 < len(self.indptr):
            start, end = self.indptr[t], self.indptr[t + 1]
            parts.append((self.indices[start:end], self.tf[start:end]))
        for segment in self.segments:
            found = segment.postings(token)
            if found is not None:
                parts.append(found)
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.uint16)
        if len(parts) == 1:
            rows, tf = np.asarray(parts[0][0]), np.asarray(parts[0][1])
        else:
            rows = np.concatenate([np.asarray(r) for r, _ in parts])
            tf = np.concatenate([np.asarray(f) for _, f in parts])
        self._corpus()
        if self._live is None:
            return rows, tf
        live = self._live[rows]
        return rows[live], tf[live]

    # --- building ----------------------------------------------------------------------------
    def build(self, texts: list[str] | None = None, tokens: list[list[str]] | None = None) -> BM25Index:
        token_lists = tokens if tokens is not None else [tokenize(t, self.mode) for t in texts or []]
        empty = BM25Index(self.mode)
        self.__dict__.update(empty.extended(token_lists).__dict__)
        return self

    def appended(self, new_rows: Sequence[list[str]], removed: np.ndarray | None, name: str) -> BM25Index:
        """A new index sharing this one's segments: `removed` rows (a boolean per row) marked
        REMOVED, and `new_rows` at the end as a new segment called `name`. Costs what the new rows
        cost; the scores are then computed at query time (see the module's docstring)."""
        out = BM25Index(self.mode)
        out.vocab, out.data, out.indices, out.indptr, out.tf = self.vocab, self.data, self.indices, self.indptr, self.tf
        out.main_fresh, out.main_rows = self.main_fresh, self.main_rows
        lengths = np.asarray(self.row_lengths, dtype=np.int64)
        if removed is not None and removed.any():
            lengths = np.where(removed, REMOVED, lengths)
        vocab: dict[str, int] = {}
        new_r, new_c, new_tf, new_lengths = _entries(new_rows, vocab, first_row=len(lengths))
        out.segments = list(self.segments)
        if len(new_rows):
            order = np.lexsort((new_r, new_c))
            indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
            np.cumsum(np.bincount(new_c, minlength=len(vocab)), out=indptr[1:])
            out.segments.append(Segment(name, vocab, indptr, new_r[order].astype(np.int32), new_tf[order], fresh=True))
        out.row_lengths = np.concatenate([lengths, new_lengths]).astype(np.int32)
        out.exact = self.exact and not out.segments and not (removed is not None and removed.any())
        return out

    def _collapsed(self) -> BM25Index:
        """The main segment and the extra ones as one main segment (scores not computed)."""
        vocab = dict(self.vocab)
        columns = [np.repeat(np.arange(len(self.indptr) - 1, dtype=np.int64), np.diff(self.indptr))]
        rows, tfs = [np.asarray(self.indices)], [np.asarray(self.tf)]
        for segment in self.segments:
            local = np.array([vocab.setdefault(t, len(vocab)) for t in segment.vocab], dtype=np.int64)
            columns.append(local[np.repeat(np.arange(len(segment.indptr) - 1, dtype=np.int64), np.diff(segment.indptr))])
            rows.append(np.asarray(segment.indices))
            tfs.append(np.asarray(segment.tf))
        column = np.concatenate(columns)
        # each segment is in (column, row) order and its rows follow the earlier segments' rows:
        # a stable sort by column gives (column, row) order overall
        order = np.argsort(column, kind="stable")
        out = BM25Index(self.mode)
        out.vocab = vocab
        out.indices = np.concatenate(rows)[order].astype(np.int32)
        out.tf = np.concatenate(tfs)[order]
        out.indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(column, minlength=len(vocab)), out=out.indptr[1:])
        out.row_lengths = np.asarray(self.row_lengths)
        return out

    def extended(self, new_rows: Sequence[list[str]], removed: np.ndarray | None = None,
                 compact: bool = False) -> BM25Index:
        """A new index: these rows, minus `removed` (a boolean per row), plus `new_rows` at the end.
        compact=False keeps removed rows as empty placeholders (row numbers stay, as the vector
        index's do); compact=True drops them and renumbers. Nothing is tokenised again: kept rows
        keep their term frequencies, and every score is recomputed for the new corpus: one main
        segment with exact scores."""
        if self.segments:
            return self._collapsed().extended(new_rows, removed, compact)
        out = BM25Index(self.mode)
        vocab = dict(self.vocab)
        lengths = np.asarray(self.row_lengths, dtype=np.int64)
        counts = np.diff(self.indptr)  # old entries per column
        indices, tf = np.asarray(self.indices), np.asarray(self.tf)
        placeholders = lengths == REMOVED  # rows marked removed whose entries are still stored
        removed = placeholders if removed is None else (np.asarray(removed, dtype=bool) | placeholders)
        if removed.any():
            lengths = np.where(removed, REMOVED, lengths)
            keep = ~removed[indices]
            columns = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
            counts = np.bincount(columns[keep], minlength=len(counts))
            indices, tf = indices[keep], tf[keep]
        rows = indices.astype(np.int64)
        if compact:
            live = lengths != REMOVED
            rows = (np.cumsum(live) - 1)[rows]  # renumbering keeps the order within each column
            lengths = lengths[live]
        new_r, new_c, new_tf, new_lengths = _entries(new_rows, vocab, first_row=len(lengths))
        # Merge without sorting the old entries: they are in column order, rows ascending, and
        # every new row comes after every old one, so in each column the new entries follow.
        order = np.lexsort((new_r, new_c))
        new_r, new_c, new_tf = new_r[order], new_c[order], new_tf[order]
        counts = np.concatenate([counts, np.zeros(len(vocab) - len(counts), dtype=counts.dtype)])
        new_counts = np.bincount(new_c, minlength=len(vocab))
        out.indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(counts + new_counts, out=out.indptr[1:])
        old_columns = np.repeat(np.arange(len(vocab), dtype=np.int64), counts)
        new_before = np.concatenate([[0], np.cumsum(new_counts)[:-1]])  # new entries in earlier columns
        old_through = np.cumsum(counts)  # old entries in this column and earlier ones
        at_old = np.arange(len(rows), dtype=np.int64) + new_before[old_columns]
        at_new = np.arange(len(new_r), dtype=np.int64) + old_through[new_c] if len(new_r) else np.zeros(0, np.int64)
        total = len(rows) + len(new_r)
        out.indices = np.empty(total, dtype=np.int32)
        out.indices[at_old], out.indices[at_new] = rows, new_r
        out.tf = np.empty(total, dtype=np.uint16)
        out.tf[at_old], out.tf[at_new] = tf, new_tf
        columns = np.empty(total, dtype=np.int64)
        columns[at_old], columns[at_new] = old_columns, new_c
        out.vocab = vocab
        lengths = np.concatenate([lengths, new_lengths])
        out.row_lengths = lengths.astype(np.int32)
        out.data = _scores(out.tf, out.indices, columns, out.indptr, lengths)
        out.main_rows = len(lengths)
        return out

    # --- searching -------------------------------------------------------------------------
    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for the query (zeros when nothing matches)."""
        scores = np.zeros(len(self), dtype=np.float32)
        if not self.exact:
            return self._scores_now(query, scores)
        for term in tokenize(query, self.mode, query=True):
            t = self.vocab.get(term)
            if t is not None:  # as bm25s adds them: term by term, in the query's order
                start, end = self.indptr[t], self.indptr[t + 1]
                scores[self.indices[start:end]] += self.data[start:end]
        return scores

    def _scores_now(self, query: str, scores: np.ndarray) -> np.ndarray:
        """The scores from term frequencies and the current corpus, as _scores computes them."""
        n, average = self._corpus()
        if not n:
            return scores
        for term in tokenize(query, self.mode, query=True):
            rows, tf = self._postings(term)
            if not len(rows):
                continue
            d = len(rows)
            idf = np.float32(_idf(n, d))
            tf32 = tf.astype(np.float32)
            scores[rows] += (idf * (tf32 / (self._norm[rows] + tf32))).astype(np.float32)
        return scores

    def doc_freq(self, term: str) -> int:
        """About how many rows hold `term` as a substring: its rarest character bigram (an upper
        bound that also counts words jieba splits or does not know, such as 非遗), or its own
        token without bigrams."""
        runs = _CJK_RUN.findall(term) if self.mode != "jieba" else []
        sizes = [self._column_size("#" + r[i:i + 2]) or 0 for r in runs for i in range(len(r) - 1)]
        return min(sizes) if sizes else (self._column_size(term.lower()) or 0)

    def rarity(self, term: str) -> float:
        """1 for a term in every row, up to 1 + ln(rows) for a term in one. A term in no row is
        the user's own wording (住房补贴 that no report mentions, or a paraphrase): it counts as
        moderately rare, so paragraphs matching only a question's common words do not answer it."""
        rows = self.live_rows
        if not rows:
            return 1.0
        df = self.doc_freq(term)
        return 1.0 + math.log(rows / df) if df else 1.0 + math.log(rows) / 2

    def _column_size(self, token: str) -> int | None:
        if not self.exact:
            return len(self._postings(token)[0]) or None
        i = self.vocab.get(token)
        if i is None or i + 1 >= len(self.indptr):
            return None
        return int(self.indptr[i + 1] - self.indptr[i])

    # --- files -----------------------------------------------------------------------------
    def save(self, folder: str | Path) -> list[str]:
        """Writes what was built in memory; returns the names of the files it did not write
        because they are unchanged in the folder this index was loaded from (the caller links
        them into `folder`)."""
        folder = Path(folder)
        carried = []
        if self.main_fresh:
            self._save_main(folder)
        else:
            carried += [*BM25_FILES.values(), TF_FILE]
        for segment in self.segments:
            if segment.fresh:
                for part in ("indices", "indptr", "tf"):
                    np.save(folder / f"{segment.name}_{part}.npy", getattr(segment, part), allow_pickle=False)
                (folder / f"{segment.name}_vocab.json").write_text(json.dumps(segment.vocab, ensure_ascii=False),
                                                                  encoding="utf-8")
            else:
                carried += segment.files()
        np.save(folder / ROWS_FILE, self.row_lengths, allow_pickle=False)
        if self.segments or not self.exact:
            (folder / SEGMENTS_FILE).write_text(json.dumps(
                {"segments": [s.name for s in self.segments], "exact": self.exact}), encoding="utf-8")
        return carried

    def _save_main(self, folder: Path) -> None:
        import bm25s

        engine = bm25s.BM25(k1=K1, b=B, method="lucene")
        engine.vocab_dict = self.vocab
        engine.nonoccurrence_array = None  # Lucene BM25 has none
        engine.scores = {"data": self.data, "indices": self.indices, "indptr": self.indptr,
                         "num_docs": self.main_rows if self.segments else len(self)}
        engine.save(folder, data_name=BM25_FILES["data"], indices_name=BM25_FILES["indices"],
                    indptr_name=BM25_FILES["indptr"], vocab_name=BM25_FILES["vocab"],
                    params_name=BM25_FILES["params"], allow_pickle=False)
        np.save(folder / TF_FILE, self.tf, allow_pickle=False)

    @classmethod
    def load(cls, folder: str | Path, mode: str) -> BM25Index:
        """Memory-mapped, without pickle: pages are read when a query touches them. The files are
        bm25s's (`bm25s.BM25.load(folder, mmap=True, …)` reads them, tests/test_lexical.py checks
        it); they are read here the way that function does (np.load(mmap_mode="r",
        allow_pickle=False) and the JSON vocabulary) because importing bm25s pulls in
        scipy.sparse, 0.3 s of every CLI call."""
        folder = Path(folder)
        index = cls(mode)

        def array(name: str) -> np.ndarray:
            return np.load(folder / name, mmap_mode="r", allow_pickle=False)

        index.data, index.indices, index.indptr = (array(BM25_FILES[k]) for k in ("data", "indices", "indptr"))
        index.vocab = json.loads((folder / BM25_FILES["vocab"]).read_text(encoding="utf-8"))
        params = json.loads((folder / BM25_FILES["params"]).read_text(encoding="utf-8"))
        index.tf, index.row_lengths = array(TF_FILE), array(ROWS_FILE)
        if not isinstance(index.vocab, dict) or (params.get("k1"), params.get("b"), params.get("method")) != (K1, B, "lucene"):
            raise ValueError("BM25 的参数文件或词表不是本程序写的")
        state = {}
        if (folder / SEGMENTS_FILE).exists():
            state = json.loads((folder / SEGMENTS_FILE).read_text(encoding="utf-8"))
            if not isinstance(state, dict) or not isinstance(state.get("segments"), list):
                raise ValueError(f"{SEGMENTS_FILE} 不是本程序写的")
        rows_ok = params.get("num_docs") == len(index.row_lengths) if not state else \
            isinstance(params.get("num_docs"), int) and params["num_docs"] <= len(index.row_lengths)
        if not (len(index.data) == len(index.indices) == len(index.tf) == index.indptr[-1]) \
                or len(index.indptr) != len(index.vocab) + 1 or not rows_ok:
            raise ValueError("BM25 的文件彼此不一致（条目数或行数不符）")
        index.main_fresh, index.main_rows = False, params["num_docs"]
        index.exact = bool(state.get("exact", True)) and not state.get("segments")
        for name in state.get("segments", []):
            if not isinstance(name, str) or not re.fullmatch(r"bm25\+[\w.-]+", name):
                raise ValueError(f"{SEGMENTS_FILE} 中的段名 {name!r} 不对")
            vocab = json.loads((folder / f"{name}_vocab.json").read_text(encoding="utf-8"))
            segment = Segment(name, vocab, array(f"{name}_indptr.npy"), array(f"{name}_indices.npy"),
                              array(f"{name}_tf.npy"), fresh=False)
            if not isinstance(vocab, dict) or len(segment.indptr) != len(vocab) + 1 \
                    or not (len(segment.indices) == len(segment.tf) == segment.indptr[-1]):
                raise ValueError(f"BM25 段 {name} 的文件彼此不一致")
            index.segments.append(segment)
        return index

    def segment_files(self) -> list[str]:
        """The files of the extra segments and their list (beside FILES)."""
        names = [f for s in self.segments for f in s.files()]
        return names + [SEGMENTS_FILE] if self.segments or not self.exact else names


def _entries(token_lists: Iterable[list[str]], vocab: dict[str, int], first_row: int):
    """(row, column, term frequency) of every distinct token of every row, and each row's length;
    new tokens join `vocab`."""
    rows, cols, tfs, lengths = [], [], [], []
    for offset, tokens in enumerate(token_lists):
        tokens = tokens or [EMPTY_ROW]  # an empty row would otherwise be dropped and shift the rest
        counts = Counter(tokens)
        lengths.append(len(tokens))
        cols.extend(vocab.setdefault(t, len(vocab)) for t in counts)
        tfs.extend(counts.values())
        rows.extend([first_row + offset] * len(counts))
    return (np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
            np.asarray(tfs, dtype=np.uint16), np.asarray(lengths, dtype=np.int64))


def _idf(n: int, d: int) -> float:
    """Lucene's idf of a term in `d` of `n` rows, in Python floats (as bm25s)."""
    return math.log(1 + (n - d + 0.5) / (d + 0.5))


def _length_norm(lengths: np.ndarray, average: float) -> np.ndarray:
    """k1 · (1 − b + b · length / average) per row, in float64 (as bm25s per document)."""
    return K1 * ((1 - B) + B * lengths.astype(np.float64) / average)


def _scores(tf: np.ndarray, rows: np.ndarray, cols: np.ndarray, indptr: np.ndarray,
            lengths: np.ndarray) -> np.ndarray:
    """bm25s's Lucene scores, bit for bit: idf computed in Python floats and stored as float32,
    the length norm in float64 per row, their product stored as float32."""
    live = lengths != REMOVED
    n = int(live.sum())
    if not n or not len(tf):
        return np.zeros(len(tf), dtype=np.float32)
    average = np.asarray(lengths[live], dtype=np.int64).mean()
    df = np.diff(indptr)
    idf = np.zeros(len(df), dtype=np.float32)
    for t, d in enumerate(df.tolist()):
        if d:
            idf[t] = _idf(n, d)
    norm = _length_norm(lengths, average)
    tf32 = tf.astype(np.float32)
    return (idf[cols] * (tf32 / (norm[rows] + tf32))).astype(np.float32)
