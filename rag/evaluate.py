"""Measure the system against a golden set.

- `retrieval_scores`: retrieval alone (recall@k, MRR, nDCG@10 per mode and question type), for
  `rag eval-retrieval`.
- `run_eval`: every question through the real answer chain (`rag eval`): retrieval, answer
  correctness, citation hit, place recall/precision, refusals, ALCE-style citation recall and
  precision decided by the deterministic checker (rag.answer.verify), an optional LLM judge, latency;
  compared with a stored baseline; reports written by rag.report.

Every score is computed per question first (results.jsonl keeps them), and the summaries are
means over the questions a metric applies to. A baseline stores those per-question records, so
a run on a subset (`--limit`) is compared with the baseline restricted to the same questions.
"""
from __future__ import annotations

import json
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean

import numpy as np

from . import report
from .errors import InputError, RagError
from .golden import GoldenItem, evidence_paragraphs, load_golden
from .metrics import (HEADLINE, HIGHER_IS_BETTER, LABELS, METRIC_KEYS, METRICS, RETRIEVAL_K, STAGES,  # noqa: F401
                      ndcg_at_k, place_key, recall_at_k, reciprocal_rank)
from .places import split_units
from .answer.asked_places import place_aliases
from .answer.question import READ_AS_LINE
from .schema import AnswerResult, Citation, Place
from .answer.verify import Source, check
from .text import citations_in, normalise, split_sentences, strip_citations

BASELINE_FORMAT = 1


# --- retrieval alone (rag eval-retrieval) -----------------------------------------------------
def retrieval_scores(index, items: list[GoldenItem], mode: str, k: int = 5, fetch: int = 10) -> dict:
    retriever = index.retriever(k=max(k, fetch), mode=mode)
    per_type: dict[str, list[dict]] = defaultdict(list)
    unmatched: list[str] = []
    for item in items:
        if not item.answerable:
            continue
        groups = evidence_paragraphs(item, index)
        if not any(groups):
            unmatched.append(item.id)
            continue
        ranked = [d.metadata["id"] for d in retriever.search(item.question)]
        row = {
            "id": item.id,
            f"recall@{k}": recall_at_k(ranked, groups, k),
            "mrr": reciprocal_rank(ranked, groups),
            "ndcg@10": ndcg_at_k(ranked, groups, 10),
        }
        per_type[item.type].append(row)
        per_type["all"].append(row)
    summary = {
        t: {m: round(mean(r[m] for r in rows), 4) for m in (f"recall@{k}", "mrr", "ndcg@10")} | {"n": len(rows)}
        for t, rows in per_type.items()
    }
    return {"summary": summary, "rows": per_type["all"], "unmatched": unmatched}


def eval_index_dir(root: Path, spec: str) -> Path:
    return root / "eval" / re.sub(r"[^A-Za-z0-9_.-]+", "_", spec)


# --- answers ----------------------------------------------------------------------------------
def _squash(text: str) -> str:
    return re.sub(r"\s+", "", normalise(text)).lower()


def answer_text(answer: str) -> str:
    """What must_include is matched against: NFKC, citation markers and whitespace removed."""
    return _squash(strip_citations(answer))


def missing_groups(answer: str, must_include: list[list[str]]) -> list[list[str]]:
    """The must_include groups none of whose alternatives the answer contains."""
    text = answer_text(answer)
    return [group for group in must_include if not any(_squash(alt) in text for alt in group if alt.strip())]


def is_correct(item: GoldenItem, result: AnswerResult) -> bool:
    """Answerable: not refused and every must_include group matched. Unanswerable: refused."""
    if not item.answerable:
        return bool(result.refused)
    return not result.refused and not missing_groups(result.answer, item.must_include)


def citation_hit(result: AnswerResult, groups: list[set[str]]) -> bool | None:
    """Does at least one cited paragraph hold evidence? None when it does not apply (refused, or
    no evidence paragraph known)."""
    evidence = set().union(*groups) if groups else set()
    if result.refused or not evidence:
        return None
    return any(c.id in evidence for c in result.citations)


# --- places -----------------------------------------------------------------------------------
def _chains(citations: Iterable[Citation]) -> list[Place]:
    out = []
    for c in citations:
        if c.place_full:
            p = split_units(c.place_full)
            if p.name:
                out.append(p)
    return out


