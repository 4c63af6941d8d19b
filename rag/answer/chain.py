"""The answer chain: understand → retrieve → weigh the evidence → answer → verify citations.

The question is understood once (rag.answer.question), its evidence weighed once
(rag.answer.evidence) and both are handed to whichever backend answers. The extractive backend
answers only when the evidence is likely enough; a generating backend is asked whenever the case
is not clear-cut (a place the corpus lacks, nothing relevant at all), sees the evidence and may
answer a paraphrase the scorer doubted. Every sentence a model writes is checked against the
paragraphs it cites (rag.answer.verify), re-cited or removed; a model answer that does not
survive the check gives way to the extractive answer, or to a refusal when there is none. The
places a "哪些地方…" answer names are the evidence's for every backend: a model's line for another
place is dropped, a qualifying place it left out is added from the evidence.
"""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser

import numpy as np

from ..errors import RagError
from ..index import CaseIndex
from ..llm import load_prompt, local_chat_model, openai_chat_model, token_counter
from ..schema import AnswerResult, Citation, SentenceCheck, strip_suffix
from ..store import _embed_documents, _embed_query
from ..text import citations_in
from ..validate import clean_question
from .asked_places import place_aliases
from .compose import compose, place_line
from .context import build_context, context_numbers
from .evidence import Evidence, EvidenceModel, EvidenceScorer, default_model, phrase_in, quoted_names
from .question import Question, analyse, depends_on_previous, kind_of, names_written_plain, split_parts
from .verify import Source, verify_answer
from ..runnable import RunnableAnswerer

PER_PLACE = 3  # paragraphs of each named place a comparison is sure to see
PER_PLACE_LISTED = 2  # paragraphs of every place of the index a "哪些地方…" question is sure to see
PER_PLACE_NAMING = 10  # …and among how many of each place's best it looks for a name the question quotes
# Six words of two to four characters are about 30 of Qwen's tokens; a small model asked for them
# sometimes repeats itself for hundreds (seen on the dev split), so the rewrite stops here.
REWRITE_TOKENS = 48
_MODEL_REFUSES = re.compile(r"资料中没有|没有相关(内容|信息|资料)|无法回答|未提及|没有提到")


@dataclass
class Turn:
    question: str
    answer: str = ""


@dataclass
class ChainConfig:
    backend: str = "extractive"  # extractive | local | openai
    k: int = 8
    k_places: int = 25  # "哪些地方…": retrieve broadly
    k_compare: int = 15
    context_paragraphs: int = 6  # paragraphs shown to a model (more for place questions)
    # Show a model only the sentences of each paragraph that bear on the question (citations
    # still point at whole paragraphs). A small CPU model reads a prompt at ~100 tokens/s, so
    # this is what keeps its first token within seconds.
    compact_context: bool = False
    context_tokens: int = 0  # > 0: the compact context fits this many model tokens (rag.answer.context)
    place: str | None = None  # filter: only this place
    local_model_path: str = ""
    llm_url: str = ""
    llm_key: str = ""
    llm_model: str = ""
    llm_timeout: float = 60.0
    rewrite_query: bool = False  # a generating backend adds the reports' words for the question to the search
    max_question_chars: int = 2000
    notes: list[str] = field(default_factory=list)

    def fit_small_local_model(self, context_tokens: int) -> None:
        """For the local backend (a 1.5B model on a CPU): a compact context of four paragraphs'
        best sentences within `context_tokens` of its own tokens, so its first token comes fast."""
        if self.backend == "local":
            self.fit_small_model(context_tokens)

    def fit_small_model(self, context_tokens: int) -> None:
        self.compact_context, self.context_paragraphs, self.context_tokens = True, 4, context_tokens


