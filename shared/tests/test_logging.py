"""configure_logging: stderr (never stdout), JSON off a terminal, secrets redacted, stdlib routed."""

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from folio_core.logging import REDACTED, configure_logging, get_logger, redact
from folio_core.settings import FolioSettings


class TtyStream(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    noisy = {name: logging.getLogger(name).level for name in ("pgserver", "mcp", "httpx", "httpx2")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, lvl in noisy.items():
        logging.getLogger(name).setLevel(lvl)
    structlog.reset_defaults()


def settings(**kwargs: Any) -> FolioSettings:
    return FolioSettings(_env_file=None, **kwargs)  # type: ignore[call-arg]


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_goes_to_the_stream_as_json_never_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    stream = io.StringIO()
    configure_logging(settings(), stream=stream)
    get_logger("folio.test").info("server ready", server="profile", tools=3)
    logging.getLogger("some.library").warning("library says %s", "hi")
    records = lines(stream)
    assert [r["event"] for r in records] == ["server ready", "library says hi"]
    first = records[0]
    assert first["server"] == "profile"
    assert first["tools"] == 3
    assert first["level"] == "info"
    assert first["timestamp"].endswith("Z")
    assert capsys.readouterr().out == ""


def test_default_stream_is_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(settings())
    get_logger().warning("to stderr", n=1)
    logging.getLogger("lib").error("stdlib to stderr")
    captured = capsys.readouterr()
    assert captured.out == ""
    events = [json.loads(line)["event"] for line in captured.err.splitlines()]
    assert events == ["to stderr", "stdlib to stderr"]


def test_console_on_a_terminal_and_explicit_formats() -> None:
    tty = TtyStream()
    configure_logging(settings(), stream=tty)
    get_logger().info("hello terminal", user="ada")
    text = tty.getvalue()
    assert "hello terminal" in text
    assert "ada" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])

    forced_json = TtyStream()
    configure_logging(settings(log_format="json"), stream=forced_json)
    get_logger().info("json anyway")
    assert lines(forced_json)[0]["event"] == "json anyway"

    forced_console = io.StringIO()
    configure_logging(settings(log_format="console"), stream=forced_console)
    get_logger().info("console anyway")
    assert "console anyway" in forced_console.getvalue()
    assert not forced_console.getvalue().lstrip().startswith("{")

    try:
        raise ValueError("bad postgresql://u:console-s3cret@h/db")
    except ValueError:
        get_logger().exception("console failure")
    assert "Traceback (most recent call last)" in forced_console.getvalue()
    assert "console-s3cret" not in forced_console.getvalue()


def test_level_filters_structlog_and_stdlib() -> None:
    stream = io.StringIO()
    configure_logging(settings(log_level="warning"), stream=stream)
    get_logger().info("hidden")
    logging.getLogger("lib").info("hidden too")
    get_logger().warning("shown")
    logging.getLogger("lib").error("shown too")
    assert [r["event"] for r in lines(stream)] == ["shown", "shown too"]

    debug = io.StringIO()
    configure_logging(settings(log_level="debug"), stream=debug)
    get_logger().debug("detail")
    logging.getLogger("pgserver").info("pg_ctl narrates")  # noisy libraries stay at WARNING
    logging.getLogger("pgserver").warning("pg_ctl warns")
    assert [r["event"] for r in lines(debug)] == ["detail", "pg_ctl warns"]


def test_secret_keys_redacted() -> None:
    stream = io.StringIO()
    configure_logging(settings(), stream=stream)
    get_logger().info(
        "calling api",
        api_key="sk-live-123",
        password="hunter2",
        token="tok-abc",
        authorization="Bearer xyz",
        headers={"Authorization": "Bearer nested-xyz", "Accept": "json"},
        model="gpt",
    )
    record = lines(stream)[0]
    for key in ("api_key", "password", "token", "authorization"):
        assert record[key] == REDACTED
    assert record["headers"] == {"Authorization": REDACTED, "Accept": "json"}
    assert record["model"] == "gpt"
    text = stream.getvalue()
    for secret in ("sk-live-123", "hunter2", "tok-abc", "xyz"):
        assert secret not in text


def test_url_credentials_redacted_everywhere() -> None:
    stream = io.StringIO()
    configure_logging(settings(), stream=stream)
    get_logger().info(
        "connecting to postgresql://folio:pw1@db.example/folio", url="redis://:pw2@cache:6379/0"
    )
    get_logger().info("urls", urls=["postgresql://u:pw3@h/db", "https://example.com/a@b"])
    logging.getLogger("psycopg").warning("retrying %s", "postgresql://u:pw4@h:5433/db")
    records = lines(stream)
    assert records[0]["event"] == f"connecting to postgresql://folio:{REDACTED}@db.example/folio"
    assert records[0]["url"] == f"redis://:{REDACTED}@cache:6379/0"
    assert records[1]["urls"] == [f"postgresql://u:{REDACTED}@h/db", "https://example.com/a@b"]
    assert records[2]["event"] == f"retrying postgresql://u:{REDACTED}@h:5433/db"
    assert records[2]["logger"] == "psycopg"
    for secret in ("pw1", "pw2", "pw3", "pw4"):
        assert secret not in stream.getvalue()


def test_exceptions_rendered_and_redacted() -> None:
    stream = io.StringIO()
    configure_logging(settings(), stream=stream)
    try:
        raise ConnectionError("cannot reach postgresql://folio:exc-s3cret@db.example/folio")
    except ConnectionError:
        get_logger().exception("start-up failed")
        logging.getLogger("lib").exception("library failed")
    text = stream.getvalue()
    assert "exc-s3cret" not in text
    structlog_record, stdlib_record = lines(stream)
    for record in (structlog_record, stdlib_record):
        assert "Traceback (most recent call last)" in record["exception"]
        assert (
            f"ConnectionError: cannot reach postgresql://folio:{REDACTED}@db.example/folio"
            in (record["exception"])
        )


def test_redact_function() -> None:
    assert redact("postgresql://u:pw@h/db") == f"postgresql://u:{REDACTED}@h/db"
    assert redact("mail me at ada@example.com") == "mail me at ada@example.com"
    assert redact({"db": {"password": "x", "host": "h"}, "list": ("a", "b")}) == {
        "db": {"password": REDACTED, "host": "h"},
        "list": ("a", "b"),
    }
    assert redact(42) == 42


def test_figures_named_like_tokens_stay_visible() -> None:
    stream = io.StringIO()
    configure_logging(settings(log_format="json"), stream=stream)
    get_logger("t").info("usage", input_tokens=120, max_tokens=500, tokenizer="minilm", auth_token="s3cr3t")
    (event,) = lines(stream)
    assert (event["input_tokens"], event["max_tokens"], event["tokenizer"]) == (120, 500, "minilm")
    assert event["auth_token"] == REDACTED
