"""Which FAISS index holds an index's chunk vectors, how it is read, and how it is searched.

Exact (IndexFlatIP) while exact is cheap, HNSW above FLAT_MAX_ROWS. Measured on this project's
2-core machine (single-thread search, 384 dimensions, k=100): flat search costs about 0.14 µs per
row (27 ms at 200,000 rows, the memory-bandwidth bound), so 50,000 rows cost about 7 ms, a
seventh of the 50 ms hybrid budget, while an HNSW graph at 50,000 rows takes about 21 s to build.
Above that the build cost pays for itself: HNSW answers in about 1–2 ms at 200,000 rows; its
recall@10 against flat is reported by eval/benchmark.py.

Both are written with faiss.write_index and read with IO_FLAG_MMAP_IFC: the file is mapped, not
copied, so opening costs nothing however big it is and only the pages a query touches are read.

Growing an HNSW index: rows appended by an ingest go to a flat delta segment beside the graph
(``vectors_delta.faiss``, searched exactly, its hits merged with the graph's by score), so an
ingest of a few documents writes the delta (at most DELTA_MAX_ROWS rows, ≈ 30 MB) instead of
loading, extending and rewriting the whole graph file (370 MB at 200,000 rows). Once the delta
would pass DELTA_MAX_ROWS its rows are added to the graph and the graph is written again.
"""
from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "passive")  # before faiss loads OpenMP: see SEARCH_THREADS

import faiss  # noqa: E402
import numpy as np  # noqa: E402

FLAT_MAX_ROWS = 50_000
HNSW_M = 32  # neighbours per node: faiss's recommended 32 for ≥ 0.98 recall at a few ms
HNSW_EF_CONSTRUCTION = 40  # faiss's default; build time grows linearly with it
HNSW_EF_SEARCH = 256  # candidates per search: ≥ fetch_k (100); recall@10 measured by the benchmark
# Below this many allowed rows a filtered search is exact over those rows (≈ 8 ms at 20,000:
# copying and scoring cost about 0.4 µs per row); above it HNSW walks with the filter, which keeps
# its recall while the filter keeps ≥ 10 % of a 200,000-row index.
EXACT_SUBSET_MAX_ROWS = 20_000
# One thread per search: a single query vector gains nothing from more (flat 200k: 27 ms on one
# thread, 75 ms on two while other processes share the 2 cores), and with OMP_WAIT_POLICY=passive
# idle OpenMP threads sleep instead of spinning against the embedding model and other users.
SEARCH_THREADS = 1
BUILD_THREADS = os.cpu_count() or 1  # building HNSW is parallel and worth every core

# Rows in the flat delta segment before they are added to the HNSW graph: exact search over
# 20,000 rows costs about 3 ms, and the graph is rewritten at most once per that many rows.
DELTA_MAX_ROWS = 20_000
DELTA_FILE = "vectors_delta.faiss"

faiss.omp_set_num_threads(SEARCH_THREADS)


class Segmented:
    """An HNSW graph (rows 0 … main.ntotal - 1) and a flat delta segment (the rows after them),
    read and searched as one index."""

    def __init__(self, main, delta) -> None:
        self.main, self.delta = main, delta
        self.d = main.d

    @property
    def ntotal(self) -> int:
        return self.main.ntotal + self.delta.ntotal

    def reconstruct(self, row: int) -> np.ndarray:
        row = int(row)
        if row < self.main.ntotal:
            return self.main.reconstruct(row)
        return self.delta.reconstruct(row - self.main.ntotal)


def read_version(folder, *, writable: bool = False):
    """The chunk vectors of a version folder: its index file, with its delta segment if any."""
    main = read(Path(folder) / "vectors.faiss", writable=writable)
    if not (Path(folder) / DELTA_FILE).exists():
        return main
    delta = read(Path(folder) / DELTA_FILE, writable=writable)
    if delta.d != main.d:
        raise RuntimeError(f"{DELTA_FILE} 的维度 {delta.d} 与 vectors.faiss 的 {main.d} 不同")
    return Segmented(main, delta)


def kind_for(rows: int) -> str:
    return "flat" if rows <= FLAT_MAX_ROWS else "hnsw"


def kind_of(index) -> str:
    if isinstance(index, Segmented):
        return kind_of(index.main)
    return "hnsw" if isinstance(index, faiss.IndexHNSW) else "flat"


def new_index(dim: int, rows: int):
    if kind_for(rows) == "flat":
        return faiss.IndexFlatIP(dim)
    index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def add(index, vectors: np.ndarray) -> None:
    if not len(vectors):
        return
    faiss.omp_set_num_threads(BUILD_THREADS)
    try:
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    finally:
        faiss.omp_set_num_threads(SEARCH_THREADS)


def read(path, *, writable: bool = False):
    """The index in `path`: memory-mapped read-only, or (writable) loaded to be added to."""
    index = faiss.read_index(str(path), 0 if writable else faiss.IO_FLAG_MMAP_IFC)
    if isinstance(index, faiss.IndexHNSW):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def write(index, path) -> None:
    faiss.write_index(index, str(path))


def vectors(index, rows: np.ndarray | None = None) -> np.ndarray:
    """The stored vectors of `rows` (all rows when None), as float32."""
    if isinstance(index, Segmented):
        rows = np.arange(index.ntotal, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
        out = np.zeros((len(rows), index.d), dtype=np.float32)
        split = rows < index.main.ntotal
        if split.any():
            out[split] = vectors(index.main, rows[split])
        if (~split).any():
            out[~split] = vectors(index.delta, rows[~split] - index.main.ntotal)
        return out
    if rows is None:
        return index.reconstruct_n(0, index.ntotal) if index.ntotal else np.zeros((0, index.d), np.float32)
    rows = np.asarray(rows, dtype=np.int64)
    if not len(rows):
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_batch(rows)


def search(index, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
    """(row, inner product) of the k best rows, only `allowed` rows (a boolean per row) when given."""
    query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
    if index.ntotal == 0 or k <= 0:
        return []
    if isinstance(index, Segmented):
        n = index.main.ntotal
        hits = search(index.main, query, k, None if allowed is None else allowed[:n])
        hits += [(row + n, score) for row, score in
                 search(index.delta, query, k, None if allowed is None else allowed[n:])]
        hits.sort(key=lambda h: (-h[1], h[0]))
        return hits[:k]
    if allowed is None:
        scores, rows = index.search(query, min(k, index.ntotal))
    else:
        subset = np.flatnonzero(allowed)
        if not len(subset):
            return []
        if kind_of(index) == "hnsw" and len(subset) <= EXACT_SUBSET_MAX_ROWS:
            sims = vectors(index, subset) @ query[0]
            top = top_k(sims, k)
            return [(int(subset[i]), float(sims[i])) for i in top]
        bits = np.packbits(allowed, bitorder="little")  # referenced by the selector: kept alive here
        selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bits))
        if kind_of(index) == "hnsw":
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, k))
        else:
            params = faiss.SearchParameters(sel=selector)
        scores, rows = index.search(query, min(k, len(subset)), params=params)
    return [(int(r), float(s)) for s, r in zip(scores[0], rows[0]) if r >= 0]


def top_k(values: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k largest values, best first (ties: lower position first)."""
    if len(values) > k:
        part = np.argpartition(-values, k - 1)[:k]
    else:
        part = np.arange(len(values))
    return part[np.lexsort((part, -values[part]))]
