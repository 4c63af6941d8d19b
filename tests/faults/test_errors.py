"""Clear one-line Chinese errors with documented exit codes instead of tracebacks: 2 usage,
3 index, 4 input data, 5 storage (README, "Exit codes")."""
from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

from casedata import DOC_LAIYANG, DOC_LUODING, REPO, has_chinese, write_files
from faultkit import current, staging_left, versions
from rag.cli import app

USAGE, INDEX, DATA, STORAGE = 2, 3, 4, 5


@pytest.fixture
def rag(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("RAG_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def one_line_error(result, code, *words):
    assert result.exit_code == code, (result.exit_code, result.output, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    message = result.stderr.strip()
    assert "Traceback" not in result.output and has_chinese(message), message
    for word in words:
        assert word in message, message
    return message


@pytest.mark.parametrize("errno_name, step, word", [("ENOSPC", "vectors-saved", "磁盘空间不足"),
                                                    ("ENOSPC", "docs-written", "磁盘空间不足"),
                                                    ("EROFS", "staging-created", "不可写"),
                                                    ("EACCES", "locked", "不可写")])
def test_disk_full_and_read_only_folder(rag, tiny, monkeypatch, errno_name, step, word):
    root, src = tiny
    (src / "laiyang.txt").write_text(DOC_LAIYANG + "\n莱阳市新建了十个口袋公园。\n", encoding="utf-8")
    before = current(root)
    monkeypatch.setenv("RAG_FAULT_ERROR_AT", f"{step}:{errno_name}")
    one_line_error(rag("ingest", src, "--index", root), STORAGE, word, "原索引未改动")
    assert current(root) == before and staging_left(root) == [] and versions(root) == [before]
    monkeypatch.delenv("RAG_FAULT_ERROR_AT")
    assert rag("ingest", src, "--index", root).exit_code == 0


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders; the EROFS case above covers it")
def test_really_read_only_folder(rag, tiny):
    root, src = tiny
    (src / "laiyang.txt").write_text(DOC_LAIYANG + "\n莱阳市新建了十个口袋公园。\n", encoding="utf-8")
    os.chmod(root, 0o555)
    try:
        one_line_error(rag("ingest", src, "--index", root), STORAGE, "不可写")
        assert rag("list", "--index", root).exit_code == 0  # reading a read-only index works
    finally:
        os.chmod(root, 0o755)


def test_malformed_sqlite(rag, tiny):
    root, _ = tiny
    db = root / current(root) / "docs.sqlite"
    db.write_bytes(db.read_bytes()[:1000])
    for command in (("list",), ("search", "信托制物业"), ("ask", "哪些地方用信托制物业?")):
        one_line_error(rag(*command, "--index", root), INDEX, "docs.sqlite", "rag check")
    result = rag("check", "--index", root)
    assert result.exit_code == INDEX and "rag ingest --rebuild" in result.stderr  # one version only: nothing intact


def test_check_command(rag, tiny):
    root, _ = tiny
    ok = rag("check", "--index", root)
    assert ok.exit_code == 0 and "索引完好" in ok.stdout
    (root / current(root) / "bm25_vocab.json").write_text("", encoding="utf-8")
    assert rag("check", "--no-repair", "--index", root).exit_code == INDEX
    fixed = rag("check", "--index", root)
    assert fixed.exit_code == 0 and "已修复" in fixed.stdout
    assert rag("search", "信托制物业", "--index", root).exit_code == 0


def test_duplicate_names(rag, tmp_path):
    a = write_files(tmp_path / "A", {"x.txt": DOC_LAIYANG})
    b = write_files(tmp_path / "B", {"x.txt": DOC_LAIYANG.replace("93%", "95%")})
    result = rag("ingest", a, b, "--index", tmp_path / "index")
    assert result.exit_code == 0 and "同名" in result.stderr and "新增 2" in result.stdout


def test_remove_a_name_that_starts_with_a_dash(rag, tmp_path):
    src = write_files(tmp_path / "src", {"-rf.txt": DOC_LAIYANG})
    assert rag("ingest", src, "--index", tmp_path / "index").exit_code == 0
    one_line_error(rag("remove", "-rf.txt", "--index", tmp_path / "index"), USAGE, "rag remove -- -rf.txt")
    done = rag("remove", "--index", tmp_path / "index", "--", "-rf.txt")
    assert done.exit_code == 0 and "已删除" in done.stdout


def test_newline_in_a_file_name_keeps_list_one_line_per_document(rag, tmp_path):
    src = write_files(tmp_path / "src", {"bad\nname.txt": DOC_LAIYANG, "luoding.md": DOC_LUODING})
    assert rag("ingest", src, "--index", tmp_path / "index").exit_code == 0
    listing = rag("list", "--index", tmp_path / "index").stdout.splitlines()
    heads = [line for line in listing if not line.startswith(" ")]
    assert heads[0].startswith("bad\\nname.txt") and heads[1].startswith("luoding.md") and len(heads) == 2


def test_utf16_without_bom_and_utf8_with_a_few_bad_bytes(rag, tmp_path):
    broken = DOC_LAIYANG.encode("utf-8")
    cut = broken.index("满意度".encode("utf-8"))
    src = write_files(tmp_path / "src", {"u16.txt": DOC_LUODING.replace("# ", "").encode("utf-16-le"),
                                         "bad.txt": broken[:cut] + b"\xff\xfe" + broken[cut:]})
    result = rag("ingest", src, "--index", tmp_path / "index")
    assert result.exit_code == 0 and "新增 2" in result.stdout, result.stderr
    assert "bad.txt" in result.stderr and "无法按 UTF-8 解码" in result.stderr  # a warning, not a refusal
    listing = rag("list", "--index", tmp_path / "index").stdout
    assert "utf-16-le" in listing and "罗定市" in listing


def test_a_100_mb_file_is_refused_before_it_is_read(rag, tmp_path, monkeypatch):
    big = tmp_path / "src" / "big.txt"
    big.parent.mkdir()
    with open(big, "wb") as f:  # sparse: 100 MB on paper, nothing to read
        f.truncate(100 * 1024 * 1024)
    from pathlib import Path

    def no_reading(self):
        raise AssertionError("the whole file was read before the size check")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    one_line_error(rag("ingest", big, "--index", tmp_path / "index"), DATA, "文件过大")


def test_blank_lines_in_a_questions_file_keep_lines_aligned(rag, tiny, tmp_path):
    root, _ = tiny
    questions = tmp_path / "q.txt"
    questions.write_text("哪些地方用信托制物业?\n\n罗定市协商解决了多少件微小事?\n", encoding="utf-8")
    result = rag("ask", "--file", questions, "--json", "--index", root)
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3
    assert rows[0]["question"] == "哪些地方用信托制物业?" and rows[2]["question"].startswith("罗定市")
    assert rows[1]["line"] == 2 and "空行" in rows[1]["error"]


def test_usage_and_data_errors_have_different_codes(rag, tmp_path):
    assert rag("ask", "--index", tmp_path / "none").exit_code == USAGE  # neither question nor file
    assert rag("search", "信托", "--mode", "nope", "--index", tmp_path).exit_code == USAGE
    binary = write_files(tmp_path / "src", {"x.txt": b"\x00\x01\x02binary" * 50})
    assert rag("parse", binary / "x.txt").exit_code == DATA
    assert rag("search", "信托", "--index", tmp_path / "none").exit_code == INDEX


def test_exit_codes_are_documented():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Exit codes"):]
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |", "| 4 |", "| 5 |"):
        assert code in section
