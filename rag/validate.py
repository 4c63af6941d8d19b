"""Checks on what users type, with messages in their language."""
from __future__ import annotations

import unicodedata

from .errors import InputError


def clean_question(text: str | None, max_chars: int = 2000) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip()
    text = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")
    if not text:
        raise InputError("问题是空的，请输入要查询的内容。")
    if len(text) > max_chars:
        raise InputError(f"问题太长（{len(text)} 字，上限 {max_chars} 字）。请缩短后再问。")
    return text
