"""Code snippets of the demos and of files the owner chose from their repositories, cut at function
and class boundaries and searched by meaning."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio

from folio_demo.demos import Demo, SourceFile

if TYPE_CHECKING:
    from folio_core.embeddings import Embedder

WINDOW_LINES = 40
_JS_START = re.compile(
    r"^(?:async\s+)?function\s+\w+|^(?:const|let|var)\s+\w+\s*=\s*(?:async\s*)?\(|^class\s+\w+"
)


@dataclass(frozen=True)
class Snippet:
    demo: str | None
    path: str
    start_line: int
    end_line: int
    text: str
    language: str
    public: bool
    repository: str | None = None

    @property
    def location(self) -> str:
        where = f"demos/{self.demo}" if self.demo is not None else str(self.repository)
        return f"{where}/{self.path}:{self.start_line}-{self.end_line}"

    def as_dict(self, score: float | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {
            "demo": self.demo,
            "repository": self.repository,
            "path": self.path,
            "location": self.location,
            "lines": [self.start_line, self.end_line],
            "language": self.language,
            "code": self.text,
        }
        if score is not None:
            found["score"] = round(score, 4)
        return found


def _windows(lines: list[str], first: int = 1) -> Iterable[tuple[int, int]]:
    for start in range(0, len(lines), WINDOW_LINES):
        yield first + start, first + min(len(lines), start + WINDOW_LINES) - 1


def _python_spans(text: str) -> list[tuple[int, int]]:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return list(_windows(text.splitlines()))
    spans: list[tuple[int, int]] = []
    loose: list[int] = []
    for node in tree.body:
        end = node.end_lineno or node.lineno
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            spans.append((start, end))
        else:
            loose.extend(range(node.lineno, end + 1))
    if loose:  # the module's top-level statements, as one piece (or windows of it)
        spans.append((loose[0], loose[-1]))
    return sorted(spans)


def _javascript_spans(text: str) -> list[tuple[int, int]]:
    lines = text.splitlines()
    starts = [i + 1 for i, line in enumerate(lines) if _JS_START.match(line)]
    if not starts:
        return list(_windows(lines))
    spans = []
    if starts[0] > 1:
        spans.append((1, starts[0] - 1))
    for i, start in enumerate(starts):
        end = starts[i + 1] - 1 if i + 1 < len(starts) else len(lines)
        spans.append((start, end))
    return spans


def cut_file(
    path: str, text: str, *, public: bool, demo: str | None = None, repository: str | None = None
) -> list[Snippet]:
    """One source file cut into snippets (functions, classes, the rest), each with its lines."""
    if path.endswith(".py"):
        spans, language = _python_spans(text), "python"
    elif path.endswith((".js", ".mjs")):
        spans, language = _javascript_spans(text), "javascript"
    else:
        return []
    lines = text.splitlines()
    found = []
    for start, end in spans:
        body = "\n".join(lines[start - 1 : end]).strip("\n")
        if body.strip():
            found.append(Snippet(demo, path, start, end, body, language, public, repository))
    return found


def cut(demo: Demo) -> list[Snippet]:
    """The demo's source files cut into snippets."""
    return [
        s
        for path, text in sorted(demo.files.items())
        for s in cut_file(path, text, public=demo.public, demo=demo.name)
    ]


class SnippetIndex:
    """Embeddings of every snippet, built on first use."""

    def __init__(self, demos: Iterable[Demo], sources: Iterable[SourceFile] = ()) -> None:
        self.snippets = [s for demo in demos for s in cut(demo)]
        for source in sources:
            self.snippets += cut_file(
                source.path, source.text, public=source.public, repository=source.repository
            )
        self._vectors: Any = None
        self._lock = anyio.Lock()

    async def search(
        self, embedder: Embedder, query: str, *, public: bool, limit: int = 5
    ) -> list[tuple[float, Snippet]]:
        import numpy as np

        async with self._lock:
            if self._vectors is None and self.snippets:
                texts = [f"{s.demo} {s.path}\n{s.text}" for s in self.snippets]
                self._vectors = await anyio.to_thread.run_sync(embedder.embed_documents, texts)
        if not self.snippets:
            return []
        q = await anyio.to_thread.run_sync(embedder.embed_query, query)
        scores = np.asarray(self._vectors) @ np.asarray(q).reshape(-1)
        order = np.argsort(-scores)
        found = []
        for i in order:
            snippet = self.snippets[int(i)]
            if public and not snippet.public:
                continue
            found.append((float(scores[int(i)]), snippet))
            if len(found) >= limit:
                break
        return found
