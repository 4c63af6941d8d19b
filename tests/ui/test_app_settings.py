"""The UI's endpoint boxes (issue 10, item 11) and evaluation sets (item 8), without a browser."""
from __future__ import annotations

from pathlib import Path

from rag.config import Settings, is_loopback
from rag.ui.app import _App, _report_for_page, eval_sets


def test_endpoint_is_editable_only_on_loopback_unless_the_operator_says_so():
    s = Settings()
    assert s.endpoint_editable("127.0.0.1") and s.endpoint_editable("localhost") and s.endpoint_editable("::1")
    assert not s.endpoint_editable("0.0.0.0") and not s.endpoint_editable("192.168.1.5")
    assert Settings(ui_endpoint_editable=True).endpoint_editable("0.0.0.0")
    assert not Settings(ui_endpoint_editable=False).endpoint_editable("127.0.0.1")
    assert is_loopback("127.0.0.2") and not is_loopback("example.com")


def test_a_visitor_cannot_point_a_public_ui_elsewhere():
    s = Settings(llm_url="http://10.0.0.2:8080/v1", llm_model="qwen", llm_key="server-key")
    public = _App(settings=s, engine=None, endpoint_editable=False)
    options = public.options("openai", 8, "", "http://169.254.169.254/latest", "k", "m")
    assert (options.llm_url, options.llm_model, options.llm_key) == (s.llm_url, s.llm_model, s.llm_key)
    local = _App(settings=s, engine=None, endpoint_editable=True)
    assert local.options("openai", 8, "", "http://127.0.0.1:9/v1", "", "m").llm_url == "http://127.0.0.1:9/v1"
    assert public.options("rm -rf", None, "").backend == "extractive"


def test_evaluation_sets_come_from_the_eval_folder_only(tmp_path):
    (tmp_path / "a.jsonl").write_text("{}\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    (tmp_path / "link.jsonl").symlink_to("/etc/passwd")
    assert list(eval_sets(Settings(eval_dir=tmp_path))) == ["a.jsonl"]
    assert eval_sets(Settings(eval_dir=tmp_path / "missing")) == {}
    repo_sets = eval_sets(Settings(eval_dir=Path(__file__).resolve().parents[2] / "eval"))
    assert "golden.jsonl" in repo_sets


def test_golden_errors_never_echo_the_file(tmp_path):
    import pytest

    from rag.errors import InputError
    from rag.golden import load_golden

    secret = tmp_path / "x.jsonl"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_golden(secret)
    assert "root:" not in str(info.value) and "第 1 行" in str(info.value)


def test_report_shows_chinese_metric_names():
    md = "| 指标 | 总体 | 单点事实 single |\n| 答案正确率 `answer_correct` ↑ | 0.9 (3) | 1.000 |\n![by_type](chart_by_type.png)\n## 图表"
    page = _report_for_page(md)
    assert "`answer_correct`" not in page and "single" not in page and "chart_" not in page
    assert "答案正确率 ↑" in page and "单点事实 |" in page
