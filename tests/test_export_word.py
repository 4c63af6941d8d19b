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

from rag.answer.chain import Answerer, ChainConfig
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
    assert abs(section.page_width - Mm(210)) < Mm(0.1) and abs(section.page_height - Mm(297)) < Mm(0.1)  # A4
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


# What a Chinese desktop's font configuration does: the Windows font names resolve to the CJK
# fonts installed (Debian's fonts-noto-cjk), the serif ones for 仿宋/宋体/楷体, the sans for 黑体.
FONTCONFIG = """<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>
""" + "".join(f"<alias binding=\"same\"><family>{name}</family><prefer><family>{target}</family></prefer></alias>\n"
              for name, target in (("仿宋", "Noto Serif CJK SC"), ("宋体", "Noto Serif CJK SC"),
                                   ("楷体", "Noto Serif CJK SC"), ("方正小标宋简体", "Noto Serif CJK SC"),
                                   ("黑体", "Noto Sans CJK SC"), ("Times New Roman", "DejaVu Serif"))) + "</fontconfig>\n"


def test_word_renders_in_libreoffice(results, tmp_path):
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None or shutil.which("pdftoppm") is None:
        pytest.skip("LibreOffice or pdftoppm is missing: apt-get install libreoffice-writer poppler-utils (make system-deps)")
    from pypdf import PdfReader

    path = export(results, tmp_path / "对话.docx")
    home = tmp_path / "home"  # a private LibreOffice profile and font configuration
    (home / ".config" / "fontconfig").mkdir(parents=True)
    (home / ".config" / "fontconfig" / "fonts.conf").write_text(FONTCONFIG, encoding="utf-8")
    env = dict(os.environ, HOME=str(home))
    subprocess.run([soffice, "--headless", "--norestore", "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=240, env=env)
    pdf = PdfReader(str(tmp_path / "对话.pdf"))
    box = pdf.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points
    text = "".join(page.extract_text() for page in pdf.pages)
    assert SAMPLE in text and "参考资料" in text and "莱阳" in text
    fonts = {str(f.get("/BaseFont", "")) for page in pdf.pages
             for f in (page["/Resources"].get("/Font") or {}).values() for f in [f.get_object()]}
    assert any("NotoSerifCJK" in f for f in fonts) and any("NotoSansCJK" in f for f in fonts), fonts
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-f", "1", "-l", "1", "-singlefile", str(tmp_path / "对话.pdf"),
                    str(tmp_path / "page")], check=True, capture_output=True, timeout=120)
    png = (tmp_path / "page.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    out = os.environ.get("RAG_WORD_PNG")  # keep the picture, to look at it
    if out:
        Path(out).write_bytes(png)
