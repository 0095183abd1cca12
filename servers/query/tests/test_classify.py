"""The classifier on its own: what is accepted, what is refused and under which rule."""

from __future__ import annotations

import pytest

from folio_query.classify import MAX_SQL_CHARS, QueryRefused, classify
from folio_query.server import extract_sql

VIEWS = {"memories", "host_tool_calls", "resume_skills"}


def rule(sql: str) -> str:
    with pytest.raises(QueryRefused) as caught:
        classify(sql, VIEWS, schema="query")
    return caught.value.rule


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1; SELECT 2", "one-statement"),
        ("SELECT 1; ; DELETE FROM memories", "one-statement"),
        (
            "WITH a AS (SELECT 1), b AS (INSERT INTO memories VALUES (1) RETURNING 1) SELECT * FROM a",
            "writable-cte",
        ),
        (
            "WITH RECURSIVE a AS (SELECT 1 UNION ALL (WITH d AS (DELETE FROM memories RETURNING 1) SELECT 1 FROM d)) SELECT 1",
            "writable-cte",
        ),
        ("SELECT * FROM memories m JOIN LATERAL (SELECT * FROM pg_ls_dir('/')) f ON true", "function"),
        ("SELECT array_agg(x) FROM unnest(ARRAY[pg_read_file('/etc/hostname')]) x", "function"),
        ("SELECT count(*) OVER (ORDER BY pg_backend_pid())", "function"),
        ("SELECT public.pg_read_file('/x')", "function"),
        ("SELECT evil.lower('x')", "function"),
        ("SELECT \"LOWER\"('x')", "function"),
        ("SELECT * FROM query.memories, pg_class", "relation"),
        ("SELECT * FROM other.memories", "relation"),
        ("SELECT * FROM db.query.memories", "relation"),
        ("SELECT * FROM memories FOR NO KEY UPDATE", "locking"),
        ("SELECT * FROM (SELECT * FROM memories FOR KEY SHARE) s", "locking"),
        ("EXPLAIN (ANALYZE, FORMAT JSON) SELECT 1", "explain-analyze"),
        ("EXPLAIN (ANALYZE false) SELECT 1", "explain-analyze"),
        ("EXPLAIN (SETTINGS true) SELECT 1", "explain-option"),
        ("EXPLAIN (WAL) SELECT 1", "explain-option"),
        ("SELECT session_user", "construct"),
        ("SELECT current_role", "construct"),
        ("SELECT 1::regproc", "relation"),
        ("SELECT * FROM XMLTABLE('/x' PASSING '<x/>' COLUMNS a int)", "construct"),
        ("SELECT 1 INTO TEMP t", "read-only"),
        ("CALL p()", "read-only"),
        ("VACUUM memories", "read-only"),
        ("ALTER SYSTEM SET work_mem = '1GB'", "read-only"),
        ("BEGIN", "read-only"),
        ("SELECT 'unterminated", "syntax"),
        ("", "empty"),
        (" \n\t", "empty"),
        ("SELECT 1 \x00", "syntax"),
        ("x" * (MAX_SQL_CHARS + 1), "too-long"),
    ],
)
def test_refused(sql: str, expected: str) -> None:
    assert rule(sql) == expected


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT kind, count(*) FROM memories GROUP BY kind",
        "WITH x AS (SELECT * FROM memories) SELECT * FROM x",
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT * FROM n",
        "SELECT pg_catalog.lower(content) FROM query.memories",
        "SELECT percentile_disc(0.9) WITHIN GROUP (ORDER BY duration_ms) FROM host_tool_calls",
        "SELECT extract(year FROM created_at), trim(content), substring(content FROM 1 FOR 3) FROM memories",
        "SELECT created_at AT TIME ZONE 'UTC' FROM memories",
        "SELECT * FROM memories TABLESAMPLE BERNOULLI (50)",
        "SELECT jsonb_path_query(arguments, '$.q') FROM host_tool_calls",
        "SELECT coalesce(NULL, 1), greatest(1, 2), nullif(1, 1), CURRENT_DATE, CURRENT_TIMESTAMP",
        "SELECT l2_distance(embedding, embedding) FROM memories",
        "TABLE memories",
        "VALUES (1)",
        "EXPLAIN (FORMAT JSON, COSTS) SELECT * FROM memories",
    ],
)
def test_accepted(sql: str) -> None:
    classified = classify(sql, VIEWS, schema="query")
    assert ";" not in classified.sql


def test_what_runs_is_the_deparsed_statement_without_comments() -> None:
    classified = classify("/* x; DROP */ SELECT id -- ; DELETE\nFROM memories;", VIEWS, schema="query")
    assert classified.sql == "SELECT id FROM memories"
    assert classified.relations == {"memories"}


def test_unicode_escapes_are_resolved_before_checking() -> None:
    assert rule('SELECT * FROM U&"pg_\\0063lass"') == "relation"
    classified = classify('SELECT * FROM U&"m\\0065mories"', VIEWS, schema="query")
    assert classified.relations == {"memories"}


def test_a_cte_name_is_a_relation_of_the_statement_only() -> None:
    assert (
        classify("WITH pg_class AS (SELECT 1 AS a) SELECT * FROM pg_class", VIEWS, schema="query").relations
        == set()
    )


def test_functional_notation_is_a_function_call() -> None:
    functions = {"pg_typeof", "lower", "version"}
    with pytest.raises(QueryRefused, match="not a column"):
        classify("SELECT m.pg_typeof FROM memories m", VIEWS, schema="query", catalog_functions=functions)
    ok = classify(
        "SELECT m.version, m.lower FROM memories m",
        VIEWS,
        schema="query",
        catalog_functions=functions,
        columns={"version"},
    )
    assert ok.relations == {"memories"}


def test_the_model_answers_sql_is_extracted() -> None:
    assert extract_sql("Here:\n```sql\nSELECT 1\n```\nDone") == "SELECT 1"
    assert extract_sql("SELECT 2") == "SELECT 2"
    assert extract_sql(None) == ""
