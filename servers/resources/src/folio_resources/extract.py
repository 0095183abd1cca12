"""Text out of the owner's documents: Markdown (front matter as metadata), plain text, HTML
(readable text, no scripts or styles) and PDF (pypdf); MIME types from the name and the bytes.

Everything here works on bytes already read (see :mod:`folio_core.safepath`); nothing opens a
path. A file that cannot be read as its name says raises :class:`ExtractionError` with a message
the model can relay.
"""

from __future__ import annotations

import io
import json
import mimetypes
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Literal

import yaml

from folio_resources.errors import ExtractionError

Kind = Literal["markdown", "text", "html", "pdf", "binary"]

MAX_TEXT_CHARS = 5_000_000
MAX_PDF_PAGES = 2_000

_BY_SUFFIX: dict[str, tuple[Kind, str]] = {
    ".md": ("markdown", "text/markdown"),
    ".markdown": ("markdown", "text/markdown"),
    ".txt": ("text", "text/plain"),
    ".text": ("text", "text/plain"),
    ".rst": ("text", "text/x-rst"),
    ".csv": ("text", "text/csv"),
    ".json": ("text", "application/json"),
    ".yaml": ("text", "application/yaml"),
    ".yml": ("text", "application/yaml"),
    ".html": ("html", "text/html"),
    ".htm": ("html", "text/html"),
    ".pdf": ("pdf", "application/pdf"),
}
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


@dataclass(frozen=True)
class Extracted:
    """What a document holds: its text (``None`` for binaries), title, front matter and pages."""

    kind: Kind
    mime: str
    text: str | None
    title: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    pages: tuple[int, ...] = ()
    """For PDFs: the offset in ``text`` where each page starts."""
    warnings: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        """The front matter marks the document public (``public: true`` or ``visibility: public``)."""
        return self.meta.get("public") is True or self.meta.get("visibility") == "public"

    @property
    def confirm(self) -> bool:
        """The front matter asks that reading the document be confirmed by the user first."""
        return self.meta.get("confirm") is True


def suffix_of(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def detect(name: str, head: bytes) -> tuple[Kind, str]:
    """The kind and MIME type of a file from its name and its first bytes."""
    if head.startswith(b"%PDF-"):
        return "pdf", "application/pdf"
    known = _BY_SUFFIX.get(suffix_of(name))
    if known is not None:
        return known
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed is not None and not guessed.startswith("text/"):
        return "binary", guessed
    if _looks_textual(head):
        return "text", guessed or "text/plain"
    return "binary", guessed or "application/octet-stream"


def _looks_textual(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a character cut at the end of the sample
    return True


def _decode(data: bytes, name: str, kind: str) -> str:
    if b"\x00" in data[:65536]:
        raise ExtractionError(f"{name} has a {kind} name but holds binary data, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractionError(
            f"{name} has a {kind} name but is not UTF-8 text (invalid byte at offset {exc.start})"
        ) from exc
    if len(text) > MAX_TEXT_CHARS:
        raise ExtractionError(f"{name} holds {len(text):,} characters of text; at most {MAX_TEXT_CHARS:,}")
    return text.replace("\r\n", "\n")


def _jsonable(value: Any) -> dict[str, Any]:
    loaded = json.loads(json.dumps(value, default=str))
    return loaded if isinstance(loaded, dict) else {}


def _markdown(name: str, data: bytes) -> Extracted:
    text = _decode(data, name, "Markdown")
    meta: dict[str, Any] = {}
    warnings: list[str] = []
    body = text
    found = _FRONT_MATTER.match(text)
    if found is not None:
        body = text[found.end() :]
        try:
            parsed = yaml.safe_load(found.group(1))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 2})" if mark is not None else ""
            warnings.append(f"the front matter is not valid YAML{where}; it was ignored")
            parsed = None
        if isinstance(parsed, dict):
            meta = _jsonable(parsed)
        elif parsed is not None:
            warnings.append("the front matter is not a mapping of keys to values; it was ignored")
    title = meta.get("title") if isinstance(meta.get("title"), str) else None
    if title is None and (heading := _HEADING.search(body)) is not None:
        title = heading.group(1).strip()
    return Extracted("markdown", "text/markdown", body, title, meta, warnings=tuple(warnings))


