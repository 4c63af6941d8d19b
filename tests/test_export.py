import json

import docx
import pytest

from rag.answer.chain import Answerer, ChainConfig
from rag.errors import InputError
from rag.export import export


@pytest.fixture(scope="module")
def result(real_index):
    return Answerer(real_index, ChainConfig()).ask("哪些地方用信托制物业?")


def test_markdown(result, tmp_path):
    text = export(result, tmp_path / "a.md").read_text(encoding="utf-8")
    assert "哪些地方用信托制物业" in text and "莱阳" in text
    assert "### 参考资料" in text and "[1] 山东省烟台市莱阳市" in text
    assert "> " + result.citations[0].text in text  # the cited paragraph, quoted in full
    assert "回答方式：摘录式（无需大模型）" in text and result.index["version"] in text


def test_word(result, tmp_path):
    document = docx.Document(str(export(result, tmp_path / "a.docx")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "问题：哪些地方用信托制物业?" in text
    assert "参考资料" in text and result.citations[0].text in text
    assert any(run.font.superscript for p in document.paragraphs for run in p.runs if run.text == "[1]")


def test_json_and_conversation(result, tmp_path):
    one = json.loads(export(result, tmp_path / "a.json").read_text(encoding="utf-8"))
    assert one["question"] == result.question and one["citations"]
    many = json.loads(export([result, result], tmp_path / "b.json").read_text(encoding="utf-8"))
    assert isinstance(many, list) and len(many) == 2


def test_unknown_format(result, tmp_path):
    with pytest.raises(InputError):
        export(result, tmp_path / "a.pdf")


def test_notes_on_how_an_answer_was_reached_are_exported(real_index, tmp_path):
    r = Answerer(real_index, ChainConfig()).ask("哪些地方给外卖小哥弄了歇脚的地方？")
    assert any("按意思相近" in n for n in r.notes)
    text = export(r, tmp_path / "a.md").read_text(encoding="utf-8")
    document = docx.Document(str(export(r, tmp_path / "a.docx")))
    word = "\n".join(p.text for p in document.paragraphs)
    for note in r.notes:
        assert f"> 注：{note}" in text and f"注：{note}" in word
