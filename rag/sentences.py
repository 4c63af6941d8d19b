"""Sentence vectors: every sentence of every body paragraph, embedded at ingest with the index's
own model, so that whether a paragraph answers a question can be judged sentence by sentence on
meaning (快递员 ≈ 新就业群体), not only on the words the two share.

Stored beside the chunk vectors as ``sentences.npy`` (float32, no pickle, memory-mapped when
opened) and ``sentences.json`` (one key per row, read on the first lookup, not at open). A key is a hash of the normalised sentence, so an
unchanged sentence keeps its vector across re-ingests, and the same sentence in two paragraphs
is embedded once.

Segments: an ingest that appends documents writes only the sentences it adds, as a segment of
its own (``sentences+<version>.npy`` and ``.json``), and keeps the earlier segments' files as they
are (linked into the new version, not rewritten: at 200,000 paragraphs the first one is about a
gigabyte). A full build writes one segment, the two files above.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .text import normalise, sentences_of

VECTORS_FILE = "sentences.npy"
KEYS_FILE = "sentences.json"
MIN_CHARS = 6  # shorter pieces ("二是", "据介绍，") carry no claim to score
BATCH = 32
SEGMENT = re.compile(r"sentences\+[\w.-]+\.npy")  # an appended segment's vectors; its keys: .json
# An append that would make more segments than this writes them all as one again.
MAX_SEGMENTS = 32


def segment_files(folder: str | Path) -> list[str]:
    """The appended segments' files in `folder`, in the order they were written."""
    folder = Path(folder)
    names = sorted(f.name for f in folder.iterdir() if SEGMENT.fullmatch(f.name)) if folder.is_dir() else []
    return [n for name in names for n in (name, name[:-4] + ".json")]


def sentence_key(sentence: str) -> str:
    return hashlib.sha1(normalise(sentence.strip()).encode("utf-8")).hexdigest()[:20]


def scored_sentences(paragraph: str) -> list[str]:
    """The sentences of a paragraph that evidence is scored on, as written."""
    return [s.strip() for s in sentences_of(paragraph) if len(s.strip()) >= MIN_CHARS]


