"""The numbered context a generating backend reads: which retrieved paragraphs it sees, and how
much of each. Numbers stay those of the retrieval list, so citations map back unchanged."""
from __future__ import annotations

from langchain_core.documents import Document

from . import extractive
from .questions import Question


def context_numbers(q: Question, evidence: extractive.Evidence, limit: int) -> list[int]:
    """The best paragraph per place for place questions, else the top few by evidence."""
    if q.wants_places:  # only the places the evidence supports, one paragraph each
        return sorted({c.n for c in extractive.best_per_group(q, evidence.candidates)})[: max(limit, 10)]
    ranked: list[int] = []
    for c in evidence.candidates:
        if c.n not in ranked:
            ranked.append(c.n)
    return sorted(ranked[:limit])


def build_context(docs: list[Document], shown: list[int], evidence: extractive.Evidence, compact: bool) -> str:
    """`compact`: only the sentences of each paragraph that bear on the question (citations still
    point at whole paragraphs). A small CPU model reads a prompt at ~100 tokens/s, so this is what
    keeps its first token within seconds."""

    def body(n: int) -> str:
        text = docs[n - 1].page_content
        if not compact:
            return text
        relevant = [c for c in evidence.candidates if c.n == n and c.sentence_coverage > 0][:3]
        relevant.sort(key=lambda c: text.find(c.sentence))
        return "".join(c.sentence for c in relevant) or text[:200]

    return "\n\n".join(
        f"[{n}] 地点：{docs[n - 1].metadata['place_full']}｜文章：{docs[n - 1].metadata['title']}\n{body(n)}"
        for n in shown)
