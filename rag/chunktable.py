"""The chunks of an opened index: row i of the vector and BM25 indexes is chunk row i.

Their texts and metadata stay in docs.sqlite (table `chunks`) and are read when a result needs
them, a few rows at a time; opening an index reads none of them. What every search needs for
every row is a code, kept in ``chunk_codes.npy`` (int32, two columns: the row's document and
its place, as positions in the manifest's `doc_codes` and `places` lists), so a place or
document filter is a comparison over one array, never a loop over metadata. A row whose
document was removed or replaced keeps its number until the next merge, with document code
REMOVED.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import NamedTuple

import numpy as np
from langchain_core.documents import Document

CODES_FILE = "chunk_codes.npy"
REMOVED = -1
DOC, PLACE = 0, 1  # the columns of chunk_codes.npy
# the chunk table of docs.sqlite; `row` is the row in the vector and BM25 indexes
SCHEMA = """
CREATE TABLE IF NOT EXISTS chunks (
    row INTEGER PRIMARY KEY, id TEXT, paragraph_id TEXT, doc TEXT, article INTEGER, paragraph INTEGER,
    text TEXT, place TEXT, place_full TEXT, title TEXT, hash TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS chunks_id ON chunks (id);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc);
CREATE INDEX IF NOT EXISTS chunks_hash ON chunks (hash);
"""
COLUMNS = ("id", "paragraph_id", "doc", "article", "paragraph", "text", "place", "place_full", "title", "hash")
META = ("paragraph_id", "doc", "article", "paragraph", "place", "place_full", "title", "hash")
Database = Callable[[], AbstractContextManager[sqlite3.Connection]]


class ChunkKey(NamedTuple):
    id: str
    paragraph_id: str
    doc: str
    article: int


def chunk_document(r: sqlite3.Row) -> Document:
    return Document(id=r["id"], page_content=r["text"], metadata={k: r[k] for k in META})


class ChunkTable(Sequence):
    """A read-only sequence of the index's chunks as LangChain Documents, backed by SQLite."""

    def __init__(self, db: Database, codes: np.ndarray, doc_codes: list[str], places: list[list[str]]) -> None:
        self._db = db
        self.codes = codes
        self.doc_codes = doc_codes
        self.places = places  # [place, place_full] per place code

    def __len__(self) -> int:
        return len(self.codes)

    @property
    def removed(self) -> np.ndarray:
        return self.codes[:, DOC] == REMOVED

    def __getitem__(self, row):  # type: ignore[override]
        if isinstance(row, slice):
            return [self[r] for r in range(*row.indices(len(self)))]
        found = self.rows([int(row)]).get(int(row))
        if found is None:
            raise IndexError(f"chunk row {row} is not in the index (removed, awaiting a merge)")
        return found

    def __iter__(self) -> Iterator[Document]:
        """The chunks in row order (removed rows skipped)."""
        with self._db() as db:
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM chunks ORDER BY row").fetchall()
        return iter([chunk_document(r) for r in rows])

    def rows(self, rows: list[int]) -> dict[int, Document]:
        """row → Document for these rows (removed rows are absent)."""
        out: dict[int, Document] = {}
        with self._db() as db:
            for start in range(0, len(rows), 500):
                batch = [int(r) for r in rows[start:start + 500]]
                for r in db.execute(f"SELECT row, {', '.join(COLUMNS)} FROM chunks "
                                    f"WHERE row IN ({','.join('?' * len(batch))})", batch):
                    out[r["row"]] = chunk_document(r)
        return out

    def keys(self, rows: list[int]) -> dict[int, ChunkKey]:
        """row → what ranking needs of it (no text): read for a search's candidates."""
        out: dict[int, ChunkKey] = {}
        with self._db() as db:
            for start in range(0, len(rows), 500):
                batch = [int(r) for r in rows[start:start + 500]]
                for r in db.execute(f"SELECT row, id, paragraph_id, doc, article FROM chunks "
                                    f"WHERE row IN ({','.join('?' * len(batch))})", batch):
                    out[r[0]] = ChunkKey(r[1], r[2], r[3], r[4])
        return out

    def row_of(self, chunk_id: str) -> int | None:
        with self._db() as db:
            found = db.execute("SELECT row FROM chunks WHERE id=?", (chunk_id,)).fetchone()
        return None if found is None else int(found["row"])

    def mask(self, place: str | None, doc: str | None) -> np.ndarray | None:
        """Rows to search: those of `doc` and `place` (a place matches when its name or its whole
        chain contains the text), and never removed rows. None: every row."""
        if not place and not doc and not self.removed.any():
            return None
        mask = ~self.removed
        if doc:
            wanted = [i for i, name in enumerate(self.doc_codes) if name == doc]
            mask &= np.isin(self.codes[:, DOC], wanted)
        if place:
            wanted = [i for i, (name, full) in enumerate(self.places) if place in full or place in name]
            mask &= np.isin(self.codes[:, PLACE], wanted)
        return mask


class RowsById:
    """chunk id → row, looked up in SQLite (what FaissStore._row_of is for an in-memory store)."""

    def __init__(self, table: ChunkTable) -> None:
        self._table = table

    def get(self, chunk_id: str, default=None):
        row = self._table.row_of(chunk_id)
        return default if row is None else row

    def __getitem__(self, chunk_id: str) -> int:
        row = self._table.row_of(chunk_id)
        if row is None:
            raise KeyError(chunk_id)
        return row

    def __contains__(self, chunk_id: object) -> bool:
        return isinstance(chunk_id, str) and self._table.row_of(chunk_id) is not None
