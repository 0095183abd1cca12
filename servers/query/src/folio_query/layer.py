"""The curated read-only layer: documented views over the other packages' tables, and the roles
that may read them.

Two schemas hold the same view names: ``query`` (the owner's layer) and ``query_public`` (what a
visitor may see: public memories, the résumé without contact details, nothing from the host). A
view is created only when every base table it reads exists; a package installed later (projects,
documents) gets its views at the next start of this server. Each audience has a role that can do
nothing but ``SELECT`` on its own schema; every query runs as that role (``SET LOCAL ROLE``).

Adding views for another package: append :class:`View` entries to :data:`VIEWS` (or to a tuple
concatenated into it), with ``requires`` naming the base tables, ``feed`` the change-feed prefix
that announces changes to them, and a description for the view and every column. Public views
are ``security_barrier`` views so that no predicate of a query is evaluated before their filter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger(__name__)

OWNER_SCHEMA = "query"
PUBLIC_SCHEMA = "query_public"
OWNER_ROLE = "folio_query"
PUBLIC_ROLE = "folio_query_public"
BASE_SCHEMAS = ("profile", "memory", "host", "projects", "docs", "demo", "query_state")

_CURRENT_RESUME = "(SELECT max(version) FROM profile.versions)"


@dataclass(frozen=True)
class View:
    name: str
    description: str
    requires: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    owner_sql: str | None
    public_sql: str | None = None
    feed: str = ""  # change-feed prefix of the base data ("memory://")
    example: str = ""  # one question → SQL example for the prompts

    def sql_for(self, public: bool) -> str | None:
        return self.public_sql if public else self.owner_sql


def _memories(public: bool) -> str:
    private = "" if public else "m.public, m.source_client, m.source_conversation AS conversation_id, "
    where = "m.valid_to IS NULL" + (" AND m.public" if public else "")
    return (
        "SELECT m.id, m.content, m.kind, m.tags, m.importance, "
        f"{private}m.created_at, m.valid_from, m.access_count, m.reinforced_count, "
        f"m.last_accessed_at, m.embedding, m.embedding_model FROM memory.memories m WHERE {where}"
    )


def _history(public: bool) -> str:
    where = " WHERE m.public" if public else ""
    return (
        "SELECT m.id, m.content, m.kind, m.tags, m.valid_from, m.valid_to, "
        "(m.valid_to IS NULL) AS is_current, m.superseded_by, m.supersede_reason, m.created_at "
        f"FROM memory.memories m{where}"
    )


def _sections(flag: str) -> str:
    return (
        f"SELECT c.section, c.path, c.text FROM profile.chunks c WHERE c.version = {_CURRENT_RESUME} "
        f"AND c.{flag} ORDER BY c.ord"
    )


_SKILLS = (
    "SELECT s.ord::integer AS skill_position, s.skill->>'name' AS name, s.skill->>'level' AS level, "
    "k.keyword FROM profile.versions v "
    "CROSS JOIN LATERAL jsonb_array_elements(COALESCE(v.document->'skills', '[]'::jsonb)) "
    "WITH ORDINALITY AS s(skill, ord) "
    "LEFT JOIN LATERAL jsonb_array_elements_text(COALESCE(s.skill->'keywords', '[]'::jsonb)) AS k(keyword) ON true "
    f"WHERE v.version = {_CURRENT_RESUME}"
)
_WORK = (
    "SELECT w.ord::integer AS entry_position, w.entry->>'name' AS organisation, w.entry->>'position' AS position, "
    "w.entry->>'startDate' AS start_date, w.entry->>'endDate' AS end_date, w.entry->>'summary' AS summary, "
    "COALESCE(w.entry->'highlights', '[]'::jsonb) AS highlights FROM profile.versions v "
    "CROSS JOIN LATERAL jsonb_array_elements(COALESCE(v.document->'work', '[]'::jsonb)) "
    "WITH ORDINALITY AS w(entry, ord) "
    f"WHERE v.version = {_CURRENT_RESUME}"
)

_MEMORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "Memory id (as in memory_recall)."),
    ("content", "The memory's text."),
    ("kind", "fact, preference, event or note."),
    ("tags", "Labels (text[]); test with 'work' = ANY(tags)."),
    ("importance", "0 (trivia) to 1 (essential)."),
    ("public", "Whether visitors may see it."),
    ("source_client", "The client that stored it, e.g. 'claude-desktop 1.0'."),
    ("conversation_id", "The conversation it came from, if known."),
    ("created_at", "When it was stored (timestamptz)."),
    ("valid_from", "Since when it holds."),
    ("access_count", "How often it was recalled."),
    ("reinforced_count", "How often it was stored again (reinforced)."),
    ("last_accessed_at", "When it was last recalled."),
    ("embedding", "Its vector (pgvector); compare with <=> (cosine distance) or <-> (L2)."),
    ("embedding_model", "The model that made the vector."),
)
_PUBLIC_HIDDEN = {"public", "source_client", "conversation_id"}

VIEWS: tuple[View, ...] = (
    View(
        "resume_sections",
        "The current résumé as searchable text units (a work highlight, a skill, an education entry …). "
        "For visitors: the redacted text, without contact details.",
        ("profile.chunks", "profile.versions"),
        (
            ("section", "Résumé section: basics, work, education, skills, projects, …"),
            ("path", "Where in the résumé document the text comes from, e.g. work/0/highlights/1."),
            ("text", "The text of that unit."),
        ),
        _sections("owner"),
        _sections("public"),
        feed="profile://",
        example="Which résumé sections mention Kubernetes? → SELECT section, text FROM resume_sections WHERE text ~* 'kubernetes'",
    ),
    View(
        "resume_skills",
        "Skills of the current résumé, one row per skill keyword (a skill without keywords has one row).",
        ("profile.versions",),
        (
            ("skill_position", "The skill's position in the résumé (1 = first)."),
            ("name", "Skill group, e.g. 'Platform Engineering'."),
            ("level", "Stated level, e.g. 'Expert'."),
            ("keyword", "One keyword of the skill, e.g. 'Kubernetes' (NULL if none)."),
        ),
        _SKILLS,
        _SKILLS,
        feed="profile://",
        example="Skills by number of keywords → SELECT name, count(keyword) FROM resume_skills GROUP BY name ORDER BY 2 DESC",
    ),
    View(
        "resume_work",
        "Work experience of the current résumé, one row per position.",
        ("profile.versions",),
        (
            ("entry_position", "Position in the résumé (1 = first listed)."),
            ("organisation", "Employer or organisation."),
            ("position", "Job title."),
            ("start_date", "Start date as written (YYYY-MM or YYYY-MM-DD)."),
            ("end_date", "End date as written; NULL while current."),
            ("summary", "Summary of the role."),
            ("highlights", "Highlights (jsonb array of strings); expand with jsonb_array_elements_text."),
        ),
        _WORK,
        _WORK,
        feed="profile://",
        example="Current positions → SELECT organisation, position FROM resume_work WHERE end_date IS NULL",
    ),
    View(
        "resume_versions",
        "Every stored version of the résumé (imports, updates, rollbacks).",
        ("profile.versions",),
        (
            ("version", "Version number (the highest is current)."),
            ("action", "import, update or rollback."),
            ("source", "Where it came from (a file path), if known."),
            ("created_at", "When it was stored."),
        ),
        "SELECT version, action, source, created_at FROM profile.versions",
        None,
        feed="profile://",
    ),
    View(
        "memories",
        "Current memories (not superseded). For visitors: only memories marked public.",
        ("memory.memories",),
        _MEMORY_COLUMNS,
        _memories(False),
        _memories(True),
        feed="memory://",
        example="What did I say about Kubernetes this year? → SELECT created_at, content FROM memories "
        "WHERE content ~* 'kubernetes' AND created_at >= date_trunc('year', now()) ORDER BY created_at",
    ),
    View(
        "memory_history",
        "Every version of every memory, current and superseded, with when it held.",
        ("memory.memories",),
        (
            ("id", "Memory id."),
            ("content", "The text of that version."),
            ("kind", "fact, preference, event or note."),
            ("tags", "Labels (text[])."),
            ("valid_from", "Since when it held."),
            ("valid_to", "Until when it held (NULL: still current)."),
            ("is_current", "Whether this version is current."),
            ("superseded_by", "Id of the memory that replaced it."),
            ("supersede_reason", "Why it changed."),
            ("created_at", "When it was stored."),
        ),
        _history(False),
        _history(True),
        feed="memory://",
    ),
    View(
        "graph_entities",
        "Knowledge-graph entities with their number of observations.",
        ("memory.entities", "memory.observations"),
        (
            ("name", "Entity name (unique)."),
            ("entity_type", "Entity type, e.g. person, project."),
            ("observation_count", "How many observations it has."),
            ("created_at", "When it was created."),
        ),
        "SELECT e.name, e.entity_type, (SELECT count(*) FROM memory.observations o "
        "WHERE o.entity_name = e.name) AS observation_count, e.created_at FROM memory.entities e",
        None,
        feed="memory://",
    ),
    View(
        "graph_observations",
        "Observations attached to knowledge-graph entities.",
        ("memory.observations",),
        (
            ("entity_name", "The entity."),
            ("content", "The observation."),
            ("created_at", "When it was added."),
        ),
        "SELECT entity_name, content, created_at FROM memory.observations",
        None,
        feed="memory://",
    ),
    View(
        "graph_relations",
        "Knowledge-graph relations, in active voice (from_name relation_type to_name).",
        ("memory.relations",),
        (
            ("from_name", "Source entity."),
            ("relation_type", "The relation, e.g. works_at."),
            ("to_name", "Target entity."),
            ("created_at", "When it was added."),
        ),
        "SELECT from_name, relation_type, to_name, created_at FROM memory.relations",
        None,
        feed="memory://",
    ),
    View(
        "host_conversations",
        "Conversations held through the folio orchestrator.",
        ("host.conversations", "host.messages"),
        (
            ("id", "Conversation id (uuid)."),
            ("title", "Title, if any."),
            ("model", "The chat model used."),
            ("audience", "owner or public."),
            ("message_count", "Number of messages."),
            ("created_at", "When it started."),
            ("updated_at", "Last activity."),
        ),
        "SELECT c.id, c.title, c.model, c.audience, (SELECT count(*) FROM host.messages m "
        "WHERE m.conversation_id = c.id) AS message_count, c.created_at, c.updated_at FROM host.conversations c",
        None,
        feed="host://",
    ),
    View(
        "host_messages",
        "Messages of the orchestrator's conversations.",
        ("host.messages",),
        (
            ("conversation_id", "The conversation (host_conversations.id)."),
            ("seq", "Order within the conversation."),
            ("role", "user, assistant or tool."),
            ("content", "The message content (jsonb)."),
            ("created_at", "When it was sent."),
        ),
        "SELECT conversation_id, seq, role, content, created_at FROM host.messages",
        None,
        feed="host://",
    ),
    View(
        "host_tool_calls",
        "Every tool call the orchestrator made for a conversation, with its outcome and duration.",
        ("host.tool_calls",),
        (
            ("id", "Call id."),
            ("conversation_id", "The conversation, if any."),
            ("server", "The server that ran the tool, e.g. memory."),
            ("tool", "The tool name, e.g. memory_recall."),
            ("arguments", "The arguments (jsonb)."),
            ("outcome", "ok, error, cancelled or timeout."),
            ("duration_ms", "How long it took (milliseconds)."),
            ("created_at", "When it ran."),
        ),
        "SELECT id, conversation_id, server, tool, arguments, outcome, duration_ms, created_at FROM host.tool_calls",
        None,
        feed="host://",
        example="Tools called most last week → SELECT server, tool, count(*) FROM host_tool_calls "
        "WHERE created_at >= now() - interval '7 days' GROUP BY 1, 2 ORDER BY 3 DESC",
    ),
    View(
        "host_model_usage",
        "Language-model usage (tokens, cost, latency) by conversation, purpose and server.",
        ("host.model_usage",),
        (
            ("id", "Usage record id."),
            ("conversation_id", "The conversation, if any."),
            ("provider", "anthropic, openai, …"),
            ("model", "The model."),
            ("input_tokens", "Prompt tokens."),
            ("output_tokens", "Completion tokens."),
            ("cost_usd", "Cost in US dollars (numeric), if known."),
            ("latency_ms", "Latency (milliseconds)."),
            ("purpose", "chat, sampling or summary."),
            ("server", "For sampling: the server that asked."),
            ("created_at", "When it happened."),
        ),
        "SELECT id, conversation_id, provider, model, input_tokens, output_tokens, cost_usd, latency_ms, "
        "purpose, server, created_at FROM host.model_usage",
        None,
        feed="host://",
        example="Cost per model last week → SELECT model, sum(cost_usd) FROM host_model_usage "
        "WHERE created_at >= now() - interval '7 days' GROUP BY model",
    ),
)


# --------------------------------------------------------------------------- projects (folio-projects)

_PROJECTS = ("projects.repositories", "projects.commits", "projects.extensions")
"""projects.extensions comes with the migration that records which repositories are public."""


def _public_repo(alias: str, public: bool) -> str:
    return f" JOIN projects.repositories r ON r.name = {alias}.repo AND r.public" if public else ""


def _repositories(public: bool) -> str:
    flag = "" if public else "r.public, "
    return (
        f"SELECT r.name, r.description, r.tags, {flag}r.head, r.scanned_at, COALESCE(s.commits, 0) AS commits, "
        "COALESCE(s.owner_commits, 0) AS owner_commits, s.first_commit, s.last_commit FROM projects.repositories r "
        "LEFT JOIN LATERAL (SELECT count(*) AS commits, count(*) FILTER (WHERE c.is_owner) AS owner_commits, "
        "min(c.authored_at) AS first_commit, max(c.authored_at) AS last_commit FROM projects.commits c "
        "WHERE c.repo = r.name AND NOT c.is_merge AND NOT c.is_bot) s ON true"
        + (" WHERE r.public" if public else "")
    )


def _commits(public: bool) -> str:
    email = "" if public else "c.email, "
    return (
        f"SELECT c.repo, c.sha, c.author, {email}c.authored_at, c.tz_minutes, c.is_merge, c.is_bot, c.is_reformat, "
        f"c.is_owner, c.added, c.removed, c.subject FROM projects.commits c{_public_repo('c', public)}"
    )


def _file_changes(public: bool) -> str:
    return (
        "SELECT f.repo, f.sha, f.path, f.old_path, x.language, f.added, f.removed FROM projects.file_changes f"
        f"{_public_repo('f', public)} LEFT JOIN projects.extensions x "
        "ON x.extension = lower(substring(f.path from '\\.[^./]*$'))"
    )


def _files(public: bool) -> str:
    return (
        "SELECT f.repo, f.path, f.language, f.code, f.comment, f.blank, f.complexity FROM projects.files f"
        f"{_public_repo('f', public)}"
    )


PROJECT_VIEWS: tuple[View, ...] = (
    View(
        "project_repositories",
        "The owner's git repositories as configured in projects.yaml, with their scanned history "
        "(commit counts leave merges and bots out). For visitors: public repositories only.",
        _PROJECTS,
        (
            ("name", "Repository name (as in projects_list)."),
            ("description", "Description from projects.yaml."),
            ("tags", "Tags from projects.yaml (text[])."),
            ("public", "Whether visitors may see it."),
            ("head", "The scanned HEAD commit (NULL: not scanned yet or empty)."),
            ("scanned_at", "When it was last scanned."),
            ("commits", "Commits, merges and bots left out."),
            ("owner_commits", "Of those, commits by the owner."),
            ("first_commit", "Date of the first commit."),
            ("last_commit", "Date of the latest commit."),
        ),
        _repositories(False),
        _repositories(True),
        feed="projects://",
        example="Which repositories did I work on most? → SELECT name, owner_commits FROM project_repositories "
        "ORDER BY owner_commits DESC",
    ),
    View(
        "project_commits",
        "Every scanned commit, authors after .mailmap; bots, merges and reformat commits are flagged, not removed.",
        _PROJECTS,
        (
            ("repo", "Repository (project_repositories.name)."),
            ("sha", "Commit hash."),
            ("author", "Author name (after .mailmap)."),
            ("email", "Author e-mail (after .mailmap)."),
            ("authored_at", "When it was written (timestamptz)."),
            ("tz_minutes", "The author's UTC offset in minutes."),
            ("is_merge", "A merge commit."),
            ("is_bot", "Made by a bot (dependabot, renovate …)."),
            ("is_reformat", "A mass reformat listed in projects.yaml."),
            ("is_owner", "Made by the owner (identities in projects.yaml)."),
            ("added", "Lines added."),
            ("removed", "Lines removed."),
            ("subject", "The first line of the message."),
        ),
        _commits(False),
        _commits(True),
        feed="projects://",
        example="My commits per month this year → SELECT date_trunc('month', authored_at) AS month, count(*) "
        "FROM project_commits WHERE is_owner AND NOT is_merge AND authored_at >= date_trunc('year', now()) "
        "GROUP BY 1 ORDER BY 1",
    ),
    View(
        "project_file_changes",
        "Files changed by each commit, with lines added and removed (renames: old_path is the former name).",
        (*_PROJECTS, "projects.file_changes"),
        (
            ("repo", "Repository."),
            ("sha", "The commit (project_commits.sha)."),
            ("path", "The file's path after the commit."),
            ("old_path", "Its former path when the commit renamed it."),
            ("language", "Language by file extension (NULL: not a counted language)."),
            ("added", "Lines added (0 for binary files)."),
            ("removed", "Lines removed."),
        ),
        _file_changes(False),
        _file_changes(True),
        feed="projects://",
    ),
    View(
        "project_files",
        "Files at each repository's HEAD with lines of code, comments and blanks, and a complexity figure "
        "(generated and vendored files left out).",
        (*_PROJECTS, "projects.files"),
        (
            ("repo", "Repository."),
            ("path", "File path."),
            ("language", "Language, e.g. Python, Rust."),
            ("code", "Lines of code."),
            ("comment", "Comment lines."),
            ("blank", "Blank lines."),
            (
                "complexity",
                "Cyclomatic complexity (lizard: the sum over its functions; 0 for non-code; NULL until projects_hotspots measures it).",
            ),
        ),
        _files(False),
        _files(True),
        feed="projects://",
        example="Which résumé skills show in none of my repositories' languages? → SELECT DISTINCT s.keyword "
        "FROM resume_skills s WHERE s.keyword IS NOT NULL AND NOT EXISTS (SELECT 1 FROM project_files f "
        "WHERE lower(f.language) = lower(s.keyword))",
    ),
)

# --------------------------------------------------------------------------- documents (folio-resources)


def _documents(public: bool) -> str:
    flag = "" if public else "d.public, d.confirm, "
    return (
        f"SELECT d.path, d.kind, d.mime, d.title, d.size, to_timestamp(d.mtime_ns / 1e9) AS modified_at, {flag}"
        "d.meta, d.chunk_count, d.indexed_at FROM docs.documents d" + (" WHERE d.public" if public else "")
    )


DOCUMENT_VIEWS: tuple[View, ...] = (
    View(
        "documents",
        "The owner's documents (Markdown, text, HTML, PDF …) as indexed by the resources server: metadata only; "
        "read a document's text with docs_read. For visitors: public documents only.",
        ("docs.documents",),
        (
            (
                "path",
                "Path under the documents root, e.g. talks/kubernetes.md (the resource is docs://<path>).",
            ),
            ("kind", "markdown, text, html, pdf, binary or unreadable."),
            ("mime", "MIME type."),
            ("title", "Title (front matter, HTML <title>, PDF metadata or first heading)."),
            ("size", "Size in bytes."),
            ("modified_at", "When the file last changed."),
            ("public", "Whether visitors may see it."),
            ("confirm", "Whether reading it asks the owner first."),
            ("meta", "Front matter and other metadata (jsonb), e.g. meta->>'date', meta->'tags'."),
            ("chunk_count", "How many search chunks it was split into."),
            ("indexed_at", "When it was last indexed."),
        ),
        _documents(False),
        _documents(True),
        feed="docs://",
        example="My documents by kind → SELECT kind, count(*), sum(size) FROM documents GROUP BY kind",
    ),
)

VIEWS = VIEWS + PROJECT_VIEWS + DOCUMENT_VIEWS


_PUBLIC_HIDDEN_BY_VIEW = {
    "memories": _PUBLIC_HIDDEN,
    "project_repositories": {"public"},
    "project_commits": {"email"},
    "documents": {"public", "confirm"},
}


def view_columns(view: View, public: bool) -> tuple[tuple[str, str], ...]:
    hidden = _PUBLIC_HIDDEN_BY_VIEW.get(view.name, set()) if public else set()
    return tuple(c for c in view.columns if c[0] not in hidden)


def schema_for(public: bool) -> str:
    return PUBLIC_SCHEMA if public else OWNER_SCHEMA


def role_for(public: bool) -> str:
    return PUBLIC_ROLE if public else OWNER_ROLE


class LayerError(RuntimeError):
    """The layer or its roles are not usable; the message says what an administrator must run."""


def _quote(ident: str) -> str:
    return '"' + ident.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


async def _exists(conn: Any, table: str) -> bool:
    row = await (await conn.execute("SELECT to_regclass(%s) IS NOT NULL AS ok", (table,))).fetchone()
    return bool(row and row["ok"])


async def _may_manage_roles(conn: Any) -> bool:
    row = await (
        await conn.execute(
            "SELECT rolsuper OR rolcreaterole AS ok FROM pg_roles WHERE rolname = current_user"
        )
    ).fetchone()
    return bool(row and row["ok"])


async def _ensure_role(conn: Any, role: str) -> None:
    import psycopg

    row = await (await conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))).fetchone()
    if row is not None:
        return
    try:
        async with conn.transaction():  # a savepoint: another database's server may create it first
            await conn.execute(f"CREATE ROLE {_quote(role)} NOLOGIN NOINHERIT")
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        pass


async def sync_layer(conn: Any, views: Sequence[View] = VIEWS) -> dict[bool, list[str]]:
    """Create or refresh every view whose base tables exist, grant the reader roles, check them.

    Returns the created view names per audience (``True``: public). Runs under an advisory lock,
    so server processes starting together do not race.
    """
    import psycopg

    manage = await _may_manage_roles(conn)
    if manage:
        for role in (OWNER_ROLE, PUBLIC_ROLE):
            await _ensure_role(conn, role)
    created: dict[bool, list[str]] = {False: [], True: []}
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('folio:query-layer'))")
        for view in views:
            present = [await _exists(conn, t) for t in view.requires]
            for public in (False, True):
                sql = view.sql_for(public)
                schema = schema_for(public)
                target = f"{schema}.{_quote(view.name)}"
                if sql is None:
                    continue
                if not all(present):
                    log.info("view skipped: base tables missing", view=view.name, requires=view.requires)
                    continue
                options = " WITH (security_barrier)" if public else ""
                create = f"CREATE OR REPLACE VIEW {target}{options} AS {sql}"
                try:
                    async with conn.transaction():
                        try:
                            async with conn.transaction():
                                await conn.execute(create)
                        except psycopg.errors.InvalidTableDefinition:  # columns changed: replace it whole
                            await conn.execute(f"DROP VIEW IF EXISTS {target}")
                            await conn.execute(create)
                except (psycopg.errors.UndefinedColumn, psycopg.errors.UndefinedTable) as exc:
                    # the package's own migrations are still running (servers starting together)
                    log.info(
                        "view skipped: base tables not ready", view=view.name, error=str(exc).splitlines()[0]
                    )
                    continue
                await conn.execute(f"COMMENT ON VIEW {target} IS {_literal(view.description)}")
                for column, text in view_columns(view, public):
                    await conn.execute(f"COMMENT ON COLUMN {target}.{_quote(column)} IS {_literal(text)}")
                created[public].append(view.name)
        if manage:
            for public in (False, True):
                schema, role = schema_for(public), role_for(public)
                await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
                await conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
                usable = await (
                    await conn.execute("SELECT pg_has_role(current_user, %s, 'USAGE') AS ok", (role,))
                ).fetchone()
                if not (usable and usable["ok"]):  # a CREATEROLE login is not a member of what it created
                    await conn.execute(f"GRANT {role} TO current_user")
    await check_roles(conn)
    return created


async def check_roles(conn: Any) -> None:
    """Refuse to serve when a reader role is missing, unusable by this login, or can reach more
    than its own schema. The message holds the SQL an administrator runs once."""
    for public in (False, True):
        role, schema = role_for(public), schema_for(public)
        row = await (
            await conn.execute(
                "SELECT r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolbypassrls, "
                "pg_has_role(current_user, r.oid, 'USAGE') AS can_use "
                "FROM pg_roles r WHERE r.rolname = %s",
                (role,),
            )
        ).fetchone()
        setup = (
            f"CREATE ROLE {role} NOLOGIN NOINHERIT; GRANT USAGE ON SCHEMA {schema} TO {role}; "
            f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}; GRANT {role} TO <folio's login role>;"
        )
        if row is None:
            raise LayerError(f"the query reader role {role} does not exist. An administrator runs: {setup}")
        if not row["can_use"]:
            raise LayerError(
                f"this login cannot act as {role}. An administrator runs: GRANT {role} TO current_user"
            )
        if row["rolsuper"] or row["rolcreaterole"] or row["rolcreatedb"] or row["rolbypassrls"]:
            raise LayerError(f"{role} must be a plain role (no SUPERUSER, CREATEROLE, CREATEDB, BYPASSRLS)")
        reach = await (
            await conn.execute(
                "SELECT n.nspname FROM pg_namespace n WHERE n.nspname = ANY(%s) "
                "AND (has_schema_privilege(%s, n.oid, 'USAGE') OR has_schema_privilege(%s, n.oid, 'CREATE'))",
                (
                    [*BASE_SCHEMAS, OWNER_SCHEMA if public else PUBLIC_SCHEMA],
                    role,
                    role,
                ),
            )
        ).fetchall()
        if reach:
            names = ", ".join(r["nspname"] for r in reach)
            raise LayerError(
                f"{role} can reach schema(s) {names}; it may only read {schema}. "
                f"An administrator runs: REVOKE ALL ON SCHEMA {names} FROM {role}"
            )
        create = await (
            await conn.execute("SELECT has_schema_privilege(%s, %s, 'CREATE') AS c", (role, schema))
        ).fetchone()
        if create and create["c"]:
            raise LayerError(
                f"{role} may create objects in {schema}; REVOKE CREATE ON SCHEMA {schema} FROM {role}"
            )


async def present_views(conn: Any, public: bool) -> list[str]:
    """The layer's views that exist now, in :data:`VIEWS` order."""
    rows = await (
        await conn.execute(
            "SELECT table_name AS name FROM information_schema.views WHERE table_schema = %s",
            (schema_for(public),),
        )
    ).fetchall()
    have = {r["name"] for r in rows}
    return [v.name for v in VIEWS if v.name in have and v.sql_for(public) is not None]


async def views_now_possible(conn: Any, missing: Sequence[str]) -> bool:
    """Whether every base table of at least one of the ``missing`` views exists now."""
    wanted = [v for v in VIEWS if v.name in missing]
    tables = sorted({t for v in wanted for t in v.requires})
    if not tables:
        return False
    rows = await (
        await conn.execute(
            "SELECT t AS name FROM unnest(%s::text[]) AS t WHERE to_regclass(t) IS NOT NULL", (tables,)
        )
    ).fetchall()
    present = {r["name"] for r in rows}
    return any(set(v.requires) <= present for v in wanted)


def view_named(name: str) -> View | None:
    return next((v for v in VIEWS if v.name == name), None)
