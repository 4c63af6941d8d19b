"""An answer as a file an official can put into a report: Markdown, Word or JSON.

Each holds the question, the answer with its [n] markers, and a reference list quoting every
cited paragraph with its place, article title, file and paragraph number, plus when, with which
backend and which index it was made. The UI uses the same functions.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from .errors import InputError
from .schema import AnswerResult

FORMATS = ("md", "docx", "json")


def export(results: AnswerResult | list[AnswerResult], path: str | Path) -> Path:
    path = Path(path)
    results = results if isinstance(results, list) else [results]
    fmt = path.suffix.lower().lstrip(".")
    if fmt == "markdown":
        fmt = "md"
    if fmt not in FORMATS:
        raise InputError(f"不支持的导出格式 .{fmt}，可选：.md .docx .json")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "md":
        path.write_text(to_markdown(results), encoding="utf-8")
    elif fmt == "json":
        data = [r.contract() for r in results]
        path.write_text(json.dumps(data[0] if len(data) == 1 else data, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        to_docx(results, path)
    return path


APP_NAME = "政策案例问答"
BACKEND_NAMES = {
    "extractive": "摘录式（无需大模型）",
    "local": "本地模型",
    "openai": "OpenAI 兼容接口",
}

# Word: A4 with the margins of official documents (GB/T 9704), 公文-like fonts. Each font is
# named first as Word on a Chinese Windows has it, with Noto CJK (Debian's fonts-noto-cjk, Adobe's
# Source Han) recorded as the alternative a viewer without it should use.
FONT_TITLE = ("方正小标宋简体", "Noto Serif CJK SC")  # the document's title
FONT_HEADING = ("黑体", "Noto Sans CJK SC")  # question and section headings
FONT_BODY = ("仿宋", "Noto Serif CJK SC")  # the answer
FONT_QUOTE = ("楷体", "Noto Serif CJK SC")  # quoted source paragraphs
FONT_SMALL = ("宋体", "Noto Serif CJK SC")  # references' details, provenance
LATIN = "Times New Roman"


def backend_name(backend: str) -> str:
    """extractive → 摘录式…; "local→extractive" → 本地模型 → 摘录式…"""
    return " → ".join(BACKEND_NAMES.get(part, part) for part in (backend or "").split("→"))


def _provenance(r: AnswerResult) -> str:
    index = r.index or {}
    return (f"生成时间：{r.created_at}；回答方式：{backend_name(r.backend)}；索引版本 {index.get('version', '')}"
            f"（嵌入模型 {index.get('embedding', '')}，建于 {index.get('created_at', '')}）")


def _where(c) -> str:
    """Where a cited paragraph comes from, as a reader names it: place, article, paragraph."""
    return f"{c.place_full or c.place or '地点未知'} ·《{c.title}》第{c.paragraph}段"


def to_markdown(results: list[AnswerResult]) -> str:
    parts = []
    for r in results:
        parts.append(f"## 问题：{r.question}\n")
        if r.refused:
            parts.append(f"> 未能回答：{r.answer}\n")
        else:
            parts.append(r.answer.strip() + "\n")
        parts += [f"> 注：{note}\n" for note in r.notes]  # how the answer was reached, e.g. by meaning
        unsupported = [s for s in r.sentences if not s.supported]
        if unsupported:
            parts.append("\n> 引用核查删除的句子：" + "；".join(s.original for s in unsupported) + "\n")
        if r.citations:
            parts.append("\n### 参考资料\n")
            for c in r.citations:
                parts.append(f"[{c.n}] {_where(c)}（文件 {c.doc}，第{c.article}篇）\n\n> {c.text}\n")
        parts.append(f"\n*{_provenance(r)}*\n")
    return "\n".join(parts)


def _font(target, fonts: tuple[str, str], size: float | None = None, bold: bool | None = None) -> None:
    """Set a style's or a run's fonts: the Chinese one for East Asian text, Times for the rest."""
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    font = target.font
    font.name = LATIN
    rpr = target.element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), fonts[0])
    rfonts.set(qn("w:ascii"), LATIN)
    rfonts.set(qn("w:hAnsi"), LATIN)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(theme), None)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    font.italic = False
    font.color.rgb = RGBColor(0, 0, 0)


def _register_fallbacks(document) -> None:
    """Record each Chinese font's alternative (w:altName) in the document's font table."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from lxml import etree

    part = next((rel.target_part for rel in document.part.rels.values() if rel.reltype == RT.FONT_TABLE), None)
    if part is None:
        return
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    root = etree.fromstring(part.blob)
    known = {f.get(f"{{{ns}}}name") for f in root.findall(f"{{{ns}}}font")}
    for name, alternative in {FONT_TITLE, FONT_HEADING, FONT_BODY, FONT_QUOTE, FONT_SMALL}:
        if name in known:
            continue
        font = etree.SubElement(root, f"{{{ns}}}font", {f"{{{ns}}}name": name})
        etree.SubElement(font, f"{{{ns}}}altName", {f"{{{ns}}}val": alternative})
        etree.SubElement(font, f"{{{ns}}}charset", {f"{{{ns}}}val": "86"})  # GB2312
        etree.SubElement(font, f"{{{ns}}}family", {f"{{{ns}}}val": "modern" if name == "黑体" else "roman"})
        known.add(name)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def to_docx(results: list[AnswerResult], path: Path) -> None:
    import datetime

    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)

    styles = document.styles
    _font(styles["Normal"], FONT_BODY, 14)  # 四号
    normal = styles["Normal"].paragraph_format
    normal.line_spacing_rule, normal.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(26)
    normal.space_after = Pt(4)
    _font(styles["Title"], FONT_TITLE, 22, bold=False)  # 二号
    _font(styles["Heading 1"], FONT_HEADING, 16, bold=False)  # 三号
    _font(styles["Heading 2"], FONT_HEADING, 14, bold=False)  # 四号
    for name in ("Title", "Heading 1", "Heading 2"):
        fmt = styles[name].paragraph_format
        fmt.space_before, fmt.space_after = Pt(12), Pt(6)
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.SINGLE, None
        borders = styles[name].element.pPr.find(qn("w:pBdr"))  # the template underlines its Title
        if borders is not None:
            styles[name].element.pPr.remove(borders)
    quote = styles["Quote"]
    _font(quote, FONT_QUOTE, 12)  # 小四, upright
    fmt = quote.paragraph_format
    fmt.left_indent, fmt.right_indent = Mm(10), Mm(4)
    fmt.space_before, fmt.space_after = Pt(2), Pt(8)
    fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, Pt(22)
    border = OxmlElement("w:pBdr")  # a grey rule on the left marks the quotation
    left = OxmlElement("w:left")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "8"), ("w:color", "A6A6A6")):
        left.set(qn(key), value)
    border.append(left)
    quote.element.get_or_add_pPr().append(border)
    _register_fallbacks(document)

    title = document.add_paragraph(APP_NAME, style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for r in results:
        document.add_heading(f"问题：{r.question}", level=1)
        if r.refused:
            p = document.add_paragraph()
            p.add_run("未能回答：").bold = True
            p.add_run(r.answer)
        else:
            for line in r.answer.strip().splitlines():
                line = line.strip()
                if line.startswith("- "):
                    _add_with_markers(document.add_paragraph(style="List Bullet"), line[2:])
                elif line:
                    _add_with_markers(document.add_paragraph(), line)
        for text in r.notes:
            run = document.add_paragraph().add_run(f"注：{text}")
            _font(run, FONT_SMALL, 10)
        if r.citations:
            document.add_heading("参考资料", level=2)
            for c in r.citations:
                p = document.add_paragraph()
                p.paragraph_format.space_before = Pt(6)
                p.paragraph_format.keep_with_next = True
                p.add_run(f"[{c.n}] ").bold = True
                p.add_run(_where(c))
                small = p.add_run(f"　文件 {c.doc}，第{c.article}篇")
                _font(small, FONT_SMALL, 9)
                small.font.color.rgb = RGBColor(0x59, 0x59, 0x59)
                document.add_paragraph(c.text, style="Quote")
        note = document.add_paragraph()
        note.paragraph_format.space_before = Pt(8)
        note.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
        run = note.add_run(_provenance(r))
        _font(run, FONT_SMALL, 9)
        run.font.color.rgb = RGBColor(0x59, 0x59, 0x59)

    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    props = document.core_properties
    first = results[0].question if results else ""
    props.title = f"{APP_NAME}：{first}" if len(results) == 1 else f"{APP_NAME}：{len(results)} 个问题"
    props.subject = "带出处的政策案例问答"
    props.author = props.last_modified_by = APP_NAME
    props.created = props.modified = now
    props.revision = 1
    props.keywords = "政策案例；问答；出处"
    props.comments = ""
    document.save(str(path))


def _add_with_markers(paragraph, text: str) -> None:
    """Citation markers as superscript, the way reports show footnote references."""
    for piece in re.split(r"(\[\d{1,3}\])", text):
        if not piece:
            continue
        run = paragraph.add_run(piece)
        if re.fullmatch(r"\[\d{1,3}\]", piece):
            run.font.superscript = True
