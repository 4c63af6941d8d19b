"""Which FAISS index holds an index's chunk vectors, how it is read, and how it is searched.

Exact (IndexFlatIP) while exact is cheap, HNSW above FLAT_MAX_ROWS. Measured on this project's
2-core machine (single-thread search, 384 dimensions, k=100): flat search costs about 0.14 µs per
row (27 ms at 200,000 rows, the memory-bandwidth bound), so 50,000 rows cost about 7 ms, a
seventh of the 50 ms hybrid budget, while an HNSW graph at 50,000 rows takes about 21 s to build.
Above that the build cost pays for itself: HNSW answers in about 1–2 ms at 200,000 rows; its
recall@10 against flat is reported by eval/benchmark.py.

Both are written with faiss.write_index and read with IO_FLAG_MMAP_IFC: the file is mapped, not
copied, so opening costs nothing however big it is and only the pages a query touches are read.
"""
from __future__ import annotations

import os

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

faiss.omp_set_num_threads(SEARCH_THREADS)


def kind_for(rows: int) -> str:
    return "flat" if rows <= FLAT_MAX_ROWS else "hnsw"


def kind_of(index) -> str:
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
