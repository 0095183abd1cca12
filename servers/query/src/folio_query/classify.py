"""Parse and classify one SQL statement before anything reaches the database.

The text is parsed with PostgreSQL's own parser (pglast wraps libpg_query, PostgreSQL 16, the
embedded server's version) and the tree is checked against fixed rules. Every refusal names the
rule it hit and says what to send instead. What runs afterwards is the *deparsed* tree, never the
text as given: comments, quoting games and unicode escapes are gone, and it is exactly one
statement, the one that was checked.

The rules, in order:

* ``one-statement`` — exactly one statement (no stacking, nothing empty);
* ``read-only`` — SELECT / WITH / VALUES / TABLE, or EXPLAIN of one of those (no ANALYZE: it
  would run the statement without the risk check), never ``SELECT … INTO``;
* ``writable-cte`` — every WITH member is itself a SELECT;
* ``locking`` — no ``FOR UPDATE / SHARE`` anywhere;
* ``function`` — every function called anywhere (select list, WHERE, FROM, LATERAL, ROWS FROM,
  window and aggregate positions) is on :data:`ALLOWED_FUNCTIONS`, unqualified or ``pg_catalog.``;
* ``relation`` — every table named is a view of the curated layer (or a CTE of the statement);
* ``construct`` — no parameters, XML table functions, system-catalog object-identifier casts,
  or session-information values (``current_user``, ``current_role`` …).
"""

from __future__ import annotations

from collections.abc import Iterator, Set
from dataclasses import dataclass, field
from typing import Any

MAX_SQL_CHARS = 20_000
"""Longer SQL is refused before parsing: a question over the layer never needs more."""