class SentenceVectors:
    """Sentence vectors in one or more segments: (keys or None, vectors, keys file, name)."""

    def __init__(self, keys: list[str] | None, vectors: np.ndarray, keys_file: Path | None = None) -> None:
        if keys is not None and len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} sentence keys for {len(vectors)} vectors")
        self._segments: list[dict] = [{"keys": keys, "vectors": vectors, "keys_file": keys_file,
                                       "name": "", "fresh": keys_file is None}]
        self._row_of: dict[str, int] | None = None
        self._starts = [0]

    def _add_segment(self, keys: list[str] | None, vectors: np.ndarray, name: str, keys_file: Path | None = None) -> None:
        """A segment after the others: built now (`keys`), or loaded (`keys_file`, read on first use)."""
        self._starts.append(len(self))
        self._segments.append({"keys": keys, "vectors": vectors, "keys_file": keys_file, "name": name,
                               "fresh": keys_file is None})
        self._row_of = None

    @staticmethod
    def _keys_of(segment: dict) -> list[str]:
        if segment["keys"] is None:
            keys = json.loads(segment["keys_file"].read_text(encoding="utf-8"))
            if not isinstance(keys, list) or len(keys) != len(segment["vectors"]):
                raise ValueError(f"{segment['keys_file']} 与句向量的条数不一致")
            segment["keys"] = keys
        return segment["keys"]

    @property
    def keys(self) -> list[str]:
        return [k for segment in self._segments for k in self._keys_of(segment)]

    @property
    def vectors(self) -> np.ndarray:
        """All vectors as one array (a copy when there are several segments)."""
        if len(self._segments) == 1:
            return self._segments[0]["vectors"]
        return np.concatenate([s["vectors"] for s in self._segments])

    @property
    def dim(self) -> int | None:
        shape = self._segments[0]["vectors"].shape
        return shape[1] if len(shape) == 2 else None

    @property
    def _row(self) -> dict[str, int]:
        if self._row_of is None:
            self._row_of = {k: i for i, k in enumerate(self.keys)}
        return self._row_of

    def __len__(self) -> int:
        return sum(len(s["vectors"]) for s in self._segments)

    def _vector(self, row: int) -> np.ndarray:
        n = bisect.bisect_right(self._starts, row) - 1
        return self._segments[n]["vectors"][row - self._starts[n]]

    def get(self, sentence: str) -> np.ndarray | None:
        row = self._row.get(sentence_key(sentence))
        return None if row is None else self._vector(row)

    @classmethod
    def build(cls, paragraphs: Iterable[str], embed: Callable[[list[str]], np.ndarray], dim: int,
              previous: SentenceVectors | None = None,
              progress: Callable[[int, int], None] | None = None,
              keep_previous: bool = False, segment: str = "") -> tuple[SentenceVectors, int]:
        """Vectors for every sentence of `paragraphs`; those `previous` has are reused. Returns
        the vectors and how many sentences were embedded now. keep_previous: `previous`'s rows
        come first and stay, and only sentences it lacks are added (an append-only ingest), as a
        new segment named `segment` when given (else all in one)."""
        wanted: dict[str, str] = {}
        for text in paragraphs:
            for s in scored_sentences(text):
                wanted.setdefault(sentence_key(s), s)
        same_dim = previous is not None and previous.dim == dim
        if keep_previous and same_dim:
            have = previous._row
            added = [k for k in wanted if k not in have]
            fresh = np.zeros((len(added), dim), dtype=np.float32)
            for start in range(0, len(added), BATCH):
                part = added[start:start + BATCH]
                fresh[start:start + len(part)] = embed([wanted[k] for k in part])
                if progress:
                    progress(min(start + BATCH, len(added)), len(added))
            if segment and len(previous._segments) < MAX_SEGMENTS:
                out = cls.__new__(cls)
                out._segments = [dict(s, fresh=s["fresh"]) for s in previous._segments]
                out._starts, out._row_of = list(previous._starts), None
                if added:
                    out._add_segment(added, fresh, segment)
                return out, len(added)
            return cls(previous.keys + added, np.concatenate([previous.vectors, fresh])), len(added)
        keys = list(wanted)
        vectors = np.zeros((len(keys), dim), dtype=np.float32)
        missing = []
        for row, key in enumerate(keys):
            old = previous._row.get(key) if same_dim else None
            if old is None:
                missing.append(row)
            else:
                vectors[row] = previous._vector(old)
        for start in range(0, len(missing), BATCH):
            rows = missing[start:start + BATCH]
            vectors[rows] = embed([wanted[keys[r]] for r in rows])
            if progress:
                progress(min(start + BATCH, len(missing)), len(missing))
        return cls(keys, vectors), len(missing)

    def save(self, folder: str | Path) -> list[str]:
        """Writes the segments built in memory; returns the names of the files of the others,
        unchanged in the folder they were loaded from (the caller links them into `folder`)."""
        folder = Path(folder)
        carried = []
        for segment in self._segments:
            stem = segment["name"] or VECTORS_FILE[:-4]
            names = (f"{stem}.npy", f"{stem}.json")
            if segment["fresh"]:
                np.save(folder / names[0], segment["vectors"], allow_pickle=False)
                (folder / names[1]).write_text(json.dumps(self._keys_of(segment)), encoding="utf-8")
            else:
                carried += names
        return carried

    @classmethod
    def load(cls, folder: str | Path) -> SentenceVectors | None:
        """None for an index built before sentence vectors existed."""
        folder = Path(folder)
        if not (folder / VECTORS_FILE).exists():
            return None
        out = None
        files = segment_files(folder)
        for name in [VECTORS_FILE, *files[::2]]:
            vectors = np.load(folder / name, mmap_mode="r", allow_pickle=False)
            if vectors.ndim != 2 or (out is not None and vectors.shape[1] != out.dim):
                raise ValueError(f"句向量 {name} 的形状 {vectors.shape} 不对")
            if out is None:
                out = cls(None, vectors, folder / KEYS_FILE)
                out._segments[0]["fresh"] = False
            else:
                out._add_segment(None, vectors, name[:-4], folder / (name[:-4] + ".json"))
        return out
