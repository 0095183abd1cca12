"""JSON Merge Patch, structural diffs and the detection of changes that lose information."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from folio_profile.models import Change
from folio_profile.patch import destructive_changes, diff, is_destructive, merge_patch, summarise_changes

# ---------------------------------------------------------------- RFC 7396


@pytest.mark.parametrize(
    ("target", "patch", "expected"),
    [
        # a member is replaced
        ({"label": "Engineer"}, {"label": "Staff Engineer"}, {"label": "Staff Engineer"}),
        # a member is added, others are kept
        ({"name": "Ines"}, {"label": "Staff"}, {"name": "Ines", "label": "Staff"}),
        # null removes a member
        ({"name": "Ines", "phone": "+31"}, {"phone": None}, {"name": "Ines"}),
        # removing a member that is not there is a no-op
        ({"name": "Ines"}, {"image": None}, {"name": "Ines"}),
        # nested objects merge recursively
        (
            {"basics": {"name": "Ines", "location": {"city": "Utrecht", "region": "Utrecht"}}},
            {"basics": {"location": {"city": "Amsterdam", "region": None}}},
            {"basics": {"name": "Ines", "location": {"city": "Amsterdam"}}},
        ),
        # arrays are replaced whole, never merged element by element
        ({"keywords": ["Go", "Rust", "Python"]}, {"keywords": ["Zig"]}, {"keywords": ["Zig"]}),
        ({"work": [{"name": "A", "x": 1}]}, {"work": [{"name": "B"}]}, {"work": [{"name": "B"}]}),
        # an object patch on a non-object target starts from an empty object
        ({"skills": ["a"]}, {"skills": {"name": "Go"}}, {"skills": {"name": "Go"}}),
        ("text", {"a": 1}, {"a": 1}),
        # nulls inside a patch value that is created fresh are removed too
        ({}, {"meta": {"version": "v2", "theme": None}}, {"meta": {"version": "v2"}}),
        # a non-object patch replaces the whole target
        ({"a": 1}, ["x"], ["x"]),
        ({"a": 1}, "replacement", "replacement"),
        ({"a": 1}, None, None),
        # an empty patch changes nothing
        ({"a": {"b": [1]}}, {}, {"a": {"b": [1]}}),
        # arrays inside a patch keep their nulls (only object members are removed)
        ({}, {"list": [None, 1]}, {"list": [None, 1]}),
    ],
)
def test_merge_patch_follows_rfc_7396(target: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(target, patch) == expected


def test_merge_patch_never_mutates_and_shares_nothing() -> None:
    target = {"basics": {"name": "Ines", "profiles": [{"network": "GitHub"}]}, "work": [{"name": "A"}]}
    patch = {"basics": {"label": "Staff"}, "skills": [{"name": "Go", "keywords": ["gRPC"]}]}
    target_before, patch_before = copy.deepcopy(target), copy.deepcopy(patch)
    result = merge_patch(target, patch)
    assert target == target_before and patch == patch_before
    result["basics"]["profiles"].append({"network": "X"})
    result["work"][0]["name"] = "B"
    result["skills"][0]["keywords"].append("Cobra")
    assert target == target_before and patch == patch_before


# ---------------------------------------------------------------- diff


def test_diff_of_equal_documents_is_empty() -> None:
    doc = {"a": [1, {"b": None}], "c": "é"}
    assert diff(doc, copy.deepcopy(doc)) == []
    assert diff({"n": 1}, {"n": 1.0}) == []


def test_diff_reports_leaf_changes_with_paths() -> None:
    old = {"basics": {"name": "Ines", "label": "Senior", "phone": "+31"}, "work": [{"name": "A"}]}
    new = {"basics": {"name": "Ines", "label": "Staff", "url": "https://x.example"}, "work": [{"name": "A"}]}
    assert diff(old, new) == [
        Change(op="replace", path="$.basics.label", old="Senior", new="Staff"),
        Change(op="remove", path="$.basics.phone", old="+31"),
        Change(op="add", path="$.basics.url", new="https://x.example"),
    ]


def test_diff_compares_arrays_by_index_with_tail_adds_and_removes() -> None:
    old = {"highlights": ["a", "b", "c", "d"]}
    assert diff(old, {"highlights": ["a", "B"]}) == [
        Change(op="replace", path="$.highlights[1]", old="b", new="B"),
        Change(op="remove", path="$.highlights[2]", old="c"),
        Change(op="remove", path="$.highlights[3]", old="d"),
    ]
    assert diff({"k": []}, {"k": ["x", {"y": 1}]}) == [
        Change(op="add", path="$.k[0]", new="x"),
        Change(op="add", path="$.k[1]", new={"y": 1}),
    ]


def test_diff_recurses_into_array_elements_and_reports_type_changes() -> None:
    old = {"work": [{"name": "A", "highlights": ["x"]}], "flag": True, "count": 1}
    new = {"work": [{"name": "A", "highlights": "x"}], "flag": 1, "count": "1"}
    assert diff(old, new) == [
        Change(op="replace", path="$.work[0].highlights", old=["x"], new="x"),
        Change(op="replace", path="$.flag", old=True, new=1),
        Change(op="replace", path="$.count", old=1, new="1"),
    ]


def test_diff_of_whole_documents_and_odd_keys() -> None:
    assert diff("a", "b") == [Change(op="replace", path="$", old="a", new="b")]
    assert diff({"$schema": "x"}, {}) == [Change(op="remove", path="$['$schema']", old="x")]


def test_diff_values_are_copies() -> None:
    old: dict[str, Any] = {"a": {"b": [1]}}
    changes = diff(old, {})
    changes[0].old["b"].append(2)
    assert old == {"a": {"b": [1]}}


def test_merge_patch_and_diff_agree() -> None:
    old = {"basics": {"name": "Ines", "email": "i@example.com"}, "skills": [{"name": "Go"}]}
    patch = {"basics": {"email": None, "label": "Staff"}, "skills": [{"name": "Go"}, {"name": "Rust"}]}
    new = merge_patch(old, patch)
    assert diff(old, new) == [
        Change(op="remove", path="$.basics.email", old="i@example.com"),
        Change(op="add", path="$.basics.label", new="Staff"),
        Change(op="add", path="$.skills[1]", new={"name": "Rust"}),
    ]


# ---------------------------------------------------------------- destructive changes


def test_destructive_changes_are_the_ones_that_lose_information() -> None:
    old = {
        "basics": {"name": "Ines", "label": "Senior", "summary": "Long text", "image": ""},
        "work": [{"name": "A"}, {"name": "B"}],
        "skills": [{"name": "Go", "keywords": ["gRPC"]}],
        "meta": {"version": "v1"},
    }
    new = {
        "basics": {
            "name": "Ines",
            "label": "Staff",
            "summary": "",
            "image": "me.png",
            "url": "https://x.example",
        },
        "work": [{"name": "A"}],
        "skills": [{"name": "Go", "keywords": None}],
        "meta": "v2",
    }
    changes = diff(old, new)
    assert [(c.op, c.path) for c in destructive_changes(changes)] == [
        ("replace", "$.basics.summary"),  # non-empty → empty
        ("remove", "$.work[1]"),  # the array shrank
        ("replace", "$.skills[0].keywords"),  # non-empty → null
        ("replace", "$.meta"),  # an object replaced by a string
    ]
    harmless = [c for c in changes if not is_destructive(c)]
    assert [(c.op, c.path) for c in harmless] == [
        ("replace", "$.basics.label"),
        ("replace", "$.basics.image"),  # empty → non-empty
        ("add", "$.basics.url"),
    ]


def test_pure_additions_and_edits_are_not_destructive() -> None:
    old = {"skills": [{"name": "Go"}], "basics": {"label": "A"}}
    new = {"skills": [{"name": "Go"}, {"name": "Rust"}], "basics": {"label": "B", "summary": "New"}}
    assert destructive_changes(diff(old, new)) == []


# ---------------------------------------------------------------- summaries


def test_summary_of_no_changes() -> None:
    assert summarise_changes([]) == "No changes."


def test_summary_lists_destructive_changes_first_and_marks_them() -> None:
    changes = [
        Change(op="replace", path="$.basics.label", old="Senior", new="Staff"),
        Change(op="remove", path="$.work[4]", old={"name": "Noordhaven University of Technology"}),
        Change(op="add", path="$.skills[9]", new={"name": "Rust"}),
    ]
    assert summarise_changes(changes) == (
        "3 changes (1 added, 1 replaced, 1 removed); 1 loses information:\n"
        '- remove $.work[4] (was {"name": "Noordhaven University of Technology"}) [loses data]\n'
        '- replace $.basics.label: "Senior" → "Staff"\n'
        '- add $.skills[9] = {"name": "Rust"}'
    )


def test_summary_truncates_long_values_and_long_lists() -> None:
    changes = [Change(op="add", path=f"$.work[{i}].highlights[0]", new="x" * 200) for i in range(25)]
    summary = summarise_changes(changes, limit=5)
    lines = summary.splitlines()
    assert lines[0] == "25 changes (25 added, 0 replaced, 0 removed):"
    assert len(lines) == 1 + 5 + 1
    assert lines[-1] == "… and 20 more"
    assert all(len(line) < 120 for line in lines)
    assert lines[1].endswith("…")