def places_named(answer: str, vocab: Iterable[str], chains: Iterable[Place] = (),
                 keep: Iterable[str] = ()) -> set[str]:
    """The places (as place_key) an answer names, among `vocab`, by full or short name.

    "莱阳市（山东省烟台市莱阳市）" names 莱阳市, not 烟台市 too: a parent that only appears
    inside the administrative chain of a named place is not counted (unless it is in `keep`,
    the places the question expects). Nor is a place named only to say how a name was read
    ("“芝浮”按芝罘区理解：" before the places of "除了芝浮区还有哪里…").
    """
    text = normalise(strip_citations(READ_AS_LINE.sub("", answer)))
    keep_keys = {place_key(k) for k in keep}
    for p in sorted({(p.province, p.city, p.county) for p in chains}, key=lambda t: -len("".join(t))):
        province, city, county = p
        leaf = county or city
        parents = [x for x in (province, city) if x and x != leaf]
        if not leaf or not parents or any(place_key(x) in keep_keys for x in parents):
            continue
        for chain in {"".join(parents) + leaf, (city + leaf) if city and city != leaf else "",
                      (province + leaf) if province else ""} - {""}:
            text = text.replace(chain, leaf)
    found: set[str] = set()
    for name in sorted(set(vocab), key=len, reverse=True):
        name = normalise(name)
        forms = sorted({name, place_key(name)}, key=len, reverse=True)
        for form in forms:
            if len(form) >= 2 and form in text:
                found.add(place_key(name))
                text = text.replace(form, "\u3000")  # a shorter name inside it is not a mention
    return found


def place_scores(item: GoldenItem, result: AnswerResult,
                 vocab: Iterable[str]) -> tuple[float | None, float | None, list[str]]:
    """(recall, precision, places named) of an answer against item.places, places compared by
    place_key. Recall is 0 for a refusal; precision is None when the answer names no place."""
    expected = {place_key(p) for p in item.places}
    if not expected:
        return None, None, []
    if result.refused:
        return 0.0, None, []
    chains = _chains(list(result.citations) + list(result.retrieved))
    named = places_named(result.answer, set(vocab) | set(item.places), chains, keep=item.places)
    recall = len(named & expected) / len(expected)
    precision = len(named & expected) / len(named) if named else None
    return recall, precision, sorted(named)


# --- grounding (ALCE-style citation recall and precision, decided by rag.answer.verify) ----------------
def source_of(c: Citation) -> Source:
    """The verify.Source a citation points at: its paragraph, title, and every name of its place."""
    names = {c.place, place_key(c.place)} if c.place else set()
    if c.place_full:
        names |= split_units(c.place_full).names()
    return Source(text=c.text, title=c.title, place_names=frozenset(n for n in names if n))


_LIST_PREFIX = re.compile(r"^\s*(?:[-*•]|\d+[.、）)])\s*")


def _answer_sentences(answer: str) -> list[tuple[str, list[int], bool]]:
    """(sentence, citations, makes a claim) for an answer that came without sentence verdicts."""
    out = []
    for line in answer.splitlines():
        line = line[len(m.group(0)):] if (m := _LIST_PREFIX.match(line)) else line
        for s in split_sentences(line):
            cited = citations_in(s)
            body = strip_citations(s)
            claim = check(body, []).has_claim and not (body.endswith(("：", ":")) and not cited)
            out.append((s, cited, claim))
    return out


