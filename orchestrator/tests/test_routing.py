"""Exposed names: valid for Anthropic and OpenAI, reversible, collision-free, deterministic, ordered."""

from __future__ import annotations

import itertools

import pytest

from folio_orchestrator.errors import RoutingError
from folio_orchestrator.routing import MAX_NAME, NAME_RULE, SEPARATOR, Router, server_segments

ODD_SERVERS = [
    "profile",
    "memory",
    "my server",
    "my_server",
    "my-server",
    "my.server",
    "my__server",
    "_lead_",
    "trailing_",
    "dossier-€uro",
    "日本語サーバー",
    "😀",
    "x" * 200,
    "x" * 199 + "y",
    "a" * 24,
    "a" * 25,
    "s-" + "0" * 6,  # looks like a shortened name
    " ",
    "tab\tname",
    "slash/name",
    "MixedCase",
]
ODD_TOOLS = [
    "echo",
    "get-sum",
    "profile_search",
    "tool with spaces",
    "tool.with.dots",
    "tool/with/slashes",
    "tool__with__double",
    "naïve",
    "工具",
    "",
    "t" * 200,
    "t" * 199 + "u",
    "t" * 38,
    "t" * 39,
    "__leading",
    "trailing__",
    "-",
    "Echo",
]


def full_router() -> Router:
    return Router(
        ODD_SERVERS, tools={s: ODD_TOOLS for s in ODD_SERVERS}, prompts={s: ODD_TOOLS for s in ODD_SERVERS}
    )


def test_every_exposed_name_is_valid_for_both_providers() -> None:
    router = full_router()
    names = [r.name for r in router.tools] + [r.name for r in router.prompts]
    assert len(names) == 2 * len(ODD_SERVERS) * len(ODD_TOOLS)
    for name in names:
        assert NAME_RULE.match(name), name
        assert len(name) <= MAX_NAME


def test_names_are_collision_free_and_map_back_to_their_server_and_tool() -> None:
    router = full_router()
    routes = router.tools
    assert len({r.name for r in routes}) == len(routes)
    for route in routes:
        assert router.tool(route.name) == route
        assert router.tool_name(route.server, route.item) == route.name
        assert router.server_of(route.name) == route.server


def test_the_first_separator_always_ends_the_server_segment() -> None:
    segments = server_segments(ODD_SERVERS)
    assert len(set(segments.values())) == len(ODD_SERVERS)
    for segment in segments.values():
        assert SEPARATOR not in segment and not segment.endswith("_") and NAME_RULE.match(segment)


@pytest.mark.parametrize(
    ("server", "tool", "expected"),
    [
        ("profile", "profile_search", "profile__profile_search"),
        ("everything", "get-sum", "everything__get-sum"),
        ("time", "get_current_time", "time__get_current_time"),
        ("a", "tool__with__double", "a__tool__with__double"),
    ],
)
def test_valid_short_names_are_kept_as_they_are(server: str, tool: str, expected: str) -> None:
    assert Router([server], tools={server: [tool]}).tool_name(server, tool) == expected


@pytest.mark.parametrize(
    ("server", "tool", "prefix"),
    [
        ("my server", "echo", "my_server-"),
        ("my__server", "echo", "my_server-"),
        ("my.server", "tool.with.dots", "my_server-"),
        ("日本語サーバー", "工具", "s-"),
        ("x" * 200, "t" * 200, "x" * 17 + "-"),
    ],
)
def test_odd_names_are_cleaned_shortened_and_hashed(server: str, tool: str, prefix: str) -> None:
    router = Router([server], tools={server: [tool]})
    name = router.tool_name(server, tool)
    assert name.startswith(prefix) and NAME_RULE.match(name)
    segment, _, item = name.partition(SEPARATOR)
    assert len(segment.rsplit("-", 1)[1]) == 6  # a short hash ends a shortened segment
    if tool != "echo":
        assert item != tool and len(item.rsplit("-", 1)[1]) == 6


def test_names_do_not_depend_on_listing_order_or_on_other_servers_tools() -> None:
    forward = Router(["a b", "c"], tools={"a b": ["x.y", "z"], "c": ["q"]})
    backward = Router(["a b", "c"], tools={"a b": ["z", "x.y"], "c": ["q", "new tool"]})
    assert forward.tool_name("a b", "x.y") == backward.tool_name("a b", "x.y")
    assert forward.tool_name("c", "q") == backward.tool_name("c", "q")


def test_listing_order_follows_the_fleet_file_then_the_tool_name() -> None:
    router = Router(["zeta", "alpha"], tools={"alpha": ["b", "a"], "zeta": ["y", "x"]})
    assert [r.name for r in router.tools] == ["zeta__x", "zeta__y", "alpha__a", "alpha__b"]


def test_names_that_clean_to_the_same_text_stay_distinct() -> None:
    tools = ["a.b", "a b", "a/b", "a_b", "a-b"]
    router = Router(["s"], tools={"s": tools})
    names = [router.tool_name("s", t) for t in tools]
    assert len(set(names)) == len(tools)
    assert router.tool_name("s", "a_b") == "s__a_b"  # the valid one keeps its name


def test_long_names_sharing_a_prefix_stay_distinct() -> None:
    tools = ["".join(p) + "t" * 100 for p in itertools.product("ab", repeat=4)]
    router = Router(["s"], tools={"s": tools})
    assert len({router.tool_name("s", t) for t in tools}) == len(tools)


def test_a_shortened_name_never_takes_a_real_servers_name() -> None:
    crafted = server_segments(["weird name"])["weird name"]  # e.g. "weird_name-1a2b3c"
    segments = server_segments(["weird name", crafted])
    assert segments[crafted] == crafted
    assert segments["weird name"] != crafted and segments["weird name"].startswith("weird_name-")


def test_unknown_names_say_what_is_close() -> None:
    router = Router(["profile"], tools={"profile": ["profile_search"]})
    with pytest.raises(RoutingError, match="did you mean profile__profile_search"):
        router.tool("profile__profile_serch")
    with pytest.raises(RoutingError, match="offers no tool"):
        router.tool_name("profile", "nope")
    assert router.server_of("nobody__x") is None and router.server_of("profile") is None
