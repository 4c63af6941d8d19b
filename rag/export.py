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


def _provenance(r: AnswerResult) -> str:
    index = r.index or {}
    return (f"生成时间：{r.created_at}；回答方式：{r.backend}；索引：{index.get('version', '')}"
            f"（嵌入模型 {index.get('embedding', '')}，建于 {index.get('created_at', '')}）")


def _where(c) -> str:
    return f"{c.place_full or c.place} ·《{c.title}》· {c.doc} · 第{c.article}篇第{c.paragraph}段"


def to_markdown(results: list[AnswerResult]) -> str:
    parts = []
    for r in results:
        parts.append(f"## 问题：{r.question}\n")
        if r.refused:
            parts.append(f"> 未能回答：{r.answer}\n")
        else:
            parts.append(r.answer.strip() + "\n")
        unsupported = [s for s in r.sentences if not s.supported]
        if unsupported:
            parts.append("\n> 引用核查删除的句子：" + "；".join(s.original for s in unsupported) + "\n")
        if r.citations:
            parts.append("\n### 参考资料\n")
            for c in r.citations:
                parts.append(f"[{c.n}] {_where(c)}\n\n> {c.text}\n")
        parts.append(f"\n*{_provenance(r)}*\n")
    return "\n".join(parts)


def to_docx(results: list[AnswerResult], path: Path) -> None:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    document = docx.Document()
    for style_name in ("Normal", "Heading 1", "Heading 2", "Quote"):
        style = document.styles[style_name]
        style.font.name = "Noto Serif CJK SC" if style_name in ("Normal", "Quote") else "Noto Sans CJK SC"
        style.element.rPr.rFonts.set(qn("w:eastAsia"), style.font.name)
    document.styles["Normal"].font.size = Pt(11)
    title = document.add_heading("政策案例问答", level=1)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for r in results:
        document.add_heading(f"问题：{r.question}", level=2)
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
        if r.citations:
            document.add_heading("参考资料", level=2)
            for c in r.citations:
                p = document.add_paragraph()
                p.add_run(f"[{c.n}] ").bold = True
                p.add_run(_where(c))
                quote = document.add_paragraph(c.text, style="Quote")
                quote.paragraph_format.left_indent = Pt(18)
        note = document.add_paragraph()
        run = note.add_run(_provenance(r))
        run.italic, run.font.size, run.font.color.rgb = True, Pt(9), RGBColor(0x66, 0x66, 0x66)
    document.save(str(path))


def _add_with_markers(paragraph, text: str) -> None:
    """Citation markers as superscript, the way reports show footnote references."""
    for piece in re.split(r"(\[\d{1,3}\])", text):
        if not piece:
            continue
        run = paragraph.add_run(piece)
        if re.fullmatch(r"\[\d{1,3}\]", piece):
            run.font.superscript = True
