"""The related-terms lexicon: stemming, phrase lookup and query expansion (pure, no model)."""

from __future__ import annotations

import pytest

from folio_memory import lexicon
from folio_memory.lexicon import GROUPS, Lexicon, expand, expansion_terms, stem, words


@pytest.mark.parametrize(
    "forms",
    [
        ("communicate", "communication", "communicating", "communicates", "communicated", "communications"),
        ("meeting", "meetings"),
        ("prefer", "prefers", "preferred", "preference", "preferences"),
        ("office", "offices"),
        ("allergy", "allergies", "allergic"),
        ("available", "availability"),
        ("study", "studies", "studied"),
        ("plan", "plans", "planning", "planned"),
        ("conference", "conferences"),
        ("family", "families"),
        ("relocate", "relocating", "relocation"),
        ("class", "classes"),
    ],
)
def test_inflected_and_derived_forms_share_a_stem(forms: tuple[str, ...]) -> None:
    assert len({stem(f) for f in forms}) == 1, {f: stem(f) for f in forms}


def test_stemming_leaves_short_words_and_ss_us_endings_alone() -> None:
    assert stem("bus") == "bus"
    assert stem("status") == "status"
    assert stem("glass") == "glass"
    assert stem("run") == "run"
    assert stem("Owner’s") == stem("owner")


def test_different_words_keep_different_stems() -> None:
    assert stem("meeting") != stem("meal")
    assert stem("remote") != stem("remove")
    assert stem("office") != stem("offer")


def test_words_fold_case_and_keep_hyphenated_words_whole() -> None:
    assert words("On-site, Remote’s WORK") == ["on-site", "remote's", "work"]


def test_the_lexicon_is_broad_and_every_group_relates_several_terms() -> None:
    built = lexicon.default()
    assert len(GROUPS) >= 150
    assert all(len(group) >= 3 for group in built.groups)
    assert built.longest >= 3  # phrases such as "work from home" are indexed whole


def test_a_group_with_one_term_is_refused() -> None:
    with pytest.raises(ValueError, match="at least two terms"):
        Lexicon(["alone"])


def test_lookup_matches_inflected_words_and_phrases_before_their_words() -> None:
    small = Lexicon(
        ["notice period, resign, handover", "period, era, age", "remote, work from home, distributed"]
    )
    assert small.lookup("her notice periods") == [0]  # the phrase, not "period" alone
    assert small.lookup("the period") == [1]
    assert small.lookup("working from home") == [2]
    assert small.lookup("nothing related") == []


def test_related_terms_skip_what_the_query_already_says_and_respect_the_limit() -> None:
    small = Lexicon(
        ["like, prefer, enjoy, favourite, love", "communicate, communication, meeting, email, chat"]
    )
    assert small.related("like communicate", per_group=2) == ["prefer", "enjoy", "meeting", "email"]
    assert small.related("communication preferences", per_group=3) == [
        "meeting",
        "email",
        "chat",
        "like",
        "enjoy",
        "favourite",
    ]


def test_expand_appends_related_terms_to_the_query_and_is_empty_without_any() -> None:
    expanded = expand("like communicate")
    assert expanded.startswith("like communicate ")
    added = set(expansion_terms("like communicate"))
    assert {"prefer", "meeting", "email"} <= added
    assert expand("zxqv blorp") == ""


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("could join", "start"),
        ("resign", "notice period"),
        ("working from home", "remote"),
        ("tech events", "conference"),
        ("media appearances", "press"),
        ("shows", "podcast"),
        ("salary expectations", "compensation"),
        ("spouse", "partner"),
    ],
)
def test_the_default_lexicon_relates_common_paraphrases(query: str, expected: str) -> None:
    terms = expansion_terms(query, per_group=8)
    assert expected in terms, terms