AGGREGATES = frozenset(
    [
        "count",
        "sum",
        "avg",
        "min",
        "max",
        "array_agg",
        "string_agg",
        "json_agg",
        "jsonb_agg",
        "json_object_agg",
        "jsonb_object_agg",
        "bool_and",
        "bool_or",
        "every",
        "bit_and",
        "bit_or",
        "stddev",
        "stddev_pop",
        "stddev_samp",
        "variance",
        "var_pop",
        "var_samp",
        "corr",
        "covar_pop",
        "covar_samp",
        "regr_slope",
        "regr_intercept",
        "regr_r2",
        "regr_count",
        "percentile_cont",
        "percentile_disc",
        "mode",
        "grouping",
        "range_agg",
        "range_intersect_agg",
    ]
)
WINDOW = frozenset(
    [
        "row_number",
        "rank",
        "dense_rank",
        "percent_rank",
        "cume_dist",
        "ntile",
        "lag",
        "lead",
        "first_value",
        "last_value",
        "nth_value",
    ]
)
SCALAR = frozenset(
    [
        "abs",
        "ceil",
        "ceiling",
        "floor",
        "round",
        "trunc",
        "sign",
        "sqrt",
        "cbrt",
        "power",
        "pow",
        "exp",
        "ln",
        "log",
        "log10",
        "mod",
        "div",
        "greatest",
        "least",
        "width_bucket",
        "pi",
        "degrees",
        "radians",
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "atan2",
        "random",
        "gcd",
        "lcm",
        "scale",
        "factorial",
        "lower",
        "upper",
        "initcap",
        "length",
        "char_length",
        "character_length",
        "octet_length",
        "bit_length",
        "substring",
        "substr",
        "position",
        "strpos",
        "btrim",
        "ltrim",
        "rtrim",
        "trim",
        "lpad",
        "rpad",
        "replace",
        "translate",
        "split_part",
        "concat",
        "concat_ws",
        "left",
        "right",
        "reverse",
        "repeat",
        "starts_with",
        "format",
        "quote_literal",
        "quote_ident",
        "md5",
        "to_hex",
        "ascii",
        "chr",
        "overlay",
        "normalize",
        "unaccent",
        "string_to_array",
        "string_to_table",
        "array_to_string",
        "regexp_match",
        "regexp_matches",
        "regexp_replace",
        "regexp_split_to_array",
        "regexp_split_to_table",
        "regexp_count",
        "regexp_instr",
        "regexp_like",
        "regexp_substr",
        "similar_to_escape",
        "like_escape",
        "now",
        "current_date",
        "current_timestamp",
        "localtimestamp",
        "statement_timestamp",
        "transaction_timestamp",
        "clock_timestamp",
        "date_trunc",
        "date_part",
        "extract",
        "date_bin",
        "age",
        "justify_days",
        "justify_hours",
        "justify_interval",
        "make_date",
        "make_time",
        "make_timestamp",
        "make_timestamptz",
        "make_interval",
        "to_char",
        "to_date",
        "to_timestamp",
        "to_number",
        "isfinite",
        "timezone",
        "overlaps",
        "array_length",
        "array_lower",
        "array_upper",
        "array_position",
        "array_positions",
        "array_remove",
        "array_replace",
        "array_cat",
        "array_append",
        "array_prepend",
        "array_dims",
        "array_ndims",
        "cardinality",
        "unnest",
        "generate_series",
        "generate_subscripts",
        "to_json",
        "to_jsonb",
        "row_to_json",
        "array_to_json",
        "json_build_object",
        "jsonb_build_object",
        "json_build_array",
        "jsonb_build_array",
        "json_object",
        "jsonb_object",
        "json_array_length",
        "jsonb_array_length",
        "json_array_elements",
        "jsonb_array_elements",
        "json_array_elements_text",
        "jsonb_array_elements_text",
        "json_each",
        "jsonb_each",
        "json_each_text",
        "jsonb_each_text",
        "json_object_keys",
        "jsonb_object_keys",
        "json_extract_path",
        "jsonb_extract_path",
        "json_extract_path_text",
        "jsonb_extract_path_text",
        "json_typeof",
        "jsonb_typeof",
        "jsonb_strip_nulls",
        "json_strip_nulls",
        "jsonb_pretty",
        "jsonb_set",
        "jsonb_insert",
        "jsonb_path_query",
        "jsonb_path_query_array",
        "jsonb_path_query_first",
        "jsonb_path_exists",
        "jsonb_path_match",
        "jsonb_agg_strict",
        "jsonb_concat",
        "to_tsvector",
        "to_tsquery",
        "plainto_tsquery",
        "phraseto_tsquery",
        "websearch_to_tsquery",
        "ts_rank",
        "ts_rank_cd",
        "ts_headline",
        "numnode",
        "querytree",
        "setweight",
        "strip",
        "tsvector_to_array",
        "array_to_tsvector",
        "coalesce",
        "nullif",
        "num_nulls",
        "num_nonnulls",
        "lower_inc",
        "upper_inc",
        "isempty",
        "lower_inf",
        "upper_inf",
        "int4range",
        "int8range",
        "numrange",
        "tsrange",
        "tstzrange",
        "daterange",
        "l2_distance",
        "cosine_distance",
        "inner_product",
        "l1_distance",
        "vector_dims",
        "vector_norm",
        "l2_normalize",
    ]
)
ALLOWED_FUNCTIONS: frozenset[str] = AGGREGATES | WINDOW | SCALAR
"""Functions a query may call. Anything else (pg_read_file, pg_ls_dir, current_setting,
set_config, pg_sleep, query_to_xml, dblink, lo_import, nextval, advisory locks …) is refused."""

_SESSION_VALUES = frozenset(
    {"CURRENT_USER", "CURRENT_ROLE", "SESSION_USER", "USER", "CURRENT_CATALOG", "CURRENT_SCHEMA"}
)
_OID_TYPES = frozenset(
    [
        "regclass",
        "regproc",
        "regprocedure",
        "regoper",
        "regoperator",
        "regtype",
        "regconfig",
        "regdictionary",
        "regnamespace",
        "regrole",
        "regcollation",
        "oid",
    ]
)
_EXPLAIN_OPTIONS = frozenset({"format", "verbose", "costs", "summary"})
_ALLOWED_TABLESAMPLE = frozenset({"bernoulli", "system"})


