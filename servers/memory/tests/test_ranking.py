"""Unit tests of the ranking and supersession rules, the near-duplicate rule and result budgets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from folio_memory.consolidate import group_events, parse_summaries, parse_supersede
from folio_memory.jsonl import JsonlError, parse_jsonl
from folio_memory.present import fit_to_budget
from folio_memory.ranking import Candidate, fold_into_successors, rank, rrf
from folio_memory.records import Memory, RecallHit
from folio_memory.text import (
    check_content,
    check_kind,
    check_tags,
    content_hash,
    estimate_tokens,
    focus_query,
    is_near_duplicate,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def cand(id: int, sem: int | None, fts: int | None, **kw: object) -> Candidate:
    values: dict[str, object] = {"importance": 0.5, "created_at": NOW, "current": True}
    values.update(kw)
    return Candidate(id=id, sem_rank=sem, fts_rank=fts, **values)  # type: ignore[arg-type]


def test_rrf_is_one_for_first_in_both_lists_and_favours_agreement() -> None:
    assert rrf(1, 1) == pytest.approx(1.0)
    assert rrf(None, None) == 0
    assert rrf(2, 2) > rrf(1, None) > rrf(None, 1)
    assert rrf(1, 30) > rrf(1, None)


def test_importance_and_recency_break_ties_but_not_clear_relevance_gaps() -> None:
    old = NOW - timedelta(days=365)
    tied = rank(
        [cand(1, 3, None, importance=0.2), cand(2, 3, None, importance=0.9)], now=NOW, include_history=False
    )
    assert [r.id for r in tied] == [2, 1]
    fresh = rank([cand(1, 3, None, created_at=old), cand(2, 3, None)], now=NOW, include_history=False)
    assert [r.id for r in fresh] == [2, 1]
    gap = rank(
        [cand(1, 1, 1, importance=0.0, created_at=old), cand(2, 20, None, importance=1.0)],
        now=NOW,
        include_history=False,
    )
    assert [r.id for r in gap] == [1, 2]
    assert all(0 < r.score <= 1 for r in gap)


def test_unrelated_nearest_neighbours_are_not_answers() -> None:
    ranked = rank(
        [cand(1, 1, None, similarity=0.05), cand(2, 2, 1, similarity=0.05)], now=NOW, include_history=False
    )
    assert [r.id for r in ranked] == [2]


def test_weak_but_real_vector_matches_still_fill_the_list() -> None:
    # A paraphrase that shares no word with its memory scores about 0.1 with all-MiniLM-L6-v2.
    ranked = rank(
        [
            cand(1, 1, None, similarity=0.3),
            cand(2, 2, None, similarity=0.12),
            cand(3, 3, None, similarity=0.08),
        ],
        now=NOW,
        include_history=False,
    )
    assert [r.id for r in ranked] == [1, 2]


def test_a_full_text_match_with_some_words_counts_less_than_one_with_all() -> None:
    assert rrf(None, 1, partial=True) < rrf(None, 1)
    assert rrf(5, 1, partial=True) > rrf(5, None)
    # some shared words lift a vector match a few places, not from far down the list
    near = rank([cand(1, 5, None), cand(2, 8, 1, fts_partial=True)], now=NOW, include_history=False)
    assert [r.id for r in near] == [2, 1]
    far = rank([cand(1, 5, None), cand(2, 20, 1, fts_partial=True)], now=NOW, include_history=False)
    assert [r.id for r in far] == [1, 2]
    # every word does
    every = rank([cand(1, 5, None), cand(2, 20, 1)], now=NOW, include_history=False)
    assert [r.id for r in every] == [2, 1]


def test_focus_query_keeps_what_a_question_is_about() -> None:
    assert focus_query("How does she like to communicate?") == "like communicate"
    assert focus_query("Is the owner a parent?") == "parent"
    assert focus_query("What's her usual coffee order") == "usual coffee order"
    assert focus_query("Where is the owner's home these days?") == "home days"
    assert focus_query("Does Maya not eat fish?") == "Maya not eat fish"  # names and negations stay
    assert focus_query("What is it?") == "What is it?"  # nothing left: the question as asked
    assert focus_query("  -- ") == "--"


def test_superseded_memories_appear_only_with_history_and_never_above_their_successor() -> None:
    old = cand(1, 1, 1, current=False, superseded_by=2)
    new = cand(2, 5, None)
    assert [r.id for r in rank([old, new], now=NOW, include_history=False)] == [2]
    with_history = rank([old, new], now=NOW, include_history=True)
    assert [r.id for r in with_history] == [2, 1]
    assert not with_history[1].current


def test_a_superseded_match_lends_its_ranks_to_the_current_version() -> None:
    old = cand(1, 1, 1, current=False, superseded_by=3)
    other = cand(4, 2, None)
    successor = cand(3, None, None)
    folded = fold_into_successors([old, other], {1: successor})
    ranked = rank(folded, now=NOW, include_history=False)
    assert [r.id for r in ranked] == [3, 4]
    assert ranked[0].relevance == pytest.approx(1.0)


def test_history_chain_is_ordered_newest_first() -> None:
    chain = [
        cand(1, 1, 1, current=False, superseded_by=2),
        cand(2, 2, 2, current=False, superseded_by=3),
        cand(3, 9, None),
    ]
    assert [r.id for r in rank(chain, now=NOW, include_history=True)] == [3, 2, 1]


def test_near_duplicates_need_equal_content_words_not_only_a_high_cosine() -> None:
    assert is_near_duplicate("Prefers dark mode.", "prefers  DARK mode", 0.2)
    assert is_near_duplicate("The user prefers dark mode", "User prefers dark mode", 0.957)
    assert not is_near_duplicate("Meeting on Tuesday", "Meeting on Wednesday", 0.994)
    assert not is_near_duplicate("Salary is 95,000 euros", "Salary is 96,000 euros", 0.974)
    assert not is_near_duplicate("I like coffee", "I don't like coffee", 0.99)
    assert not is_near_duplicate("The user prefers dark mode", "User prefers dark mode", 0.90)
    assert content_hash("Prefers dark mode.") == content_hash("prefers dark mode")


def test_input_checks_say_what_to_do_instead() -> None:
    with pytest.raises(ValueError, match="content is empty"):
        check_content("  \n")
    with pytest.raises(ValueError, match="split it"):
        check_content("y" * 10_001)
    assert check_content("  ok ") == "ok"
    with pytest.raises(ValueError, match="fact, preference, event, note"):
        check_kind("Fact")
    assert check_tags([" Work", "work", "home "]) == ["work", "home"]
    with pytest.raises(ValueError, match="at most 20"):
        check_tags([f"t{i}" for i in range(21)])


def _memory(id: int, content: str) -> Memory:
    return Memory(
        id=id,
        content=content,
        kind="note",
        tags=[],
        importance=0.5,
        public=False,
        source_client=None,
        source_conversation=None,
        created_at=NOW,
        valid_from=NOW,
        valid_to=None,
        superseded_by=None,
        supersede_reason=None,
        derived_from=[],
        consolidated_into=None,
        last_accessed_at=None,
        access_count=0,
        reinforced_count=0,
        embedding_model="m",
    )


def test_budget_keeps_the_best_hits_and_reports_the_rest() -> None:
    hits = [RecallHit(_memory(i, f"memory number {i} " + "word " * 60), 1 - i / 10, 0.5) for i in range(5)]
    whole = fit_to_budget("q", hits, None)
    assert len(whole.hits) == 5 and whole.omitted == 0 and whole.note is None
    small = fit_to_budget("q", hits, 250)
    assert 0 < len(small.hits) < 5 and small.omitted == 5 - len(small.hits)
    assert estimate_tokens(small.model_dump(mode="json")) <= 250
    assert [h.id for h in small.hits] == list(range(len(small.hits)))
    tiny = fit_to_budget("q", [RecallHit(_memory(1, "long " * 400), 0.9, 0.5)], 150)
    assert len(tiny.hits) == 1 and tiny.hits[0].truncated and tiny.hits[0].content.endswith("…")
    assert estimate_tokens(tiny.model_dump(mode="json")) <= 150


def test_events_group_by_meaning_and_singletons_are_dropped() -> None:
    a, b = np.eye(4, dtype=np.float32)[0], np.eye(4, dtype=np.float32)[1]
    near_a = (a * 0.9 + b * 0.1) / np.linalg.norm(a * 0.9 + b * 0.1)
    groups = group_events([a, b, near_a, a], [1.0, 2.0, 3.0, 4.0])
    assert groups == [[0, 2, 3]]


def test_model_answers_are_parsed_defensively() -> None:
    assert parse_supersede("[12]", [12, 15]) == 12
    assert parse_supersede("Memory 15 is replaced.", [12, 15]) == 15
    assert parse_supersede("none", [12]) is None
    assert parse_supersede("99", [12]) is None
    assert parse_supersede("12 or 15", [12, 15]) is None
    assert parse_summaries('Sure: [{"group": 1, "fact": "Climbs weekly"}, {"group": 9, "fact": "x"}]', 2) == {
        1: "Climbs weekly"
    }
    assert parse_summaries("no json here", 2) == {}


def test_reference_memory_files_are_parsed_and_bad_lines_named() -> None:
    graph = parse_jsonl(
        '{"type":"entity","name":"A","entityType":"person","observations":["x"]}\n\n'
        '{"type":"relation","from":"A","to":"B","relationType":"knows"}\n'
    )
    assert [e.name for e in graph.entities] == ["A"] and graph.relations[0].from_ == "A"
    with pytest.raises(JsonlError, match=":2:"):
        parse_jsonl('{"type":"entity","name":"A","entityType":"t","observations":[]}\n{"type":"blob"}')
    with pytest.raises(JsonlError, match=":1: not JSON"):
        parse_jsonl("{oops")