def grounding(result: AnswerResult, place_vocab: Iterable[str] = ()) -> dict:
    """ALCE-style citation recall and precision of one answer.

    Recall: share of the sentences that make a claim (verdict != no_claim) whose citations,
    re-checked with rag.answer.verify.check, support them; a sentence the chain removed counts as
    unsupported. Precision: share of the citations in kept sentences that are needed: the
    sentence is supported by all its citations, and the citation supports it alone or the
    others do not support it without it.
    """
    place_vocab = list(place_vocab)
    sources = {c.n: source_of(c) for c in result.citations}
    if result.refused:
        return {"claims": 0, "supported": 0, "citations": 0, "precise": 0,
                "citation_recall": None, "citation_precision": None, "sentences": []}
    if result.sentences:
        rows = []
        for s in result.sentences:
            if s.verdict == "no_claim":
                continue
            if s.verdict == "removed":
                rows.append((s.original, None, True))
            else:
                rows.append((s.text, list(dict.fromkeys(s.citations or citations_in(s.text))), True))
    else:
        rows = [(s, list(dict.fromkeys(c)), claim) for s, c, claim in _answer_sentences(result.answer) if claim]
    claims = supported = n_cites = precise = 0
    detail = []
    for text, cited, _ in rows:
        claims += 1
        if cited is None:  # removed by the chain
            detail.append({"text": text, "supported": False, "citations": [], "imprecise": [], "reason": "removed"})
            continue
        srcs = [sources[n] for n in cited if n in sources]
        support = check(text, srcs, place_vocab)
        ok = support.supported and bool(srcs)
        supported += ok
        imprecise = []
        for n in cited:
            n_cites += 1
            if n not in sources or not ok:
                imprecise.append(n)
                continue
            if check(text, [sources[n]], place_vocab).supported:
                precise += 1
                continue
            rest = [sources[m] for m in cited if m != n and m in sources]
            if rest and check(text, rest, place_vocab).supported:
                imprecise.append(n)  # the others support it without this one
            else:
                precise += 1
        detail.append({"text": text, "supported": ok, "citations": cited, "imprecise": imprecise,
                       "reason": support.reason if srcs else "无引用"})
    return {
        "claims": claims, "supported": supported, "citations": n_cites, "precise": precise,
        "citation_recall": supported / claims if claims else None,
        "citation_precision": precise / n_cites if n_cites else None,
        "sentences": detail,
    }


# --- one question -----------------------------------------------------------------------------
@dataclass
class Scorer:
    """Scores AnswerResults against golden items. `places`: the places articles are about (most
    specific level); `all_places`: every level named in the index (rag.answer.verify's vocabulary)."""

    places: list[str] = field(default_factory=list)
    all_places: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.aliases = place_aliases(sorted(set(self.all_places) | set(self.places)))
        self.place_vocab = list(self.aliases)

    @classmethod
    def for_index(cls, index) -> "Scorer":
        return cls(places=index.places(), all_places=index.places(all_levels=True))

    def score(self, item: GoldenItem, result: AnswerResult, groups: list[set[str]] | None = None) -> dict:
        """The per-question record: what was asked and answered, and every metric that applies."""
        groups = [g for g in (groups or []) if g] if item.answerable else []
        ranked = [c.id for c in result.retrieved]
        m: dict[str, float] = {}
        if groups:
            m[f"recall@{RETRIEVAL_K}"] = recall_at_k(ranked, groups, RETRIEVAL_K)
            m["mrr"] = reciprocal_rank(ranked, groups)
            m["ndcg@10"] = ndcg_at_k(ranked, groups, 10)
        missing = missing_groups(result.answer, item.must_include) if item.answerable else []
        if item.answerable:
            m["answer_correct"] = float(is_correct(item, result))
            m["false_refusal"] = float(bool(result.refused))
            hit = citation_hit(result, groups)
            if hit is not None:
                m["citation_hit"] = float(hit)
        else:
            m["refusal_accuracy"] = float(bool(result.refused))
        named: list[str] | None = None
        if item.type == "multi_place" and item.answerable:
            recall, precision, named = place_scores(item, result, self.places)
            if recall is not None:
                m["place_recall"] = recall
            if precision is not None:
                m["place_precision"] = precision
        g = grounding(result, self.place_vocab)
        for key in ("citation_recall", "citation_precision"):
            if g[key] is not None:
                m[key] = g[key]
        evidence = set().union(*groups) if groups else set()
        first = next((i for i, pid in enumerate(ranked, start=1) if pid in evidence), None)
        return {
            "id": item.id, "type": item.type, "question": item.question, "answerable": item.answerable,
            "answer": result.answer, "refused": bool(result.refused), "correct": is_correct(item, result),
            "citations": [{"n": c.n, "id": c.id, "place": c.place, "title": c.title, "text": c.text,
                           "evidence": c.id in evidence} for c in result.citations],
            "metrics": {k: round(v, 4) for k, v in m.items()},
            "missing": missing,
            "expected": {"must_include": item.must_include, "places": item.places,
                         "evidence": [e.model_dump() for e in item.evidence]},
            "evidence_ids": sorted(evidence),
            "evidence_rank": first,
            "places_named": named,
            "retrieved": ranked[:10],
            "grounding": {k: g[k] for k in ("claims", "supported", "citations", "precise")}
                         | {"unsupported": [s for s in g["sentences"] if not s["supported"]],
                            "imprecise": [s for s in g["sentences"] if s["supported"] and s["imprecise"]]},
            "timings_ms": dict(result.timings_ms),
            "backend": result.backend,
            "notes": list(result.notes),
        }


