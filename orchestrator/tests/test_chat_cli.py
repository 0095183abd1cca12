"""``folio ask``, ``folio chat``, ``folio history`` and ``folio usage`` as a person runs them.

Each test runs the installed ``folio`` of this virtualenv as a subprocess with an explicit
environment (no model keys from the machine running the tests), against the test's own database
and a fleet file written here; the terminal tests run it in a pseudo-terminal (pexpect).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

from folio_core.testing import SAMPLE_PORTFOLIO

pytestmark = pytest.mark.slow

FOLIO = Path(sys.executable).parent / "folio"
RESUME = json.loads((SAMPLE_PORTFOLIO / "resume.json").read_text(encoding="utf-8"))

Run = Callable[..., subprocess.CompletedProcess[str]]


def _helper(name: str) -> Any:
    path = Path(__file__).resolve().parent / "helpers" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_chat_cli_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ScriptedOpenAI = _helper("scripted_openai").ScriptedOpenAI


def summary_lines(answer: str) -> dict[str, str]:
    """The test model's answer: one line per tool, ``- `name` ✓ `result```."""
    found = re.findall(r"^- `([^`]+)` (✓|✗ error:) `(.*)`$", answer, re.MULTILINE)
    return {name: ("error: " if mark != "✓" else "") + text for name, mark, text in found}


@pytest.fixture
def folio_env(database_url: str) -> Iterator[dict[str, str]]:
    # Not pytest's tmp_path: see folio_core.testing (the data directory must stay traversable).
    data_dir = tempfile.mkdtemp(prefix="folio-chat-cli-")
    yield {
        "PATH": os.environ["PATH"],
        "HOME": data_dir,
        "LANG": "C.UTF-8",
        "FOLIO_DATABASE_URL": database_url,
        "FOLIO_DATA_DIR": data_dir,
        "FOLIO_PORTFOLIO_DIR": str(SAMPLE_PORTFOLIO),
        "FOLIO_ALLOW_MODEL_REQUESTS": "0",
    }
    shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture
def folio(folio_env: dict[str, str], tmp_path: Path) -> Run:
    def run(*args: str, input: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(FOLIO), *args],
            capture_output=True,
            text=True,
            env={**folio_env, **extra},
            cwd=tmp_path,
            input=input,
            timeout=90,
            check=False,
        )

    return run


