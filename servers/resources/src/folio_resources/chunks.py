"""Extracted text cut into search chunks: paragraphs packed up to a size, each with its location."""

from __future__ import annotations

import re
from dataclasses import dataclass

from folio_resources.extract import Extracted, location_of

TARGET_CHARS = 900
MAX_CHARS = 1400
MAX_CHUNKS = 2_000

_PARAGRAPH = re.compile(r"\n[ \t]*\n+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Chunk:
    ord: int
    start: int
    end: int
    location: str
    text: str


def _pieces(text: str) -> list[tuple[int, int]]:
    """(start, end) of paragraphs, long ones split at sentences or hard at MAX_CHARS."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for found in [*_PARAGRAPH.finditer(text), None]:
        end = found.start() if found is not None else len(text)
        if text[pos:end].strip():
            spans.extend(_split_long(text, pos, end))
        if found is not None:
            pos = found.end()
    return spans


def _split_long(text: str, start: int, end: int) -> list[tuple[int, int]]:
    if end - start <= MAX_CHARS:
        return [(start, end)]
    out: list[tuple[int, int]] = []
    cut = start
    for found in _SENTENCE.finditer(text, start, end):
        if found.start() - cut >= TARGET_CHARS:
            out.append((cut, found.start()))
            cut = found.end()
    while end - cut > MAX_CHARS:
        out.append((cut, cut + MAX_CHARS))
        cut += MAX_CHARS
    if text[cut:end].strip():
        out.append((cut, end))
    return out


def chunk_document(extracted: Extracted) -> list[Chunk]:
    """The search chunks of a document (none for binaries or empty text)."""
    text = extracted.text or ""
    chunks: list[Chunk] = []
    current: list[tuple[int, int]] = []

    def flush() -> None:
        if not current:
            return
        start, end = current[0][0], current[-1][1]
        body = text[start:end].strip()
        if body:
            chunks.append(Chunk(len(chunks), start, end, location_of(extracted, start), body))
        current.clear()

    for start, end in _pieces(text):
        size = current[-1][1] - current[0][0] if current else 0
        if current and size + (end - start) > TARGET_CHARS:
            flush()
        current.append((start, end))
        if len(chunks) >= MAX_CHUNKS:
            break
    flush()
    return chunks[:MAX_CHUNKS]


def embedding_text(title: str | None, chunk: Chunk) -> str:
    """What is embedded for a chunk: the document's title and the chunk's section give context."""
    head = " · ".join(part for part in (title, chunk.location.split(", line")[0]) if part)
    return f"{head}\n{chunk.text}" if head else chunk.text
