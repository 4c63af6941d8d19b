"""The Word export as an official would use it: A4, 公文-like fonts with Noto CJK alternatives,
black upright headings, an indented upright quote block, places and titles (file names small),
Chinese backend names, real core properties; and rendered by LibreOffice to PDF and PNG."""
from __future__ import annotations

import datetime
import os
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from docx.shared import Mm

from rag.chain import Answerer, ChainConfig
from rag.export import APP_NAME, export

SAMPLE = "哪些地方用信托制物业?"


@pytest.fixture(scope="module")
def results(real_index):
    answerer = Answerer(real_index, ChainConfig())
    return [answerer.ask(SAMPLE), answerer.ask("岑溪市怎样用牛娘戏参与基层治理？")]


def test_word_layout_fonts_and_properties(results, tmp_path):
    started = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    document = docx.Document(str(export(results[0], tmp_path / "a.docx")))
    section = document.sections[0]
    assert (section.page_width, section.page_height) == (Mm(210), Mm(297))
    styles = document.styles
    for name in ("Title", "Heading 1", "Heading 2"):
        font = styles[name].font
        assert str(font.color.rgb) == "000000" and font.color.theme_color is None, name
        assert not font.italic
    assert not styles["Quote"].font.italic and styles["Quote"].paragraph_format.left_indent > 0
    east_asia = {name: styles[name].element.rPr.rFonts.get(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}eastAsia") for name in ("Normal", "Heading 1", "Quote")}
    assert east_asia == {"Normal": "仿宋", "Heading 1": "黑体", "Quote": "楷体"}
    font_table = next(r.target_part for r in document.part.rels.values() if r.reltype.endswith("/fontTable")).blob.decode()
    assert 'w:name="仿宋"' in font_table and "Noto Serif CJK SC" in font_table

    text = "\n".join(p.text for p in document.paragraphs)
    c = results[0].citations[0]
    assert f"{c.place_full} ·《{c.title}》第{c.paragraph}段" in text
    reference = next(p for p in document.paragraphs if p.text.startswith("[1] "))
    small = [r for r in reference.runs if c.doc in r.text]
    assert small and small[0].font.size.pt < 10  # the file name, in small print
    assert "摘录式（无需大模型）" in text and "extractive" not in text

    props = document.core_properties
    assert props.author == APP_NAME and props.last_modified_by == APP_NAME
    assert props.title == f"{APP_NAME}：{SAMPLE}"
    created = props.created.replace(tzinfo=datetime.timezone.utc) if props.created.tzinfo is None else props.created
    assert abs((created - started).total_seconds()) < 120


def test_word_renders_in_libreoffice(results, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice is missing: apt-get install libreoffice-writer (make system-deps)")
    from pypdf import PdfReader

    path = export(results, tmp_path / "对话.docx")
    env = dict(os.environ, HOME=str(tmp_path))  # a private LibreOffice profile
    for fmt in ("pdf", "png"):
        subprocess.run([soffice, "--headless", "--norestore", "--convert-to", fmt, "--outdir", str(tmp_path), str(path)],
                       check=True, capture_output=True, timeout=240, env=env)
    pdf = PdfReader(str(tmp_path / "对话.pdf"))
    box = pdf.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = "".join(page.extract_text() for page in pdf.pages)
    assert SAMPLE in text and "参考资料" in text and "莱阳" in text
    png = (tmp_path / "对话.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    out = os.environ.get("RAG_WORD_PNG")  # keep the picture to look at it
    if out:
        Path(out).write_bytes(png)
        shutil.copy(tmp_path / "对话.pdf", Path(out).with_suffix(".pdf"))
