"""Names the fleet exposes: ``<server>__<tool>`` (and ``<server>__<prompt>``).

Every exposed name matches ``^[a-zA-Z0-9_-]{1,64}$``, the rule of both Anthropic's and OpenAI's
tool APIs, whatever the server and tool are called (spaces, dots, unicode, 200 characters).

* The server segment is the server's name when it is already valid, has no ``__``, does not end
  with ``_`` and is at most :data:`SERVER_SEGMENT_MAX` characters; otherwise it is a cleaned,
  shortened prefix plus ``-`` and a short hash of the original name. It never contains ``__``,
  so the first ``__`` of an exposed name always ends the server segment, and it depends only on
  the set of server names (``folio call profile__…`` knows its server before any server starts).
* The item segment is the tool's name when valid and short enough to fit the 64 characters;
  otherwise a cleaned prefix, ``-`` and a short hash of the original name.
* Hashes grow (6, 8, … hex digits) only where two shortened names would otherwise collide, so the
  mapping is deterministic, collision-free, and the :class:`Router` maps both ways.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from folio_orchestrator.errors import RoutingError

MAX_NAME = 64
SEPARATOR = "__"
SERVER_SEGMENT_MAX = 24
NAME_RULE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_INVALID = re.compile(r"[^a-zA-Z0-9_-]")
_UNDERSCORES = re.compile(r"_{2,}")
_HASH_LENGTHS = (6, 8, 10, 12, 16, 24, 32, 64)


def _digest(name: str, length: int) -> str:
    return hashlib.sha256(name.encode("utf-8", errors="surrogatepass")).hexdigest()[:length]


def _clean_server(name: str) -> str:
    return _UNDERSCORES.sub("_", _INVALID.sub("_", name)).strip("_")


def _clean_item(name: str) -> str:
    return _INVALID.sub("_", name)


def _shorten(clean: str, original: str, budget: int, hash_length: int, *, server: bool) -> str:
    keep = budget - hash_length - 1
    prefix = clean[:keep]
    if server:
        prefix = prefix.rstrip("_")
    return f"{prefix or ('s' if server else 't')}-{_digest(original, hash_length)}"


def _segments(names: Iterable[str], budget: int, *, server: bool) -> dict[str, str]:
    """Map each name to a unique valid segment of at most ``budget`` characters."""
    clean = {n: (_clean_server(n) if server else _clean_item(n)) for n in dict.fromkeys(names)}
    exact = {n for n, c in clean.items() if c == n and 0 < len(n) <= budget}
    result = {n: n for n in exact}
    lossy = [n for n in clean if n not in exact]
    for length in _HASH_LENGTHS:
        if not lossy:
            break
        used = set(result.values())
        candidates = {n: _shorten(clean[n], n, budget, min(length, budget - 2), server=server) for n in lossy}
        counts = Counter(candidates.values())
        unresolved = []
        for n, seg in candidates.items():
            if counts[seg] == 1 and seg not in used:
                result[n] = seg
            else:
                unresolved.append(n)
        lossy = unresolved
    if lossy:  # pragma: no cover - needs a SHA-256 collision
        raise RoutingError(f"cannot give unique names to {lossy!r}")
    return {n: result[n] for n in clean}  # in the given order


def server_segments(servers: Iterable[str]) -> dict[str, str]:
    """The server segment of every server name (they depend on the whole set)."""
    return _segments(servers, SERVER_SEGMENT_MAX, server=True)


@dataclass(frozen=True)
class Route:
    """One exposed name and what it stands for."""

    name: str
    server: str
    item: str


class _Namespace:
    def __init__(self, kind: str, segments: Mapping[str, str], items: Mapping[str, Sequence[str]]) -> None:
        self.kind = kind
        self.by_name: dict[str, Route] = {}
        self.by_item: dict[tuple[str, str], str] = {}
        for server, seg in segments.items():
            budget = MAX_NAME - len(seg) - len(SEPARATOR)
            for item, item_seg in _segments(items.get(server, ()), budget, server=False).items():
                name = f"{seg}{SEPARATOR}{item_seg}"
                self.by_name[name] = Route(name, server, item)
                self.by_item[(server, item)] = name
        order = {server: i for i, server in enumerate(segments)}
        self.routes = sorted(self.by_name.values(), key=lambda r: (order[r.server], r.item))


class Router:
    """Both directions between exposed names and (server, tool) or (server, prompt).

    ``servers`` is every configured server in the fleet file's order (that order, then the
    item's own name, is the listing order); ``tools`` and ``prompts`` map a server to the names
    it currently offers.
    """

    def __init__(
        self,
        servers: Sequence[str],
        tools: Mapping[str, Sequence[str]] | None = None,
        prompts: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.servers = list(servers)
        self.segments = server_segments(self.servers)
        self._server_of_segment = {seg: server for server, seg in self.segments.items()}
        self._tools = _Namespace("tool", self.segments, tools or {})
        self._prompts = _Namespace("prompt", self.segments, prompts or {})

    @property
    def tools(self) -> list[Route]:
        return list(self._tools.routes)

    @property
    def prompts(self) -> list[Route]:
        return list(self._prompts.routes)

    def server_of(self, name: str) -> str | None:
        """The server an exposed name belongs to, from its server segment alone (or ``None``)."""
        segment, sep, _ = name.partition(SEPARATOR)
        return self._server_of_segment.get(segment) if sep else None

    def tool_name(self, server: str, tool: str) -> str:
        return self._exposed(self._tools, server, tool)

    def prompt_name(self, server: str, prompt: str) -> str:
        return self._exposed(self._prompts, server, prompt)

    def tool(self, name: str) -> Route:
        return self._route(self._tools, name)

    def prompt(self, name: str) -> Route:
        return self._route(self._prompts, name)

    @staticmethod
    def _exposed(space: _Namespace, server: str, item: str) -> str:
        try:
            return space.by_item[(server, item)]
        except KeyError:
            raise RoutingError(f"server {server!r} offers no {space.kind} {item!r}") from None

    def _route(self, space: _Namespace, name: str) -> Route:
        route = space.by_name.get(name)
        if route is not None:
            return route
        import difflib

        close = difflib.get_close_matches(name, list(space.by_name), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        server = self.server_of(name)
        where = f" on server {server!r}" if server is not None else ""
        raise RoutingError(f"no {space.kind} named {name!r}{where}{hint}")