def spawn(args: list[str], env: dict[str, str], cwd: Path) -> pexpect.spawn:
    return pexpect.spawn(
        str(FOLIO),
        args,
        env={**env, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"},
        cwd=str(cwd),
        encoding="utf-8",
        timeout=90,  # a safety net for a loaded machine; every wait is for a line on the terminal
        dimensions=(50, 200),
    )


def test_ask_answers_with_tool_calls_and_history_and_usage_show_the_rows(
    folio: Run, fleet_file: Callable[..., Path], peers: Any
) -> None:
    # public: only read-only tools, so the test model's call-everything turn changes nothing
    fleet = str(fleet_file({"profile": {"command": "folio-profile"}, "time": peers.time()}))
    asked = folio(
        "--fleet", fleet, "ask", "--json", "--model", "test", "Who are you?", FOLIO_AUDIENCE="public"
    )
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["stopped"] == "answered" and answer["steps"] == 2 and answer["error"] is None
    summary = summary_lines(answer["answer"])  # the test model answers with what each tool returned
    assert summary["profile__profile_get"].startswith('{"version":1,"section":null,"content":{')
    assert summary["time__get_current_time"].startswith("error: ")
    assert "Skipped" not in answer["answer"]  # a visitor's fleet has only read-only tools
    assert RESUME["basics"]["email"] not in answer["answer"]  # a visitor's twin
    calls = {(c["server"], c["tool"]): c for c in answer["tool_calls"]}
    assert set(calls) == {
        ("profile", "profile_get"),
        ("profile", "profile_history"),
        ("profile", "profile_match_job"),
        ("profile", "profile_search"),
        ("time", "convert_time"),
        ("time", "get_current_time"),
    }
    assert calls[("profile", "profile_get")]["outcome"] == "ok"
    assert calls[("time", "get_current_time")]["arguments"] == {"timezone": "a"}
    assert calls[("time", "get_current_time")]["outcome"] == "error"  # "a" is no time zone
    assert [u["model"] for u in answer["usage"]] == ["test", "test"]
    conversation = answer["conversation"]

    listed = folio("history", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert row["id"] == conversation and row["messages"] == 4
    assert row["model"] == "test" and row["audience"] == "public"

    shown = folio("history", "show", conversation[:8], "--json")
    assert shown.returncode == 0, shown.stderr
    stored = json.loads(shown.stdout)
    assert stored["id"] == conversation
    assert [role for role, _ in stored["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert stored["messages"][0][1]["content"][0]["text"] == "Who are you?"
    assert stored["messages"][-1][1]["content"][0]["text"] == answer["answer"]
    get_id = next(c["call_id"] for c in answer["tool_calls"] if c["tool"] == "profile_get")
    (got,) = [r["content"] for r in stored["messages"][2][1]["content"] if r["call_id"] == get_id]
    assert RESUME["basics"]["name"] in got  # the model saw the whole résumé; its answer shows the start
    assert stored["tool_calls"] == answer["tool_calls"]

    text = folio("history", "show", conversation[:8])
    assert text.returncode == 0, text.stderr
    assert "user: Who are you?" in text.stdout and "[assistant calls time__get_current_time]" in text.stdout

    usage = folio("usage", "--json")
    assert usage.returncode == 0, usage.stderr
    report = json.loads(usage.stdout)
    (by_model,) = report["by_model"]
    assert by_model["key"] == "test:test" and by_model["requests"] == 2
    assert by_model["input_tokens"] == sum(u["input_tokens"] for u in answer["usage"])
    assert by_model["output_tokens"] == sum(u["output_tokens"] for u in answer["usage"])
    assert [(r["key"], r["requests"]) for r in report["by_server"]] == [("chat", 2)]
    assert len(report["by_day"]) == 1


def test_the_offline_model_never_writes_and_says_which_tools_it_skipped(
    folio: Run, fleet_file: Callable[..., Path]
) -> None:
    fleet = str(fleet_file({"profile": {"command": "folio-profile"}}))
    before = folio("--fleet", fleet, "call", "profile__profile_history", "{}", "--json")
    assert before.returncode == 0, before.stderr
    asked = folio(
        "--fleet", fleet, "ask", "--json", "--model", "test", "Who are you?", FOLIO_AUDIENCE="owner"
    )
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    called = {c["tool"] for c in answer["tool_calls"]}
    assert called == {"profile_get", "profile_history", "profile_match_job", "profile_search"}
    assert (
        "Skipped 2 tool(s) not annotated read-only, because the test model never changes your data"
        in (answer["answer"])
    )
    assert (
        "`profile__profile_update`" in answer["answer"] and "`profile__profile_rollback`" in answer["answer"]
    )
    after = folio("--fleet", fleet, "call", "profile__profile_history", "{}", "--json")
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == json.loads(before.stdout)  # no new version of the résumé


def test_model_switches_to_the_next_turn_even_from_no_model(
    folio: Run, fleet_file: Callable[..., Path], peers: Any
) -> None:
    fleet = str(fleet_file({"time": peers.time()}))
    typed = "\n".join(["What time is it?", "/model test", "What time is it now?", "/model", "/exit"])
    done = folio("--fleet", fleet, "chat", input=typed + "\n")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("No language model is configured") == 2  # at start, and the first question
    assert "model: test" in done.stdout
    assert "→ time__get_current_time" in done.stdout  # the second question went to the test model
    assert "Offline test model: I called 2 read-only tool(s) once each." in done.stdout
    listed = json.loads(folio("history", "list", "--json").stdout)
    assert [(c["model"], c["messages"], c["title"]) for c in listed] == [("test", 4, "What time is it now?")]


def test_chat_without_a_model_says_how_to_configure_one_and_slash_commands_work(
    folio: Run, fleet_file: Callable[..., Path], peers: Any
) -> None:
    fleet = str(fleet_file({"time": peers.time()}))
    typed = "\n".join(
        [
            "/tools",
            "/servers",
            "What time is it?",
            '/call time__get_current_time {"timezone":"UTC"}',
            "/exit",
            "this line is never read",
        ]
    )
    done = folio("--fleet", fleet, "chat", input=typed + "\n")
    assert done.returncode == 0, done.stderr
    assert "servers ready: time" in done.stderr
    assert "No language model is configured" in done.stderr
    assert "export ANTHROPIC_API_KEY" in done.stderr and "FOLIO_MODEL" in done.stderr
    assert done.stderr.count("No language model is configured") == 2  # at start, and for the question
    lines = done.stdout.splitlines()
    assert any(line.startswith("time__get_current_time ") for line in lines)  # /tools
    assert any(line.split()[:3] == ["time", "2026-07-28", "ready"] for line in lines)  # /servers
    called = json.loads(done.stdout[done.stdout.index("{") :])  # /call, its JSON taken as typed
    assert called["timezone"] == "UTC" and called["datetime"].endswith("+00:00")

    listed = folio("history", "list", "--json")
    assert json.loads(listed.stdout) == []  # no model, no conversation


def test_a_form_from_server_everything_is_filled_in_in_the_terminal(
    folio_env: dict[str, str], fleet_file: Callable[..., Path], peers: Any, tmp_path: Path
) -> None:
    fleet = str(fleet_file({"everything": peers.everything()}))
    child = spawn(
        ["--fleet", fleet, "call", "everything__trigger-elicitation-request", "{}"], folio_env, tmp_path
    )
    try:
        child.expect_exact("everything asks for input")
        answers = [
            ("name>", "Grace Hopper"),
            ("check>", "y"),
            ("firstLine [It was a dark and storm…]>", "It was a bright cold day in April."),
            ("email>", "grace@example.com"),
            ("homepage>", ""),
            ("birthdate>", "1906-12-09"),
            ("integer [42]>", "17"),
            ("number [3.14]>", ""),
            ("untitledSingleSelectEnum [Monica]>", "Phoebe"),
            ("untitledMultipleSelectEnum [Guitar]>", "2"),
            ("titledSingleSelectEnum [Superman (hero-1)]>", ""),
            ("titledMultipleSelectEnum [Tuna (fish-1)]>", ""),
            ("legacyTitledEnum [Cats (pet-1)]>", "Dogs"),
        ]
        for prompt, answer in answers:
            child.expect_exact(prompt)
            child.sendline(answer)
        child.expect_exact("homepage: (left out)")
        child.expect_exact("send? [a/e/d/c]>")
        child.sendline("a")
        child.expect(pexpect.EOF, timeout=30)
        output = child.before
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, output
    for line in [
        "User provided the requested information!",
        "- Name: Grace Hopper",
        "- Agreed to terms: true",
    ]:
        assert line in output, output[output.find("User provided") :]
    raw = output[output.index("Raw result: ") + len("Raw result: ") :].replace("\r\n", "\n")
    result, _ = json.JSONDecoder().raw_decode(raw)
    assert result == {
        "action": "accept",
        "content": {
            "name": "Grace Hopper",
            "check": True,
            "firstLine": "It was a bright cold day in April.",
            "email": "grace@example.com",
            "birthdate": "1906-12-09",
            "integer": 17,
            "number": 3.14,
            "untitledSingleSelectEnum": "Phoebe",
            "untitledMultipleSelectEnum": ["Piano"],
            "titledSingleSelectEnum": "hero-1",
            "titledMultipleSelectEnum": ["fish-1"],
            "legacyTitledEnum": "pet-2",
        },
    }


def test_ctrl_c_cancels_a_chat_turn_and_the_chat_goes_on_until_ctrl_d(
    folio_env: dict[str, str], folio: Run, fleet_file: Callable[..., Path], peers: Any, tmp_path: Path
) -> None:
    # the test model calls every tool once: slow__hang never answers
    fleet = str(fleet_file({"slow": peers.script("slow_server")}))
    child = spawn(["--fleet", fleet, "chat", "--model", "test"], folio_env, tmp_path)
    server_pid: int | None = None
    try:
        child.expect_exact("servers ready: slow")
        child.expect_exact("model: test · conversation ")
        conversation = child.readline().strip()
        child.expect_exact("you ›")
        child.sendline("/servers")
        child.expect(r"slow +2026-07-28 +ready +(\d+) ")
        server_pid = int(child.match.group(1))
        child.expect_exact("you ›")

        child.sendline("Run all your tools")
        child.expect_exact("slow__hang({})")
        finished: set[str] = set()
        while finished != {"echo", "pid", "slow"}:  # the other calls of the step finish; hang does not
            child.expect(r"✓ slow__(\w+) \d+ ms")
            finished.add(child.match.group(1))
        child.sendintr()
        child.expect_exact("(cancelled)")
        child.expect_exact("you ›")

        child.sendline('/call slow__echo {"text": "still here"}')
        child.expect_exact('"result": "still here"')  # the tool's answer, not the typed line's echo
        child.expect_exact("you ›")
        child.sendeof()
        child.expect(pexpect.EOF, timeout=30)
        child.close()
        assert child.exitstatus == 0, child.before
    finally:
        child.close(force=True)
    assert server_pid is not None and peers.gone(server_pid)
    assert not _processes_with_home(folio_env["HOME"])  # nothing folio started outlived it

    shown = folio("history", "show", conversation, "--json")
    assert shown.returncode == 0, shown.stderr
    stored = json.loads(shown.stdout)
    messages = stored["messages"]
    # the cancelled turn was kept, and every call of it has a result
    assert [role for role, _ in messages] == ["user", "assistant", "tool"]
    results = {r["call_id"]: r for r in messages[2][1]["content"]}
    assert {c["id"] for c in messages[1][1]["content"] if c["type"] == "tool_call"} == set(results)
    assert {r["content"] for r in results.values() if r["is_error"]} == {"cancelled by the user"}
    # and the history has the three calls that answered, and the one that was cancelled
    outcomes = sorted((c["tool"], c["outcome"]) for c in stored["tool_calls"])
    assert outcomes == [("echo", "ok"), ("hang", "cancelled"), ("pid", "ok"), ("slow", "ok")]


def _processes_with_home(home: str) -> list[int]:
    """Live processes started with ``HOME=home`` (folio and every server it spawns inherit it)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        try:
            if f"\0HOME={home}\0".encode() in b"\0" + environ.read_bytes():
                state = (environ.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.append(int(environ.parent.name))
        except OSError:
            continue
    return found


def test_streamed_tokens_appear_as_they_arrive_and_the_line_is_styled_when_complete(
    folio_env: dict[str, str], fleet_file: Callable[..., Path], peers: Any, tmp_path: Path
) -> None:
    fleet = str(fleet_file({"time": peers.time()}))
    words = ["Streaming ", "**one** ", "word ", "at ", "a ", "time.\n", "Then ", "done."]
    with ScriptedOpenAI([words]) as llm:
        # a local fake provider: real requests are allowed, and they reach only this test's server
        env = {**folio_env, "FOLIO_ALLOW_MODEL_REQUESTS": "1"}
        child = spawn(["--fleet", fleet, "chat", "--model", f"openai:scripted@{llm.base_url}"], env, tmp_path)
        try:
            child.expect_exact("you ›")
            child.sendline("Tell me something")
            for word in words:
                # the word is on the screen while the server still holds back the next one
                if word.endswith("\n"):  # the first line ended: redrawn in place, styled
                    child.expect_exact("\r\x1b[JStreaming \x1b[1mone\x1b[0m word at a time.\r\n")
                else:
                    child.expect_exact(word)
                llm.release()
            child.expect_exact("\r\x1b[JThen done.\r\n")
            child.expect_exact("you ›")
            child.sendeof()
            child.expect(pexpect.EOF, timeout=30)
        finally:
            child.close(force=True)
    (request,) = llm.requests
    assert request["messages"][-1] == {"role": "user", "content": "Tell me something"}


def test_ctrl_c_at_a_sampling_question_cancels_the_turn_and_the_question_is_shown_alone(
    folio_env: dict[str, str], folio: Run, fleet_file: Callable[..., Path], tmp_path: Path
) -> None:
    # the test model calls every read-only tool: profile_match_job asks for a sample (policy ask)
    fleet = str(
        fleet_file({"profile": {"command": "folio-profile", "folio": {"sampling": {"policy": "ask"}}}})
    )
    child = spawn(["--fleet", fleet, "chat", "--model", "test"], folio_env, tmp_path)
    try:
        child.expect_exact("model: test · conversation ")
        conversation = child.readline().strip()
        child.expect_exact("you ›")
        child.sendline("Run your tools")
        child.expect_exact("profile asks the model (test) for up to 500 tokens")
        child.expect_exact("[a]pprove, [e]dit the last message, [d]eny?")
        question = child.before
        assert "✓" not in question and "→" not in question  # no tool line inside the question
        child.sendintr()
        child.expect_exact("(cancelled)")
        child.expect_exact("you ›")
        shown = child.before
        assert "[a]pprove" not in shown  # asked once, and only once
        child.sendline("/exit")
        child.expect(pexpect.EOF, timeout=30)
        child.close()
        assert child.exitstatus == 0, child.before
    finally:
        child.close(force=True)

    shown_history = folio("history", "show", conversation, "--json")
    assert shown_history.returncode == 0, shown_history.stderr
    stored = json.loads(shown_history.stdout)
    messages = stored["messages"]
    assert [role for role, _ in messages] == ["user", "assistant", "tool"]  # no answer: the turn stopped
    calls = {c["id"] for c in messages[1][1]["content"] if c["type"] == "tool_call"}
    assert {r["call_id"] for r in messages[2][1]["content"]} == calls  # every call has a result
    outcomes = {c["tool"]: c["outcome"] for c in stored["tool_calls"]}
    assert outcomes["profile_match_job"] == "cancelled"