# --- summaries ----------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); 0 for no values."""
    return float(np.percentile(values, q)) if values else 0.0


def latency(records: list[dict]) -> dict:
    out = {}
    for stage in STAGES:
        values = [r["timings_ms"][stage] for r in records if stage in r.get("timings_ms", {})]
        if values:
            out[stage] = {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1),
                          "n": len(values)}
    return out


def _means(records: list[dict]) -> dict:
    out: dict = {"n": len(records)}
    for key in METRIC_KEYS:
        values = [r["metrics"][key] for r in records if key in r.get("metrics", {})]
        if values:
            out[key] = round(mean(values), 4)
            out[f"{key}_n"] = len(values)
    return out


def aggregate(records: list[dict]) -> dict:
    """Overall and per question type: the mean of each metric over the questions it applies to
    (with how many, as "<metric>_n"), and latency percentiles."""
    by_type: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_type[r["type"]].append(r)
    return {
        "overall": _means(records),
        "by_type": {t: _means(rs) for t, rs in sorted(by_type.items(), key=lambda kv: _type_order(kv[0]))},
        "latency": latency(records),
    }


_TYPE_ORDER = ["single_fact", "numeric", "multi_place", "how", "comparison", "cross_doc", "unanswerable"]


def _type_order(t: str) -> tuple[int, str]:
    return (_TYPE_ORDER.index(t) if t in _TYPE_ORDER else len(_TYPE_ORDER), t)


# --- baseline -----------------------------------------------------------------------------------
def _slim(r: dict) -> dict:
    return {"id": r["id"], "type": r["type"], "question": r["question"], "answerable": r["answerable"],
            "answer": r["answer"], "refused": r["refused"], "correct": r["correct"],
            "citations": [c["id"] for c in r["citations"]], "metrics": r["metrics"]}


def baseline_payload(records: list[dict], summary: dict, run: dict) -> dict:
    return {"format": BASELINE_FORMAT, "run": run, "metrics": summary, "records": [_slim(r) for r in records]}