class QueryRefused(ValueError):
    """A statement the server will not run. ``rule`` names the rule; the message says what to do."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


@dataclass(frozen=True)
class Classified:
    """An accepted statement: what kind it is, the canonical text to run, what it reads."""

    kind: str  # select | values | table | explain
    sql: str  # the deparsed statement: one statement, no comments
    relations: frozenset[str]
    functions: frozenset[str]
    inner_sql: str | None = None  # for EXPLAIN: the explained statement
    explain_options: tuple[str, ...] = field(default=())


def _refuse(rule: str, message: str) -> QueryRefused:
    return QueryRefused(rule, message)


def _walk(node: Any) -> Iterator[Any]:
    """Every AST node below (and including) ``node``."""
    from pglast import ast

    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, list | tuple):
            stack.extend(current)
            continue
        if not isinstance(current, ast.Node):
            continue
        yield current
        for name in current.__slots__:
            value = getattr(current, name, None)
            if isinstance(value, ast.Node | list | tuple):
                stack.append(value)


def _names(parts: Any) -> list[str]:
    return [getattr(p, "sval", "") for p in parts or ()]


def _describe_function(parts: list[str]) -> str:
    return ".".join(parts)


def _parse(sql: str) -> Any:
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        return parse_sql(sql)
    except ParseError as exc:
        raise _refuse(
            "syntax",
            f"PostgreSQL cannot parse this SQL: {exc}. Fix the syntax and send one SELECT statement.",
        ) from exc


def classify(
    sql: str,
    views: Set[str],
    *,
    schema: str,
    catalog_functions: Set[str] = frozenset(),
    columns: Set[str] = frozenset(),
) -> Classified:
    """Check ``sql`` against the rules; ``views`` are the queryable names in ``schema``.

    ``catalog_functions`` are the database's function names and ``columns`` the layer's column
    names: ``m.f`` is PostgreSQL's functional notation for ``f(m)``, so a qualified column
    reference naming a function that is neither allowed nor a column of the layer is refused.
    """
    if not isinstance(sql, str) or not sql.strip():
        raise _refuse(
            "empty", "The SQL is empty. Send one SELECT statement over the views listed by query_schema."
        )
    if len(sql) > MAX_SQL_CHARS:
        raise _refuse(
            "too-long",
            f"The SQL is {len(sql):,} characters; the limit is {MAX_SQL_CHARS:,}. Ask for less at once "
            "(aggregate in SQL, or split the question).",
        )
    if "\x00" in sql:
        raise _refuse("syntax", "The SQL contains a NUL character; send plain text.")
    statements = _parse(sql)
    if not statements:
        raise _refuse("empty", "The SQL holds no statement (only comments?). Send one SELECT statement.")
    if len(statements) != 1:
        raise _refuse(
            "one-statement",
            f"Found {len(statements)} statements; send exactly one read-only SELECT (no ';'-separated batches).",
        )
    from pglast import ast
    from pglast.stream import RawStream

    stmt = statements[0].stmt
    kind, inner, options = _statement_kind(stmt)
    relations, functions = _check_tree(inner, views, schema, catalog_functions, columns)
    inner_sql = RawStream()(inner)
    text = RawStream()(stmt) if isinstance(stmt, ast.ExplainStmt) else inner_sql
    return Classified(
        kind=kind,
        sql=text,
        relations=frozenset(relations),
        functions=frozenset(functions),
        inner_sql=inner_sql if kind == "explain" else None,
        explain_options=options,
    )


def _statement_kind(stmt: Any) -> tuple[str, Any, tuple[str, ...]]:
    from pglast import ast

    options: tuple[str, ...] = ()
    inner = stmt
    if isinstance(stmt, ast.ExplainStmt):
        names = tuple(str(getattr(o, "defname", "")).lower() for o in stmt.options or ())
        if "analyze" in names or "analyse" in names:
            raise _refuse(
                "explain-analyze",
                "EXPLAIN ANALYZE runs the statement, so it is not accepted here. Use plain EXPLAIN, or "
                "call query_explain for the plan, cost and verdict.",
            )
        unknown = [n for n in names if n not in _EXPLAIN_OPTIONS]
        if unknown:
            raise _refuse(
                "explain-option",
                f"EXPLAIN option {unknown[0].upper()} is not accepted; use FORMAT, VERBOSE, COSTS or SUMMARY.",
            )
        options = names
        inner = stmt.query
    if not isinstance(inner, ast.SelectStmt):
        what = type(inner).__name__.removesuffix("Stmt").upper() or "this statement"
        raise _refuse(
            "read-only",
            f"Only read-only SELECT, WITH … SELECT, VALUES, TABLE or EXPLAIN of those run here; this is "
            f"{what}. Nothing can be changed through this server: rewrite it as a SELECT over the views.",
        )
    if isinstance(stmt, ast.ExplainStmt):
        return "explain", inner, options
    if inner.valuesLists:
        return "values", inner, options
    return "select", inner, options


def _check_tree(
    root: Any, views: Set[str], schema: str, catalog_functions: Set[str], columns: Set[str]
) -> tuple[set[str], set[str]]:
    from pglast import ast

    ctes: set[str] = set()
    for node in _walk(root):
        if isinstance(node, ast.CommonTableExpr):
            ctes.add(node.ctename)
            if not isinstance(node.ctequery, ast.SelectStmt):
                raise _refuse(
                    "writable-cte",
                    f"WITH {node.ctename} AS (…) holds a {type(node.ctequery).__name__.removesuffix('Stmt').upper()}; "
                    "every WITH member must be a SELECT. Nothing can be changed through this server.",
                )
    relations: set[str] = set()
    functions: set[str] = set()
    for node in _walk(root):
        if isinstance(node, ast.SelectStmt):
            if node.intoClause is not None:
                raise _refuse("read-only", "SELECT … INTO creates a table; drop the INTO clause.")
            if node.lockingClause:
                raise _refuse(
                    "locking",
                    "FOR UPDATE / FOR SHARE locks rows, which a read-only query may not do; remove the clause.",
                )
        elif isinstance(node, ast.RangeVar):
            _check_relation(node, views, schema, ctes, relations)
        elif isinstance(node, ast.ColumnRef) and len(node.fields or ()) >= 2:
            last = getattr(node.fields[-1], "sval", None)
            if last in catalog_functions and last not in ALLOWED_FUNCTIONS and last not in columns:
                raise _refuse(
                    "function",
                    f"{last} is a function (x.{last} calls it on the row), not a column; it is not on the "
                    "allow-list. Use the views' columns listed by query_schema.",
                )
        elif isinstance(node, ast.FuncCall):
            functions.add(_check_function(_names(node.funcname)))
        elif isinstance(node, ast.RangeTableSample):
            method = _names(node.method)
            if not method or method[-1] not in _ALLOWED_TABLESAMPLE:
                raise _refuse("function", "TABLESAMPLE accepts only BERNOULLI or SYSTEM.")
        elif isinstance(node, ast.SQLValueFunction):
            op = getattr(node.op, "name", str(node.op)).removeprefix("SVFOP_")
            if op in _SESSION_VALUES:
                raise _refuse(
                    "construct",
                    f"{op} reports the database session, which is not part of the queryable data; remove it.",
                )
        elif isinstance(node, ast.TypeCast | ast.ColumnDef):
            type_name = node.typeName
            parts = _names(type_name.names) if type_name is not None else []
            if parts and parts[-1].lower() in _OID_TYPES:
                raise _refuse(
                    "relation",
                    f"Casts to {parts[-1]} look up system catalogs, which are not queryable; use the views' columns.",
                )
        elif isinstance(node, ast.ParamRef):
            raise _refuse(
                "construct", f"${node.number} is a parameter; write the value into the SQL instead."
            )
        elif isinstance(node, ast.RangeTableFunc | ast.XmlExpr | ast.XmlSerialize):
            raise _refuse("construct", "XML functions are not available here; use the json/jsonb functions.")
    return relations, functions


def _check_relation(node: Any, views: Set[str], schema: str, ctes: set[str], relations: set[str]) -> None:
    name = node.relname
    qualified = ".".join(p for p in (node.catalogname, node.schemaname, name) if p)
    if node.catalogname is None and node.schemaname is None and name in ctes:
        return
    if node.catalogname is None and node.schemaname in (None, schema) and name in views:
        relations.add(name)
        return
    if node.schemaname not in (None, schema):
        hint = (
            f" (leave out the schema: views are found as plain names, e.g. {name})" if name in views else ""
        )
        raise _refuse(
            "relation",
            f"{qualified} is outside the queryable layer{hint}. Only the views listed by query_schema can be "
            "read; base tables, system catalogs and statistics views are not reachable.",
        )
    raise _refuse(
        "relation",
        f"{qualified} is not a queryable view. Call query_schema for the views and their columns "
        f"(available: {', '.join(sorted(views)) or 'none yet'}).",
    )


def _check_function(parts: list[str]) -> str:
    if len(parts) == 2 and parts[0] == "pg_catalog":
        parts = parts[1:]
    name = parts[-1] if parts else ""
    if len(parts) != 1 or name not in ALLOWED_FUNCTIONS:
        raise _refuse(
            "function",
            f"The function {_describe_function(parts) or '?'} is not on the allow-list (it may read files, "
            "settings or other sessions, change state, or sleep). Use the aggregate, window, date, text, "
            "regex, json and vector functions listed by query_schema.",
        )
    return name
