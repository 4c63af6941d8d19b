"""Sentence vectors: every sentence of every body paragraph, embedded at ingest with the index's
own model, so that whether a paragraph answers a question can be judged sentence by sentence on
meaning (快递员 ≈ 新就业群体), not only on the words the two share.

Stored beside the chunk vectors as ``sentences.npy`` (float32, no pickle, memory-mapped when
opened) and ``sentences.json`` (one key per row, read on the first lookup, not at open). A key is a hash of the normalised sentence, so an
unchanged sentence keeps its vector across re-ingests, and the same sentence in two paragraphs
is embedded once.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .text import normalise, sentences_of

VECTORS_FILE = "sentences.npy"
KEYS_FILE = "sentences.json"
MIN_CHARS = 6  # shorter pieces ("二是", "据介绍，") carry no claim to score
BATCH = 32


def sentence_key(sentence: str) -> str:
    return hashlib.sha1(normalise(sentence.strip()).encode("utf-8")).hexdigest()[:20]


def scored_sentences(paragraph: str) -> list[str]:
    """The sentences of a paragraph that evidence is scored on, as written."""
    return [s.strip() for s in sentences_of(paragraph) if len(s.strip()) >= MIN_CHARS]


class SentenceVectors:
    def __init__(self, keys: list[str] | None, vectors: np.ndarray, keys_file: Path | None = None) -> None:
        if keys is not None and len(keys) != len(vectors):
            raise ValueError(f"{len(keys)} sentence keys for {len(vectors)} vectors")
        self._keys = keys
        self._keys_file = keys_file  # read on first use when keys is None
        self.vectors = vectors
        self._row_of: dict[str, int] | None = None

    @property
    def keys(self) -> list[str]:
        if self._keys is None:
            keys = json.loads(self._keys_file.read_text(encoding="utf-8"))
            if not isinstance(keys, list) or len(keys) != len(self.vectors):
                raise ValueError(f"{self._keys_file} 与句向量的条数不一致")
            self._keys = keys
        return self._keys

    @property
    def _row(self) -> dict[str, int]:
        if self._row_of is None:
            self._row_of = {k: i for i, k in enumerate(self.keys)}
        return self._row_of

    def __len__(self) -> int:
        return len(self.vectors)

    def get(self, sentence: str) -> np.ndarray | None:
        row = self._row.get(sentence_key(sentence))
        return None if row is None else self.vectors[row]

    @classmethod
    def build(cls, paragraphs: Iterable[str], embed: Callable[[list[str]], np.ndarray], dim: int,
              previous: SentenceVectors | None = None,
              progress: Callable[[int, int], None] | None = None,
              keep_previous: bool = False) -> tuple[SentenceVectors, int]:
        """Vectors for every sentence of `paragraphs`; those `previous` has are reused. Returns
        the vectors and how many sentences were embedded now. keep_previous: `previous`'s rows
        come first and stay, and only sentences it lacks are added (an append-only ingest)."""
        wanted: dict[str, str] = {}
        for text in paragraphs:
            for s in scored_sentences(text):
                wanted.setdefault(sentence_key(s), s)
        if keep_previous and previous is not None and previous.vectors.shape[1:] == (dim,):
            have = previous._row
            added = [k for k in wanted if k not in have]
            fresh = np.zeros((len(added), dim), dtype=np.float32)
            for start in range(0, len(added), BATCH):
                part = added[start:start + BATCH]
                fresh[start:start + len(part)] = embed([wanted[k] for k in part])
                if progress:
                    progress(min(start + BATCH, len(added)), len(added))
            return cls(previous.keys + added, np.concatenate([previous.vectors, fresh])), len(added)
        keys = list(wanted)
        vectors = np.zeros((len(keys), dim), dtype=np.float32)
        missing = []
        for row, key in enumerate(keys):
            old = previous._row.get(key) if previous is not None and previous.vectors.shape[1:] == (dim,) else None
            if old is None:
                missing.append(row)
            else:
                vectors[row] = previous.vectors[old]
        for start in range(0, len(missing), BATCH):
            rows = missing[start:start + BATCH]
            vectors[rows] = embed([wanted[keys[r]] for r in rows])
            if progress:
                progress(min(start + BATCH, len(missing)), len(missing))
        return cls(keys, vectors), len(missing)

    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        np.save(folder / VECTORS_FILE, self.vectors, allow_pickle=False)
        (folder / KEYS_FILE).write_text(json.dumps(self.keys), encoding="utf-8")

    @classmethod
    def load(cls, folder: str | Path) -> SentenceVectors | None:
        """None for an index built before sentence vectors existed."""
        folder = Path(folder)
        if not (folder / VECTORS_FILE).exists():
            return None
        vectors = np.load(folder / VECTORS_FILE, mmap_mode="r", allow_pickle=False)
        if vectors.ndim != 2:
            raise ValueError(f"句向量的形状 {vectors.shape} 不对")
        return cls(None, vectors, folder / KEYS_FILE)