class Answerer(RunnableAnswerer):
    """Loads models once; answers one question or many, streaming if asked."""

    def __init__(self, index: CaseIndex, config: ChainConfig | None = None,
                 evidence_model: EvidenceModel | None = None) -> None:
        index.require()
        self.index = index
        self.config = config or ChainConfig()
        self.known_places = index.places(all_levels=True)
        self._chains = index.place_chains()
        self._aliases = place_aliases(self.known_places)
        self._llm = None
        self._sentence_cache: dict[str, np.ndarray] = {}
        self.scorer = EvidenceScorer(evidence_model or default_model(), self._sentence_vectors,
                                     self._paragraph_vector, index.bm25.rarity, index.bm25.doc_freq)

    # --- public ----------------------------------------------------------------------------
    def ask(self, question: str, history: list[Turn] | None = None) -> AnswerResult:
        result = None
        for event in self.stream(question, history):
            if event["type"] == "result":
                result = event["result"]
        return result

    def stream(self, question: str, history: list[Turn] | None = None) -> Iterator[dict]:
        """Events: {"type": "status"|"token", "text": …}, then {"type": "result", "result": AnswerResult}."""
        started = time.perf_counter()
        cfg = self.config
        question = clean_question(question, cfg.max_question_chars)
        notes: list[str] = []
        timings: dict[str, float] = {}

        q, standalone, query = self._understand(question, history or [], notes)
        t = time.perf_counter()
        yield {"type": "status", "text": "检索中…"}
        docs = self._retrieve(q, self._searched_for(query, notes), self._k(q))
        evidence = self.weigh(q, docs, query)
        # a question asking two things: each part is answered in turn, when the documents answer
        # the whole or every part (the whole's figure filters are its first part's: "…几成？…营收多少";
        # a year may be one part's: "…收缴率到几成？…2025年营收多少"; the whole's closest sentences
        # may answer neither ask: "治理剧编了几部？小区党支部建了多少个？")
        parts = self._parts(q, question) if standalone == question else []
        if parts:
            part_docs, own = self._retrieve_parts(parts, docs)
            by_part = Evidence.of_parts([(pq, self.weigh(pq, mine, pquery).numbered_in(part_docs))
                                         for (pq, pquery), mine in zip(parts, own)])
            if evidence.answerable or all(e.answerable for _, e in by_part.parts):
                docs, evidence = part_docs, by_part
                notes += [f"问题中的“{pq.text}”在文档中没有找到答案" for pq, e in evidence.parts if not e.answerable]
        timings["retrieve"] = _ms(t)
        notes += q.read_as()

        t = time.perf_counter()
        backend = cfg.backend
        answer, refused = "", False
        if not evidence.answerable and (backend == "extractive" or evidence.clear):
            answer, refused = self._refusal(q, query, evidence), True
        elif backend == "extractive":
            answer = compose(q, evidence, evidence.places, self.scorer.model.shown)
        else:
            try:
                for token in self._generate(q, standalone, docs, evidence):
                    answer += token
                    if "first_token" not in timings:
                        timings["first_token"] = _ms(started)
                    yield {"type": "token", "text": token}
            except RagError as exc:
                notes.append(f"{backend} 后端不可用（{exc}），已改用摘录式回答")
                backend, answer = "extractive", ""
            except Exception as exc:  # endpoint down, timeout, model error: never lose the answer
                notes.append(f"{backend} 后端出错（{type(exc).__name__}: {exc}），已改用摘录式回答")
                backend, answer = "extractive", ""
            if backend == "extractive" or (not evidence.answerable and _MODEL_REFUSES.search(answer)
                                           and not citations_in(answer)):
                if evidence.answerable:
                    answer = compose(q, evidence, evidence.places, self.scorer.model.shown)
                else:
                    answer, refused = self._refusal(q, query, evidence), True
        timings["generate"] = _ms(t)
        if not refused and (in_meaning := q.matched_in_meaning()):
            notes.append(in_meaning)

        sources = {n: self._source(d) for n, d in enumerate(docs, start=1)}
        sentences = []
        if not refused:
            checked, verdicts = verify_answer(answer, sources, self._aliases)
            if backend != "extractive":  # a model's answer: the evidence's places, or the extractive answer
                if q.wants_places:
                    checked, verdicts = self._only_supported_places(q, evidence, docs, checked, verdicts, notes)
                if not any(v.verdict in ("supported", "recited") for v in verdicts):
                    if evidence.answerable:
                        notes.append("模型的回答没有通过引用核查，已改用摘录式回答")
                        backend = f"{backend}→extractive"
                        checked, verdicts = verify_answer(compose(q, evidence, evidence.places,
                                                                  self.scorer.model.shown),
                                                          sources, self._aliases)
                    else:
                        notes.append("模型的回答没有通过引用核查")
                        refused, checked, verdicts = True, self._refusal(q, query, evidence), []
                elif q.wants_places:
                    checked, verdicts = self._complete_list(evidence, docs, sources, checked, verdicts, notes)
            changed = [v for v in verdicts if v.verdict in ("recited", "removed")]
            if changed:
                notes.append(f"引用核查：{sum(v.verdict == 'recited' for v in changed)} 句改引，"
                             f"{sum(v.verdict == 'removed' for v in changed)} 句因无依据删除")
            answer = checked
            sentences = verdicts
        timings["total"] = _ms(started)
        yield {"type": "result", "result": self._result(question, standalone, answer, refused,
                                                          answer if refused else "", docs, sentences,
                                                          backend, notes, timings)}

    # --- evidence ----------------------------------------------------------------------------
    def weigh(self, q: Question, docs: list[Document], query: str) -> Evidence:
        """The evidence for `q` among `docs`, once; every later step reads it."""
        evidence = self.scorer.assess(q, docs, self._query_vector(query))
        if evidence.answerable and q.wants_places and not evidence.listing:
            evidence.places = self.scorer.places_with_evidence(q, evidence.candidates) or evidence.candidates[:1]
        return evidence

    def _refusal(self, q: Question, query: str, evidence: Evidence) -> str:
        """The reason, and for a place the corpus lacks, where the practice does appear."""
        if not (q.unknown_places and not q.places and (q.terms or q.quoted)):
            return evidence.reason
        elsewhere = Question(**{**q.__dict__, "unknown_places": [], "places": [], "wants_places": True,
                                "readings": []})
        docs = self.index.retriever(k=self.config.k_places).search(query)
        found = self.scorer.assess(elsewhere, docs, self._query_vector(query))
        if not found.answerable:
            return evidence.reason
        places = [c.place for c in self.scorer.places_with_evidence(elsewhere, found.candidates)]
        if not places:
            return evidence.reason
        return f"{evidence.reason}文档中有相关内容的地方：{'、'.join(dict.fromkeys(places))}。"

    def _in_corpus(self, word: str) -> bool:
        return self.index.bm25.doc_freq(word) > 0

    def _query_vector(self, query: str) -> np.ndarray:
        return _embed_query(self.index.store.embeddings, query)

    def _sentence_vectors(self, sentences: list[str]) -> np.ndarray:
        """From the index; an index built before sentence vectors existed embeds them here."""
        stored = self.index.sentences
        out = []
        missing = []
        for s in sentences:
            vector = stored.get(s) if stored is not None else None
            if vector is None:
                vector = self._sentence_cache.get(s)
            if vector is None:
                missing.append(s)
            out.append(vector)
        if missing:
            fresh = _embed_documents(self.index.store.embeddings, list(dict.fromkeys(missing)))
            self._sentence_cache.update(zip(dict.fromkeys(missing), fresh))
            out = [v if v is not None else self._sentence_cache[s] for v, s in zip(out, sentences)]
        return np.vstack(out).astype(np.float32)

    def _paragraph_vector(self, doc: Document) -> np.ndarray | None:
        return self.index.store.vector_of(doc.metadata.get("chunk_id", ""))

    def _k(self, q: Question) -> int:
        cfg = self.config
        return cfg.k_places if q.wants_places else cfg.k_compare if q.comparison else cfg.k

    def _parts(self, q: Question, question: str) -> list[tuple[Question, str]]:
        """A question asking two things ("…营收多少？罗定…拿几成回馈社区") as its parts, each
        with its retrieval query; [] for a question asking one. A part that names no place is
        about the places the whole question names; one with almost no words of its own ("要收钱不")
        is looked up with the part before it. Lists of places are never split."""
        if q.wants_places or q.unknown_places or q.excluded:
            return []
        texts: list[str] = []
        for text in split_parts(question):
            part = analyse(text, self.known_places, self._in_corpus)
            if part.wants_places or part.unknown_places:
                return []
            if texts and not (part.terms or part.quoted):  # "一样不": nothing of its own to look up
                texts[-1] += "，" + text
            else:
                texts.append(text)
        if len(texts) < 2:
            return []
        parts = []
        for i, text in enumerate(texts):
            part = analyse(text, self.known_places, self._in_corpus)
            query = text
            if not part.places:
                part.places, part.localities = list(q.places), part.localities or list(q.localities)
                query = " ".join(q.places + [text])
            if i and len(part.terms) < 2:
                query = f"{texts[i - 1]} {query}"
            part.readings = []  # how names were read is said once, for the whole question
            self._per_place(part)
            parts.append((part, query))
        return parts

    def _retrieve_parts(self, parts: list[tuple[Question, str]],
                        docs: list[Document]) -> tuple[list[Document], list[list[Document]]]:
        """`docs` (the whole question's), then what each part retrieves of its own; and each
        part's own ranking, on which its evidence is weighed (its ranks and BM25 scores are the
        part's, not the whole question's)."""
        docs, seen, own = list(docs), {d.id for d in docs}, []
        for part, query in parts:
            own.append(self._retrieve(part, query, self._k(part)))
            for d in own[-1]:
                if d.id not in seen:
                    seen.add(d.id)
                    docs.append(d)
        return docs, own

    def _retrieve(self, q: Question, query: str, k: int) -> list[Document]:
        """A comparison of places, "X在两篇报道里…" or "广东省有哪些地方…" also gets the best
        paragraphs of every place it names (of each of their reports), so one well-matching side
        cannot crowd out the other. They replace the tail of the overall ranking (at most half of
        it), whose head and order stay as they are. A "哪些地方…" question also learns here which
        of the names the ranked paragraphs quote it writes plain (`Question.named_plain`)."""
        cfg = self.config
        retriever = self.index.retriever(k=k, place=cfg.place)
        ranked = retriever.search(query)
        if q.wants_places:
            q.named_plain += names_written_plain(q, [d.page_content for d in ranked])
        if q.wants_places and not q.places and not cfg.place:
            return ranked + self._every_place(retriever, query, {d.id for d in ranked}, q)
        if cfg.place or not (len(q.places) >= 2 or ((q.per_article or q.wants_places) and q.places)):
            return ranked
        seen = {d.id for d in ranked}
        extra = []
        for place in q.places:
            for d in retriever.search(query, k=PER_PLACE, place=place, article_decay=0.5):
                if d.id not in seen:
                    seen.add(d.id)
                    extra.append(d)
        return ranked[:max(k - len(extra), k // 2)] + extra

    def _every_place(self, retriever, query: str, seen: set[str], q: Question) -> list[Document]:
        """"哪些地方…" must consider every place, not only those the overall ranking reached:
        the best paragraphs of each place of the index are added after the ranking, and, when
        the question quotes a name (“幸福工坊”), the place's paragraphs among its best
        PER_PLACE_NAMING that name it: a place's closest paragraphs in wording may not be the
        one that names the practice."""
        names = quoted_names(q.quoted) + q.named_plain
        extra = []
        for place in self.index.places():
            if place in q.excluded:
                continue
            found = retriever.search(query, k=PER_PLACE_NAMING if names else PER_PLACE_LISTED, place=place)
            for i, d in enumerate(found):
                naming = names and any(phrase_in(p, d.metadata.get("title", "") + d.page_content) for p in names)
                if d.id not in seen and (i < PER_PLACE_LISTED or naming):
                    seen.add(d.id)
                    extra.append(d)
        return extra

    def _complete_list(self, evidence, docs, sources, answer, verdicts, notes):
        """A model may stop a list early: each place the evidence qualifies that its answer does
        not cite is added with its best sentence, as the extractive answer lists it."""
        cited = {d.metadata["place"] for d in _cited_docs(answer, docs)}
        missing = [c for c in evidence.places if c.place not in cited]
        if not missing:
            return answer, verdicts
        added, more = verify_answer("\n".join(place_line(c) for c in missing), sources, self._aliases)
        notes.append(f"模型的回答漏列了 {len(missing)} 个有证据的地方，已按证据补上：{'、'.join(c.place for c in missing)}")
        return f"{answer}\n{added}", verdicts + more

    def _only_supported_places(self, q, evidence, docs, answer, verdicts, notes):
        """A model may list a place the evidence does not support (its article's title will
        "support" a sentence that only restates the title), or put another name on a place's
        paragraph ("- 岬阳市：…[1]" for 汾阳市's): such lines are dropped."""
        allowed = {c.place for c in evidence.places}
        kept_lines, dropped = [], 0
        for line in answer.splitlines():
            cited = _cited_docs(line, docs)
            label = _LIST_LABEL.match(line)
            if cited and (not any(d.metadata["place"] in allowed for d in cited)
                          or label and not any(_names_place(label.group(1), d) for d in cited)):
                dropped += 1
                for v in verdicts:
                    if v.text and v.text in line:
                        v.verdict, v.reason, v.text = "removed", "该地的资料不能回答这个问题", ""
                continue
            kept_lines.append(line)
        if dropped:
            notes.append(f"删除了 {dropped} 行证据不支持的地方")
        return "\n".join(kept_lines), verdicts

    def ask_many(self, questions: list[str]) -> Iterator[AnswerResult]:
        for question in questions:
            try:
                yield self.ask(question)
            except RagError as exc:
                yield AnswerResult(question=question, answer=str(exc), refused=True, refusal_reason=str(exc),
                                   backend=self.config.backend)

    # --- steps -----------------------------------------------------------------------------
    def _understand(self, question: str, history: list[Turn], notes: list[str]) -> tuple[Question, str, str]:
        """The question analysed, its standalone wording, and the retrieval query. Only a
        question that cannot stand alone is read with the previous turn."""
        q = analyse(question, self.known_places, self._in_corpus)
        self._per_place(q)
        previous = [t.question for t in history if t.question]
        if not previous or not depends_on_previous(question, q):
            return q, question, question
        prev = analyse(previous[-1], self.known_places, self._in_corpus)
        read_as = []
        if not q.places and prev.places:
            q.places = prev.places
            read_as.append("、".join(prev.places))
        q.terms = list(dict.fromkeys(q.terms + [t for t in prev.terms if t not in q.terms]))
        q.quoted = list(dict.fromkeys(q.quoted + prev.quoted))
        q.kind = q.kind if q.kind != "fact" else prev.kind
        standalone = f"{question}（接上文：{previous[-1]}）"
        if self.config.backend != "extractive":
            condensed = self._condense(question, history)
            if condensed:
                standalone = condensed
        pronoun = re.search(r"它们|它|他们|她们|该市|该区|该县|该地|那里|那儿|这里", question)
        if pronoun and read_as:
            notes.append(f"追问：“{pronoun.group(0)}”按上文理解为{read_as[0]}")
        else:
            notes.append(f"追问已结合上文理解为：{standalone}")
        return q, standalone, f"{question} {previous[-1]}"

    def _per_place(self, q: Question) -> None:
        """"山东那边的幸福工坊咋样": a province or region is answered per place of the index inside
        it (莱阳市, 芝罘区), one line each; a "哪些地方…" question lists them anyway."""
        if not q.places:
            return
        # "烟台芝罘", "广西岑溪": the larger unit only says where the smaller one is
        q.places = [p for p in q.places if not any(o != p and p in self._chains.get(o, "") for o in q.places)]
        q.kind = kind_of(q)
        if q.wants_places:
            return
        expanded: list[str] = []
        for place in q.places:
            inside = [p for p, chain in self._chains.items() if place in chain and p != place]
            expanded += inside if len(inside) >= 2 else [place]
        q.places = list(dict.fromkeys(expanded))
        if len(q.places) >= 2 and q.kind not in ("per_report",):
            q.kind = "comparison"

    def _condense(self, question: str, history: list[Turn]) -> str:
        try:
            chain = load_prompt("condense") | self._chat_model() | StrOutputParser()
            text = "\n".join(f"问：{t.question}\n答：{t.answer[:200]}" for t in history[-3:])
            out = chain.invoke({"history": text, "question": question}).strip().splitlines()
            return out[0].strip() if out else ""
        except Exception:
            return ""

    def _searched_for(self, query: str, notes: list[str]) -> str:
        """The retrieval query: with `rewrite_query` and a generating backend, the question plus
        the words a report would use for it (新就业群体 for 外卖小哥, if the model knows the term)."""
        if not self.config.rewrite_query or self.config.backend == "extractive":
            return query
        try:
            model = self._chat_model().bind(max_tokens=REWRITE_TOKENS, stop=["\n"])
            chain = load_prompt("rewrite") | model | StrOutputParser()
            lines = chain.invoke({"question": query}).strip().splitlines()
        except Exception as exc:  # the search goes on with the question as asked
            notes.append(f"改写检索词失败（{type(exc).__name__}），按原问题检索")
            return query
        words = lines[0].strip()[:200] if lines else ""
        if not words:
            return query
        notes.append(f"检索时加上了模型给出的书面说法：{words}")
        return f"{query} {words}"

    def _generate(self, q: Question, standalone: str, docs: list[Document], evidence) -> Iterator[str]:
        shown = context_numbers(q, evidence, self.config.context_paragraphs)
        model = self._chat_model()
        context = build_context(docs, shown, evidence, self.config.compact_context, self.config.context_tokens,
                                token_counter(model), q)
        prompt = load_prompt("answer_places" if q.wants_places else "answer")
        chain = prompt | model | StrOutputParser()
        yield from chain.stream({"context": context, "question": standalone})

    def _chat_model(self):
        if self._llm is None:
            cfg = self.config
            if cfg.backend == "local":
                from ..local_model import MODEL_FILENAME, default_models_dir

                path = cfg.local_model_path or str(default_models_dir() / MODEL_FILENAME)
                self._llm = local_chat_model(path)
            elif cfg.backend == "openai":
                self._llm = openai_chat_model(cfg.llm_url, cfg.llm_key, cfg.llm_model, cfg.llm_timeout)
            else:
                raise RagError(f"未知的后端 {cfg.backend}，可选：extractive | local | openai")
        return self._llm

    def _source(self, d: Document) -> Source:
        m = d.metadata
        names = {x for x in (m.get("place"),) if x}
        for alias, canonical in self._aliases.items():
            if canonical in m.get("place_full", ""):
                names.add(alias)
        return Source(text=d.page_content, title=m.get("title", ""), place_names=frozenset(names))

    def _result(self, question, standalone, answer, refused, reason, docs, verdicts, backend, notes, timings):
        numbers: list[int] = []
        for n in citations_in(answer):
            if n not in numbers:
                numbers.append(n)
        renumber = {old: new for new, old in enumerate(numbers, start=1)}
        answer = re.sub(r"\[(\d{1,3})\]", lambda m: f"[{renumber.get(int(m.group(1)), m.group(1))}]", answer)
        citations = [_citation(renumber[n], docs[n - 1]) for n in numbers if 0 < n <= len(docs)]
        retrieved = [_citation(i, d, with_score=True) for i, d in enumerate(docs, start=1)]
        sentences = [
            SentenceCheck(
                text=re.sub(r"\[(\d{1,3})\]", lambda m: f"[{renumber.get(int(m.group(1)), m.group(1))}]", v.text),
                original=v.original, citations=[renumber[c] for c in v.citations if c in renumber],
                verdict=v.verdict, supported=v.verdict in ("supported", "recited", "no_claim"), reason=v.reason)
            for v in verdicts
        ]
        return AnswerResult(
            question=question, standalone_question=standalone, answer=answer, refused=refused,
            refusal_reason=reason, citations=citations, retrieved=retrieved, sentences=sentences,
            backend=backend, notes=notes, timings_ms=timings,
            index={"version": self.index.version_dir.name, "embedding": self.index.manifest["embedding"]["model"],
                   "created_at": self.index.manifest["created_at"]},
            created_at=time.strftime("%Y-%m-%d %H:%M:%S"),
        )


def _citation(n: int, d: Document, with_score: bool = False) -> Citation:
    m = d.metadata
    return Citation(n=n, id=m["id"], doc=m["doc"], article=m["article"], paragraph=m["paragraph"],
                    place=m["place"], place_full=m["place_full"], title=m["title"], text=d.page_content,
                    score=m.get("score") if with_score else None)


def _cited_docs(text: str, docs: list[Document]) -> list[Document]:
    """The paragraphs `text` cites by their [n], leaving out numbers no paragraph has."""
    return [docs[n - 1] for n in citations_in(text) if 0 < n <= len(docs)]


# "- 莱阳市（山东省烟台市莱阳市）：…": the place a line of a list puts first, as the prompt asks
_LIST_LABEL = re.compile(r"^\s*[-*•]\s*\**([^：:，,。\[]{2,30}?)\**\s*[：:]")


def _names_place(label: str, d: Document) -> bool:
    """Does a list line's label name the cited paragraph's place (芝罘区, 烟台市芝罘区, 烟台) or
    something the paragraph itself names (金丰社区)?"""
    place, full = d.metadata.get("place", ""), d.metadata.get("place_full", "")
    name = re.sub(r"（.*?）|\(.*?\)", "", label).strip()
    stem = strip_suffix(name)
    if len(stem) < 2:
        return True
    return (bool(place) and strip_suffix(place) in name) or stem in full \
        or name in d.page_content + d.metadata.get("title", "")


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 1)
