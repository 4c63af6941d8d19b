"""Read a document file into text the parser understands.

Plain text and Markdown keep their exact characters (citations point at character spans in
them). Word, PDF and HTML are turned into Markdown-like text: headings become `#`/`##` lines
and paragraphs are separated by blank lines, so one parser serves every format.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DataError as InputError  # a file's problem: exit code 4

SUPPORTED = (".txt", ".md", ".markdown", ".docx", ".pdf", ".html", ".htm")
MAX_BYTES = 20 * 1024 * 1024


@dataclass
class LoadedText:
    text: str
    encoding: str
    content_hash: str  # sha256 of the file's bytes
    warnings: list[str] = field(default_factory=list)  # read, but not perfectly (bad bytes replaced)


def load(path: str | Path) -> LoadedText:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"找不到文件：{path}")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(f"不支持的文件类型 {suffix or '(无扩展名)'}：{path.name}。支持：{' '.join(SUPPORTED)}")
    size = path.stat().st_size  # before reading: a 100 MB file is refused without loading it
    if size > MAX_BYTES:
        raise InputError(f"文件过大（{size / 1e6:.1f} MB，上限 {MAX_BYTES // 1024 // 1024} MB）：{path.name}。"
                         "请拆分成较小的文件后再导入。")
    data = path.read_bytes()
    if not data.strip():
        raise InputError(f"文件是空的：{path.name}")
    digest = hashlib.sha256(data).hexdigest()
    warnings: list[str] = []
    try:
        if suffix == ".docx":
            text, encoding = _docx_text(path), "docx"
        elif suffix == ".pdf":
            text, encoding = _pdf_text(path), "pdf"
        elif suffix in (".html", ".htm"):
            raw, encoding = decode(data, path.name, warnings)
            text = html_text(raw)
        else:
            text, encoding = decode(data, path.name, warnings)
    except InputError:
        raise
    except Exception as exc:  # a broken container: corrupt zip, damaged PDF, …
        raise InputError(f"无法读取文件 {path.name}：文件可能已损坏（{type(exc).__name__}: {exc}）") from exc
    if not text.strip():
        raise InputError(f"文件中没有可读的文字：{path.name}")
    return LoadedText(text=text.replace("\r\n", "\n").replace("\r", "\n"), encoding=encoding, content_hash=digest,
                      warnings=warnings)


# UTF-8 with a few undecodable bytes (a damaged copy) is read with U+FFFD in their place and a
# warning, as long as they are rare; a GBK file read as UTF-8 fails on nearly every character.
MAX_BAD_BYTES_SHARE = 0.01


def decode(data: bytes, name: str = "", warnings: list[str] | None = None) -> tuple[str, str]:
    """UTF-8 (with or without BOM), UTF-16 (with or without BOM), UTF-8 with a few bad bytes
    (replaced, with a warning), then GB18030 (a superset of GBK/GB2312), then a detector."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:4096]:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        raise InputError(f"{name} 看起来是二进制文件，不是文本。请另存为 UTF-8 文本后再导入。")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8-sig", errors="replace")
    bad = text.count("\ufffd")
    wide = sum(1 for ch in text if ord(ch) > 0x7F and ch != "\ufffd")  # multi-byte UTF-8 that did decode
    if (bad <= max(16, MAX_BAD_BYTES_SHARE * len(text)) and wide >= 10 * bad
            and _mostly_cjk_or_ascii(text.replace("\ufffd", ""))):
        if warnings is not None:
            warnings.append(f"{name} 中有 {bad} 处无法按 UTF-8 解码的字节，已替换为 �；其余内容照常导入。"
                            "如有原文件，请修复后重新导入。")
        return text, "utf-8"
    for encoding in ("gb18030",):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "gb18030" and not _mostly_cjk_or_ascii(text):
            break
        return text, encoding
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(f"无法识别 {name} 的文字编码（不是 UTF-8 或 GBK）")
    return str(best), best.encoding


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 saved without a byte-order mark: NUL bytes in one column only (the high byte of ASCII
    characters), and a reading that is Chinese or ASCII text without control characters."""
    if len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    encoding = "utf-16-le" if odd and not even else "utf-16-be" if even and not odd else None
    if encoding is None:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    if any(ch < " " and ch not in "\t\n\r" for ch in text) or not _mostly_cjk_or_ascii(text):
        return None
    return text, encoding


def _mostly_cjk_or_ascii(text: str) -> bool:
    sample = text[:5000]
    good = sum(1 for ch in sample if ch.isascii() or "\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef"
               or "\u2000" <= ch <= "\u27bf")  # general punctuation “”—…, symbols □■●
    return good >= 0.9 * max(len(sample), 1)


def _docx_text(path: Path) -> str:
    import docx

    lines: list[str] = []
    for para in docx.Document(str(path)).paragraphs:
        text = para.text.strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style == "title" or style.endswith("heading 1"):
            text = "# " + text
        elif style.startswith("heading"):
            text = "## " + text
        lines.append(text)
    return "\n\n".join(lines)


def _pdf_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    pages = [(page.extract_text() or "").strip() for page in reader.pages]
    return "\n\n".join(p for p in pages if p)


def html_text(markup: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "nav", "footer", "header"]):
        tag.decompose()
    lines: list[str] = []
    for el in soup.find_all(["h1", "h2", "h3", "h4", "p", "li", "figcaption"]):
        text = " ".join(el.get_text(" ", strip=True).split())
        if not text:
            continue
        prefix = {"h1": "# ", "h2": "## ", "h3": "## ", "h4": "## "}.get(el.name, "")
        lines.append(prefix + text)
    if not lines:
        lines = [line.strip() for line in soup.get_text("\n").splitlines() if line.strip()]
    return "\n\n".join(lines)