def load_baseline(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到基线文件：{path}（先用 rag eval --save-baseline {path} 保存一个）")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"基线文件 {path} 无法读取：{exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("records"), list) or "metrics" not in data:
        raise InputError(f"基线文件 {path} 格式不对：需要 metrics 和 records（用 rag eval --save-baseline 生成）")
    return data


def compare(records: list[dict], baseline: dict, tolerance: float) -> dict:
    """Metric deltas and per-question changes against a baseline, on the questions both have.

    A headline metric that got worse by more than `tolerance` (absolute, on a 0-1 scale) is a
    regression: `rag eval` then exits with 1.
    """
    before = {r["id"]: r for r in baseline.get("records", [])}
    now = {r["id"]: r for r in records}
    common = [i for i in now if i in before]
    if not common:
        raise InputError("本次评测与基线没有共同的问题（id 不同），无法比较。")
    old = aggregate([before[i] for i in common]) if all("metrics" in before[i] for i in common) else baseline["metrics"]
    new = aggregate([now[i] for i in common])
    deltas = {}
    for key in METRIC_KEYS:
        b, a = old["overall"].get(key), new["overall"].get(key)
        if b is None or a is None:
            continue
        delta = round(a - b, 4)
        worse = -delta if HIGHER_IS_BETTER[key] else delta
        deltas[key] = {"before": b, "after": a, "delta": delta,
                       "regressed": key in HEADLINE and worse > tolerance + 1e-9,
                       "improved": worse < -1e-9}
    by_type = {}
    for t, m in new["by_type"].items():
        mb = old["by_type"].get(t, {})
        by_type[t] = {k: round(m[k] - mb[k], 4) for k in METRIC_KEYS if k in m and k in mb}

    def change(i: str) -> dict:
        return {"id": i, "type": now[i]["type"], "question": now[i]["question"],
                "before": before[i].get("answer", ""), "after": now[i]["answer"],
                "refused_before": before[i].get("refused"), "refused_after": now[i]["refused"]}

    fixed = [change(i) for i in common if not before[i].get("correct") and now[i]["correct"]]
    broken = [change(i) for i in common if before[i].get("correct") and not now[i]["correct"]]
    return {
        "tolerance": tolerance,
        "baseline_run": baseline.get("run", {}),
        "common": len(common),
        "only_now": [i for i in now if i not in before],
        "only_baseline": [i for i in before if i not in now],
        "metrics": deltas,
        "by_type": by_type,
        "fixed": fixed,
        "broken": broken,
        "regressions": [k for k, d in deltas.items() if d["regressed"]],
    }


# --- optional LLM judge ---------------------------------------------------------------------------
_JUDGE_SYSTEM = (
    "你是问答评测员。根据参考要点和证据原文，判断系统的回答是否正确回答了问题。"
    "只看事实是否正确、是否答到了问题，不看文风。只输出一行 JSON：{\"correct\": true 或 false, \"reason\": \"一句话理由\"}"
)


class Judge:
    """An OpenAI-compatible model asked whether an answer is right (beside the deterministic
    metrics, never instead of them). Configured by RAG_JUDGE_URL, RAG_JUDGE_MODEL, RAG_JUDGE_KEY."""

    def __init__(self, chat_model, name: str = "") -> None:
        self.model = chat_model
        self.name = name

    def verdict(self, item: GoldenItem, result: AnswerResult) -> dict:
        if not item.answerable:
            return {}
        if result.refused:
            return {"correct": False, "reason": "refused"}
        from langchain_core.messages import HumanMessage, SystemMessage

        points = "；".join(" 或 ".join(g) for g in item.must_include)
        quotes = "\n".join(f"- {e.quote}" for e in item.evidence)
        prompt = f"问题：{item.question}\n参考要点：{points}\n证据原文：\n{quotes}\n\n系统的回答：\n{strip_citations(result.answer)}"
        try:
            reply = self.model.invoke([SystemMessage(_JUDGE_SYSTEM), HumanMessage(prompt)])
        except Exception as exc:  # the judge is optional: its failure is noted, not fatal
            return {"error": f"{type(exc).__name__}: {exc}"[:200]}
        text = getattr(reply, "content", reply)
        return parse_judge_reply(text if isinstance(text, str) else str(text))


def parse_judge_reply(text: str) -> dict:
    m = re.search(r"\{.*\}", text, re.S)
    if m:
        try:
            data = json.loads(m.group(0))
            if isinstance(data.get("correct"), bool):
                return {"correct": data["correct"], "reason": str(data.get("reason", ""))[:200]}
        except ValueError:
            pass
    low = text.strip().lower()
    if re.match(r"^(true|yes|correct|正确|是)", low):
        return {"correct": True, "reason": text.strip()[:200]}
    if re.match(r"^(false|no|incorrect|错误|不正确|否)", low):
        return {"correct": False, "reason": text.strip()[:200]}
    return {"error": f"无法解析评审回复：{text.strip()[:100]}"}


def judge_from_env(env=None) -> Judge | None:
    """From Settings (RAG_JUDGE_URL, RAG_JUDGE_MODEL, RAG_JUDGE_KEY), or from the mapping `env`."""
    if env is None:
        from .config import get_settings

        s = get_settings()
        url, model, key = s.judge_url.strip(), s.judge_model.strip(), s.judge_key
    else:
        url, model, key = env.get("RAG_JUDGE_URL", "").strip(), env.get("RAG_JUDGE_MODEL", "").strip(), env.get("RAG_JUDGE_KEY", "")
    if not url or not model:
        return None
    from .llm import openai_chat_model

    chat = openai_chat_model(url, key, model, timeout=60.0, max_tokens=200)
    return Judge(chat, name=model)


# --- the run ------------------------------------------------------------------------------------
def _history_path(out_dir: Path) -> Path:
    return out_dir.parent / "history.jsonl"


def read_history(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    runs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            runs.append(json.loads(line))
        except ValueError:
            continue
    return runs


def run_eval(answerer, *, dataset, baseline=None, save_baseline=None, out_dir=Path("eval/runs/latest"),
             tolerance: float = 0.02, limit: int | None = None, console=None, judge: Judge | None = None,
             history: Path | None = None) -> int:
    """Answer every golden question with `answerer`, score, report, compare. Returns the exit
    code: 1 when a headline metric dropped more than `tolerance` below the baseline, else 0."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = console or Console(stderr=True)
    dataset, out_dir = Path(dataset), Path(out_dir)
    items = load_golden(dataset)
    if limit is not None:
        items = items[: max(limit, 0)]
    if not items:
        raise InputError(f"评测集 {dataset} 中没有问题。")
    old = load_baseline(baseline) if baseline else None  # fail before the long run, not after
    judge = judge if judge is not None else judge_from_env()
    index = answerer.index
    scorer = Scorer.for_index(index)

    records: list[dict] = []
    started = time.perf_counter()
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("评测", total=len(items))
        for item in items:
            bar.update(task, description=f"评测 {item.id}")
            error = ""
            try:
                result = answerer.ask(item.question)
            except RagError as exc:
                result, error = AnswerResult(question=item.question, answer=str(exc), refused=True,
                                             refusal_reason=str(exc), backend=answerer.config.backend), str(exc)
            except Exception as exc:  # one broken question must not lose the whole run: it is reported
                error = f"{type(exc).__name__}: {exc}"
                result = AnswerResult(question=item.question, answer=f"（出错：{error}）", refused=True,
                                      refusal_reason=error, backend=answerer.config.backend)
            record = scorer.score(item, result, evidence_paragraphs(item, index) if item.answerable else [])
            if error:
                record["error"] = error
            if judge is not None and item.answerable:
                record["judge"] = judge.verdict(item, result)
                if "correct" in record["judge"]:
                    record["metrics"]["judge_correct"] = float(record["judge"]["correct"])
            records.append(record)
            bar.advance(task)
    runtime = time.perf_counter() - started

    summary = aggregate(records)
    run = {
        "time": time.strftime("%Y-%m-%d %H:%M:%S"),
        "dataset": str(dataset), "n": len(records), "limit": limit,
        "backend": answerer.config.backend, "backends_used": sorted({r["backend"] for r in records if r["backend"]}),
        "index": _index_info(index),
        "runtime_s": round(runtime, 1),
        "judge": judge.name if judge is not None else None,
        "errors": sum(1 for r in records if r.get("error")),
    }
    comparison = compare(records, old, tolerance) if old is not None else None

    history = Path(history) if history else _history_path(out_dir)
    entry = {"time": run["time"], "dataset": run["dataset"], "n": run["n"], "backend": run["backend"],
             "runtime_s": run["runtime_s"], "overall": {k: summary["overall"][k] for k in METRIC_KEYS
                                                         if k in summary["overall"]}}
    history.parent.mkdir(parents=True, exist_ok=True)
    with history.open("a", encoding="utf-8") as f:
        f.write(json.dumps(entry, ensure_ascii=False) + "\n")

    paths = report.write_reports(out_dir, run=run, summary=summary, records=records, comparison=comparison,
                                 history=read_history(history))
    if save_baseline:
        save_baseline = Path(save_baseline)
        save_baseline.parent.mkdir(parents=True, exist_ok=True)
        save_baseline.write_text(json.dumps(baseline_payload(records, summary, run), ensure_ascii=False, indent=1)
                                 + "\n", encoding="utf-8")
    report.print_summary(console, run, summary, comparison, paths, save_baseline)
    return 1 if comparison and comparison["regressions"] else 0


def _index_info(index) -> dict:
    try:
        return {"version": index.version_dir.name, "embedding": index.manifest["embedding"]["model"],
                "documents": index.manifest["counts"]["documents"], "paragraphs": index.manifest["counts"]["paragraphs"]}
    except Exception:
        return {}
