"""The public Python API: `import rag`, the retriever's per-call options, the Answerer as a Runnable."""
from __future__ import annotations

import subprocess
import sys

import pytest
from langchain_core.runnables import Runnable

import rag

SAMPLE = "哪些地方用信托制物业?"


def test_import_rag_is_light_and_lists_its_names():
    code = "import sys, rag; print(sorted(m for m in ('rag.answer.chain', 'rag.index', 'faiss', 'langchain_core') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    for name in ("open_index", "build_index", "answerer", "Answerer", "CaseIndex", "Settings", "export",
                 "AnswerResult", "RagError"):
        assert name in rag.__all__ and getattr(rag, name) is not None
    from rag.export import to_docx  # noqa: F401 - importing the submodule does not shadow the function

    assert callable(rag.export) and rag.export.__name__ == "export"


def test_retriever_filters_through_invoke_config_and_keywords(real_index):
    retriever = real_index.retriever(k=3)
    everywhere = retriever.invoke("信托制物业")
    assert everywhere[0].metadata["place"] == "莱阳市"
    for hits in (retriever.invoke("信托制物业", config={"configurable": {"place": "岑溪"}}),
                 retriever.invoke("信托制物业", place="岑溪")):
        assert hits and all("岑溪" in h.metadata["place_full"] for h in hits)
    doc = everywhere[0].metadata["doc"]
    only = retriever.invoke("社区治理", config={"configurable": {"doc": doc, "k": 2}})
    assert len(only) == 2 and {h.metadata["doc"] for h in only} == {doc}
    assert retriever.batch(["信托制物业", "牛娘戏"], config={"configurable": {"place": "岑溪"}})[1][0].metadata["place"] == "岑溪市"
    with pytest.raises(TypeError, match="plac"):
        retriever.invoke("信托制物业", plac="岑溪")  # a typo is an error, not a silently ignored filter


def test_retriever_ainvoke_filters(real_index):
    import asyncio

    hits = asyncio.run(real_index.retriever(k=2).ainvoke("信托制物业", config={"configurable": {"place": "罗定"}}))
    assert hits and all(h.metadata["place"] == "罗定市" for h in hits)


def test_answerer_is_a_runnable(real_index):
    answerer = rag.answerer(real_index)
    assert isinstance(answerer, Runnable)
    result = answerer.invoke(SAMPLE)
    assert isinstance(result, rag.AnswerResult) and "莱阳" in result.answer and result.citations
    events = list(answerer.stream("莱阳市的物业费收缴率提升到了多少？"))
    tokens = [e for e in events if e["type"] == "token"]
    assert events[-1]["type"] == "result" and tokens  # the extractive answer streams too, line by line
    assert "".join(t["text"] for t in tokens) == events[-1]["result"].answer
    both = answerer.batch([SAMPLE, "岑溪市怎样用牛娘戏参与基层治理？"])
    assert [type(r) for r in both] == [rag.AnswerResult] * 2 and "岑溪" in both[1].answer
    follow = answerer.invoke({"question": "那里的物业费收缴率提升到多少？",
                              "history": [("莱阳市怎样用信托制物业？", "")]})
    assert "93%" in follow.answer
    # the chain's own callers keep stream(question, history)
    assert list(answerer.stream(SAMPLE, []))[-1]["type"] == "result"
    assert answerer.ask(SAMPLE).answer == result.answer


def test_answerer_async(real_index):
    import asyncio

    answerer = rag.answerer(real_index)

    async def run():
        result = await answerer.ainvoke(SAMPLE)
        events = [e async for e in answerer.astream(SAMPLE)]
        return result, events

    result, events = asyncio.run(run())
    assert "莱阳" in result.answer
    assert events[-1]["type"] == "result" and any(e["type"] == "token" for e in events)


def test_answerer_takes_settings(real_index_dir, monkeypatch):
    monkeypatch.setenv("RAG_INDEX_DIR", str(real_index_dir))
    monkeypatch.setenv("RAG_K", "3")
    monkeypatch.setenv("RAG_REWRITE_QUERY", "1")
    answerer = rag.answerer()
    assert answerer.config.k == 3 and answerer.index.root == real_index_dir
    assert answerer.config.rewrite_query
    assert rag.answerer(backend="extractive", place="莱阳").config.place == "莱阳"


def test_build_index_and_export(tmp_path, real_index):
    from casedata import TINY_DOCS, write_files

    src = write_files(tmp_path / "src", TINY_DOCS)
    index = rag.build_index([src], tmp_path / "index")
    assert index.exists and index.last_report.added
    result = rag.answerer(real_index).invoke(SAMPLE)
    path = rag.export(result, tmp_path / "a.md")
    assert SAMPLE in path.read_text(encoding="utf-8")
