"""The owner's curated demos, read from ``FOLIO_PORTFOLIO_DIR/demos/``.

One folder per demo, named by the demo (``[a-z0-9][a-z0-9-]*``), holding a ``demo.yaml`` and the
demo's files::

    demos/
      settings.yaml            # optional: visitor_snippets, snippet limits
      truck-factor/
        demo.yaml              # title, description, language, entry, inputs (JSON Schema), ...
        main.py
        truck.py

``demo.yaml`` fields: ``title``, ``description``, ``language`` (python | javascript), ``entry``
(default ``main.py`` / ``main.js``), ``inputs`` (a JSON Schema for the inputs object; default:
no inputs), ``example_inputs``, ``expected_seconds``, ``limits`` (any of :class:`Limits`' fields,
capped by the owner limits), ``public`` (visitors may see and run it), ``deterministic`` (its
results may be cached), ``cache_ttl_seconds``, ``tags``, ``project`` (the repository it comes from).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from folio_demo.errors import DemoConfigError, InvalidInputsError, UnknownDemoError
from folio_demo.sandbox import LANGUAGES, OWNER_LIMITS, VISITOR_LIMITS, Language, Limits

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
MAX_FILE_BYTES = 128 * 1024
MAX_FILES = 20
SOURCE_SUFFIXES = {".py", ".js", ".mjs", ".json", ".txt", ".csv", ".md"}
NO_INPUTS: dict[str, Any] = {"type": "object", "properties": {}, "additionalProperties": False}


@dataclass(frozen=True)
class Demo:
    name: str
    title: str
    description: str
    language: Language
    entry: str
    files: dict[str, str]
    input_schema: dict[str, Any]
    example_inputs: dict[str, Any]
    expected_seconds: float
    limits: Limits
    public: bool
    deterministic: bool
    cache_ttl_seconds: int
    tags: tuple[str, ...]
    project: str | None
    folder: Path

    @property
    def code(self) -> str:
        return self.files[self.entry]

    @property
    def digest(self) -> str:
        """Changes whenever the code, the language or the limits change (the cache key's base)."""
        h = hashlib.sha256()
        h.update(json.dumps([self.language, self.entry, self.limits.as_dict()]).encode())
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + self.files[name].encode() + b"\0")
        return h.hexdigest()

    def source_markdown(self) -> str:
        parts = [f"# {self.title} ({self.name})", "", self.description.strip(), ""]
        fence = "javascript" if self.language == "javascript" else "python"
        for name in sorted(self.files, key=lambda n: (n != self.entry, n)):
            kind = fence if name.endswith((".py", ".js", ".mjs")) else ""
            parts += [f"## {name}", "", f"```{kind}", self.files[name].rstrip(), "```", ""]
        return "\n".join(parts)


@dataclass(frozen=True)
class SourceFile:
    """A file of one of the owner's repositories, offered for snippet search (``demos/settings.yaml``)."""

    repository: str
    path: str
    text: str
    public: bool


@dataclass(frozen=True)
class Catalogue:
    demos: dict[str, Demo] = field(default_factory=dict)
    sources: tuple[SourceFile, ...] = ()
    visitor_snippets: bool = False
    snippet_limits: Limits = OWNER_LIMITS
    visitor_snippet_limits: Limits = VISITOR_LIMITS
    problems: tuple[str, ...] = ()

    def visible(self, public: bool) -> list[Demo]:
        return [d for d in sorted(self.demos.values(), key=lambda d: d.name) if d.public or not public]

    def get(self, name: str, public: bool) -> Demo:
        demo = self.demos.get(name)
        if demo is None or (public and not demo.public):
            known = ", ".join(d.name for d in self.visible(public)) or "none"
            raise UnknownDemoError(f"there is no demo named {name[:64]!r}; call demo_list (known: {known})")
        return demo


