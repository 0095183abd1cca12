"""The shared edge rule for input: what it refuses, where it says the problem is, what it suggests."""

import math

import pytest

from folio_core.validation import MAX_DEPTH, MAX_INTEGER, find_input_problem, show_text, text_problem


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "path", "words"),
    [
        ({"content": "a\x00b"}, "content", "NUL character"),
        ({"query": "\ud800"}, "query", "unpaired surrogate (\\ud800)"),
        ({"query": "ok \udfff"}, "query", "unpaired surrogate (\\udfff)"),
        ({"patch": {"basics": {"x": math.nan}}}, "patch.basics.x", "not a finite number"),
        ({"patch": [1.0, math.inf]}, "patch[1]", "not a finite number"),
        ({"n": -math.inf}, "n", "not a finite number"),
        ({"n": float("1e999999")}, "n", "not a finite number"),
        ({"id": MAX_INTEGER + 1}, "id", "integer beyond"),
        ({"id": -(10**40)}, "id", "integer beyond"),
        ({"entities": [{"name": "ok"}, {"name": "x\x00"}]}, "entities[1].name", "NUL character"),
        ({"weird key": {"a\x00": 1}}, '["weird key"]', 'has a key "a\\u0000" that contains a NUL'),
    ],
)
def test_a_problem_is_named_by_its_path_with_what_to_send_instead(
    value: object, path: str, words: str
) -> None:
    problem = find_input_problem(value)
    assert problem is not None
    assert problem.path == path
    assert words in problem.problem
    assert problem.message.startswith(f"{path} ") and "; send" in problem.message


def test_clean_input_passes_whatever_its_types() -> None:
    value = {
        "text": "plain, accented (é), emoji (😀) and CJK (漢字)",
        "numbers": [0, -1, MAX_INTEGER, -MAX_INTEGER, 1.5, True, None],
        "nested": nested(MAX_DEPTH - 1),
    }
    assert find_input_problem(value) is None


def test_nesting_past_the_limit_is_refused_at_the_first_level_too_deep() -> None:
    problem = find_input_problem({"a": nested(MAX_DEPTH + 50)})
    assert problem is not None
    assert problem.problem == f"nests deeper than {MAX_DEPTH} levels"
    assert problem.path.startswith("a[0][0]")
    assert len(problem.message) < 250  # the path is cut short, not printed 32 levels deep


def test_nesting_far_beyond_the_recursion_limit_is_examined_without_recursing() -> None:
    assert find_input_problem(nested(100_000)) is not None


def test_the_first_problem_in_document_order_is_reported() -> None:
    problem = find_input_problem({"a": "fine", "b": ["x", "\x00"], "c": math.nan})
    assert problem is not None and problem.path == "b[1]"


def test_text_problem_and_show_text_never_put_the_bad_character_in_a_message() -> None:
    assert text_problem("fine") is None
    found = text_problem("a\x00")
    assert found is not None and "\x00" not in found[0] + found[1]
    shown = show_text("x\ud800" + "y" * 100)
    assert (
        shown.replace("…", "").isascii() and "\\ud800" in shown and shown.endswith('…"') and len(shown) < 60
    )
