"""structlog to stderr, configured once in ``main()``.

stdout belongs to the MCP protocol in every stdio server, so nothing here ever writes to it.
Values under secret-looking keys are redacted, and so are credentials inside URLs.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog

from folio_core.settings import FolioSettings

# A key is secret when one of its words is: "api_key", "access_token", "password" — but not
# "input_tokens" or "max_tokens", which are figures worth seeing.
_SECRET_KEY = re.compile(
    r"(?:^|[_-])(?:pass(?:word|wd)?|secret|token|api[_-]?key|authorization|credentials?|private[_-]?key|cookie)"
    r"(?:$|[_-])",
    re.I,
)
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@", re.I)
REDACTED = "***"


def redact(value: Any) -> Any:
    """Return ``value`` with secrets masked: secret-looking keys and passwords in URLs."""
    if isinstance(value, Mapping):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    if isinstance(value, str) and "@" in value:
        return _URL_CREDENTIALS.sub(rf"\g<scheme>\g<user>:{REDACTED}@", value)
    return value


def _redact_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event_dict.items()):
        if key != "event" and _SECRET_KEY.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = redact(value)
    return event_dict


def configure_logging(settings: FolioSettings, *, stream: TextIO | None = None) -> None:
    """Send structlog (and the standard library's logging) to stderr at the configured level."""
    out = stream if stream is not None else sys.stderr
    level = getattr(logging, settings.log_level.upper())
    as_json = settings.log_format == "json" or (settings.log_format == "auto" and not out.isatty())
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # Render tracebacks before redacting, so a secret in an exception message is masked too
        # (and stdlib records carry a readable traceback instead of a repr of exc_info).
        structlog.processors.format_exc_info,
        _redact_processor,
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    # Third-party libraries (the MCP SDK, psycopg, pgserver) log through the standard library.
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # pgserver narrates every command at INFO; the SDK logs each request at INFO.
    for noisy in ("pgserver", "mcp", "httpx", "httpx2"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