def _limits(value: Any, where: str, base: Limits = OWNER_LIMITS) -> Limits:
    if value is None:
        return base
    if not isinstance(value, dict):
        raise DemoConfigError(
            f"{where}: limits must be a mapping of {', '.join(f.name for f in fields(Limits))}"
        )
    known = {f.name: f.type for f in fields(Limits)}
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise DemoConfigError(f"{where}: unknown limits {unknown}; known: {sorted(known)}")
    for key, number in value.items():
        if isinstance(number, bool) or not isinstance(number, int | float) or number <= 0:
            raise DemoConfigError(f"{where}: limit {key} must be a positive number")
    merged = {f.name: value.get(f.name, getattr(base, f.name)) for f in fields(Limits)}
    for key in ("memory_mb", "processes", "open_files", "file_size_mb", "output_bytes", "tmpfs_mb"):
        merged[key] = int(merged[key])
    return Limits(**merged).within(OWNER_LIMITS)


def _check_schema(schema: Any, where: str) -> dict[str, Any]:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if schema is None:
        return dict(NO_INPUTS)
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise DemoConfigError(f"{where}: inputs must be a JSON Schema with type: object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise DemoConfigError(f"{where}: inputs is not a valid JSON Schema: {exc.message}") from exc
    return schema


def load_demo(folder: Path) -> Demo:
    where = f"demos/{folder.name}/demo.yaml"
    if not NAME.fullmatch(folder.name):
        raise DemoConfigError(f"demos/{folder.name}: a demo folder name is lowercase letters, digits and '-'")
    try:
        meta = yaml.safe_load((folder / "demo.yaml").read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DemoConfigError(f"{where}: {exc}") from exc
    if not isinstance(meta, dict):
        raise DemoConfigError(f"{where}: must be a mapping")
    language = meta.get("language", "python")
    if language not in LANGUAGES:
        raise DemoConfigError(f"{where}: language must be one of {', '.join(LANGUAGES)}")
    entry = str(meta.get("entry", "main.py" if language == "python" else "main.js"))
    files: dict[str, str] = {}
    for path in sorted(folder.iterdir()):
        if path.name == "demo.yaml" or not path.is_file() or path.suffix not in SOURCE_SUFFIXES:
            continue
        if path.stat().st_size > MAX_FILE_BYTES:
            raise DemoConfigError(
                f"demos/{folder.name}/{path.name}: larger than {MAX_FILE_BYTES // 1024} KiB"
            )
        files[path.name] = path.read_text(encoding="utf-8")
    if len(files) > MAX_FILES:
        raise DemoConfigError(f"demos/{folder.name}: more than {MAX_FILES} files")
    if entry not in files:
        raise DemoConfigError(f"{where}: the entry file {entry!r} is missing")
    schema = _check_schema(meta.get("inputs"), where)
    example = meta.get("example_inputs", {})
    if not isinstance(example, dict):
        raise DemoConfigError(f"{where}: example_inputs must be a mapping")
    demo = Demo(
        name=folder.name,
        title=str(meta.get("title", folder.name)),
        description=str(meta.get("description", "")),
        language=language,
        entry=entry,
        files=files,
        input_schema=schema,
        example_inputs=example,
        expected_seconds=float(meta.get("expected_seconds", 2)),
        limits=_limits(meta.get("limits"), where),
        public=bool(meta.get("public", False)),
        deterministic=bool(meta.get("deterministic", False)),
        cache_ttl_seconds=int(meta.get("cache_ttl_seconds", 3600)),
        tags=tuple(str(t) for t in meta.get("tags", []) or []),
        project=str(meta["project"]) if meta.get("project") else None,
        folder=folder,
    )
    try:
        validate_inputs(demo, example)
    except InvalidInputsError as exc:
        raise DemoConfigError(f"{where}: example_inputs do not match the inputs schema: {exc}") from exc
    return demo


def load_catalogue(portfolio_dir: Path) -> Catalogue:
    """Every demo under ``portfolio_dir/demos``; a broken demo is left out and named in ``problems``."""
    root = portfolio_dir / "demos"
    if not root.is_dir():
        return Catalogue()
    demos: dict[str, Demo] = {}
    problems: list[str] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and (p / "demo.yaml").is_file()):
        try:
            demos[folder.name] = load_demo(folder)
        except DemoConfigError as exc:
            problems.append(str(exc))
    settings: dict[str, Any] = {}
    settings_file = root / "settings.yaml"
    if settings_file.is_file():
        try:
            loaded = yaml.safe_load(settings_file.read_text(encoding="utf-8")) or {}
            if not isinstance(loaded, dict):
                raise DemoConfigError("demos/settings.yaml: must be a mapping")
            settings = loaded
            snippet = _limits(settings.get("snippet_limits"), "demos/settings.yaml")
            visitor = _limits(settings.get("visitor_snippet_limits"), "demos/settings.yaml", VISITOR_LIMITS)
        except (OSError, yaml.YAMLError, DemoConfigError) as exc:
            problems.append(f"demos/settings.yaml: {exc}")
            settings, snippet, visitor = {}, OWNER_LIMITS, VISITOR_LIMITS
    else:
        snippet, visitor = OWNER_LIMITS, VISITOR_LIMITS
    sources: list[SourceFile] = []
    try:
        sources = snippet_sources(settings.get("snippet_sources"), portfolio_dir)
    except DemoConfigError as exc:
        problems.append(str(exc))
    return Catalogue(
        demos=demos,
        sources=tuple(sources),
        visitor_snippets=bool(settings.get("visitor_snippets", False)),
        snippet_limits=snippet,
        visitor_snippet_limits=visitor.within(VISITOR_LIMITS),
        problems=tuple(problems),
    )


MAX_SOURCE_FILES = 100


def snippet_sources(value: Any, portfolio_dir: Path) -> list[SourceFile]:
    """The files named by ``snippet_sources`` in ``demos/settings.yaml``::

    snippet_sources:
      - repository: folio            # the name shown in each snippet's location
        root: ../..                  # relative to the portfolio directory, or absolute
        public: true                 # visitors may see these snippets
        files: [servers/projects/src/folio_projects/analytics.py, "shared/src/folio_core/*.py"]
    """
    if value is None:
        return []
    where = "demos/settings.yaml: snippet_sources"
    if not isinstance(value, list):
        raise DemoConfigError(f"{where} must be a list of {{repository, root, files, public}}")
    found: list[SourceFile] = []
    for entry in value:
        if not isinstance(entry, dict) or not isinstance(entry.get("files"), list):
            raise DemoConfigError(f"{where}: each entry needs repository, root and a list of files")
        repository = str(entry.get("repository", "")).strip()
        if not repository:
            raise DemoConfigError(f"{where}: an entry has no repository name")
        root = (portfolio_dir / str(entry.get("root", "."))).resolve()
        for pattern in entry["files"]:
            text_pattern = str(pattern)
            if text_pattern.startswith("/") or ".." in Path(text_pattern).parts:
                raise DemoConfigError(f"{where}: {text_pattern!r} must be relative to its root")
            for path in sorted(root.glob(text_pattern)):
                if not path.is_file() or path.suffix not in {".py", ".js", ".mjs"}:
                    continue
                if path.stat().st_size > MAX_FILE_BYTES or len(found) >= MAX_SOURCE_FILES:
                    continue
                found.append(
                    SourceFile(
                        repository,
                        path.relative_to(root).as_posix(),
                        path.read_text(encoding="utf-8", errors="replace"),
                        bool(entry.get("public", False)),
                    )
                )
    return found


def validate_inputs(demo: Demo, inputs: Any) -> dict[str, Any]:
    """``inputs`` checked against the demo's schema; :class:`InvalidInputsError` names what is wrong."""
    from jsonschema import Draft202012Validator

    if inputs is None:
        inputs = {}
    if not isinstance(inputs, dict):
        raise InvalidInputsError("inputs must be a JSON object")
    errors = sorted(Draft202012Validator(demo.input_schema).iter_errors(inputs), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = "inputs" + "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in first.path)
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise InvalidInputsError(
            f"{where}: {first.message[:300]}{more}. Nothing ran; call demo_show({demo.name!r}) for the inputs schema"
        )
    return inputs


def canonical_inputs(inputs: dict[str, Any]) -> str:
    return json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