class _Readable(HTMLParser):
    """The readable text of an HTML page: no scripts, styles, templates or hidden parts."""

    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head", "iframe", "object"})
    BLOCKS = frozenset(
        {
            "p", "div", "section", "article", "header", "footer", "main", "aside", "nav", "br", "hr",
            "li", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
            "dt", "dd", "figcaption", "title",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title: list[str] = []
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        if tag in self.SKIP and tag not in ("br", "hr"):
            self._skip += 1
        if tag in self.BLOCKS:
            self.out.append("\n")
        if tag.startswith("h") and tag[1:].isdigit() and not self._skip:
            self.out.append("#" * int(tag[1:]) + " ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.BLOCKS:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in self.SKIP and self._skip:
            self._skip -= 1
        if tag in self.BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        if not self._skip:
            self.out.append(data)


def _html(name: str, data: bytes) -> Extracted:
    source = _decode(data, name, "HTML")
    parser = _Readable()
    parser.feed(source)
    parser.close()
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in "".join(parser.out).split("\n")]
    paragraphs: list[str] = []
    for line in lines:
        if line:
            paragraphs.append(line)
        elif paragraphs and paragraphs[-1] != "":
            paragraphs.append("")
    text = "\n".join(paragraphs).strip() + "\n"
    title = " ".join("".join(parser.title).split()) or None
    return Extracted("html", "text/html", text, title)


def _pdf(name: str, data: bytes) -> Extracted:
    from pypdf import PdfReader  # imported on the first PDF

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ExtractionError(f"{name} is an encrypted PDF; its text cannot be read without the password")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise ExtractionError(
                f"{name} has {len(reader.pages):,} pages; at most {MAX_PDF_PAGES:,} are read"
            )
        parts: list[str] = []
        starts: list[int] = []
        offset = 0
        for page in reader.pages:
            page_text = (page.extract_text() or "").strip()
            starts.append(offset)
            parts.append(page_text)
            offset += len(page_text) + 2
        info = reader.metadata
        title = (
            info.title if info is not None and isinstance(info.title, str) and info.title.strip() else None
        )
    except ExtractionError:
        raise
    except Exception as exc:  # pypdf raises many kinds for damaged files
        raise ExtractionError(
            f"{name} is not a readable PDF (damaged or unsupported: {type(exc).__name__})"
        ) from exc
    text = "\n\n".join(parts)
    warnings = () if text.strip() else ("the PDF has no extractable text (scanned images?)",)
    return Extracted("pdf", "application/pdf", text, title, pages=tuple(starts), warnings=warnings)


def extract(name: str, data: bytes) -> Extracted:
    """The text and metadata of a file called ``name`` holding ``data``."""
    kind, mime = detect(name, data[:4096])
    if kind == "markdown":
        return _markdown(name, data)
    if kind == "html":
        return _html(name, data)
    if kind == "pdf":
        if not data.startswith(b"%PDF-"):
            raise ExtractionError(f"{name} has a PDF name but is not a PDF (no %PDF- header)")
        return _pdf(name, data)
    if kind == "text":
        return Extracted("text", mime, _decode(data, name, "text"))
    return Extracted("binary", mime, None)


def location_of(extracted: Extracted, offset: int) -> str:
    """Where ``offset`` is in the document, for a reader: a page, a section, a line."""
    text = extracted.text or ""
    line = text.count("\n", 0, offset) + 1
    if extracted.pages:
        page = sum(1 for start in extracted.pages if start <= offset)
        return f"page {page}, line {line}"
    if extracted.kind in ("markdown", "html"):
        heading = None
        line_end = text.find("\n", offset)
        for found in _HEADING.finditer(text, 0, len(text) if line_end < 0 else line_end):
            heading = found.group(1).strip()
        if heading is not None:
            return f"section “{heading[:80]}”, line {line}"
    return f"line {line}"
