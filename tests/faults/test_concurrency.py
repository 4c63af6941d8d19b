"""Concurrent writers and long readers: two writers at once lose nothing (the file lock); a reader
keeps the version it opened, however often the index changes under it."""
from __future__ import annotations

from casedata import DOC_LAIYANG, write_files
from faultkit import DOC_THIRD, NEW, OLD, docs_of, start_writer, versions
from rag.answer.chain import Answerer
from rag.index import CaseIndex


def test_two_writers_at_once_lose_nothing(tiny, tmp_path):
    root, _ = tiny
    a = write_files(tmp_path / "a", {"third.txt": DOC_THIRD})
    b = write_files(tmp_path / "b", {"fourth.txt": DOC_THIRD.replace("网格员每天入户走访", "网格员每周召开议事会")})
    writers = [start_writer(root, [a]), start_writer(root, [b])]
    for writer in writers:
        writer.join(120)
        assert writer.exitcode == 0
    assert docs_of(root) == ["fourth.txt", "laiyang.txt", "luoding.md", "third.txt"]


def test_a_long_reader_keeps_its_version_through_two_writes(tiny, tmp_path):
    """`rag ask --file` with 1,500 questions, or `rag eval`, died with "unable to open database
    file" when the index changed twice under it."""
    root, src = tiny
    reader = CaseIndex(root)
    answerer = Answerer(reader)
    first = answerer.ask("哪些地方用信托制物业?")
    ids = [c.id for c in first.citations]
    opened = reader.version_dir
    (src / "laiyang.txt").write_text(DOC_LAIYANG.replace(OLD, NEW), encoding="utf-8")
    CaseIndex(root).ingest([src])
    CaseIndex(root).ingest([write_files(tmp_path / "more", {"third.txt": DOC_THIRD})])
    assert not opened.exists() and len(versions(root)) <= 2  # the writer removed it from disk…
    again = answerer.ask("哪些地方用信托制物业?")  # …and the reader still reads it
    assert again.answer == first.answer and [c.id for c in again.citations] == ids
    assert any(OLD in d.page_content for d in reader.paragraphs(ids).values()) or OLD not in first.answer
    assert [d["doc"] for d in reader.documents()] == ["laiyang.txt", "luoding.md"]
    assert reader.retriever(k=3).search("红色物业联盟")
    fresh = CaseIndex(root)  # a new reader sees the new version
    assert [d["doc"] for d in fresh.documents()] == ["laiyang.txt", "luoding.md", "third.txt"]
