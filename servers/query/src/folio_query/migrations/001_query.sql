-- The query server's schemas: the curated read-only layer (views created at start, when their base
-- tables exist: see folio_query/layer.py), its public variant, and the server's own state.
CREATE SCHEMA IF NOT EXISTS query;
CREATE SCHEMA IF NOT EXISTS query_public;
CREATE SCHEMA IF NOT EXISTS query_state;

COMMENT ON SCHEMA query IS 'Folio''s curated read-only layer for the owner (views; read by role folio_query)';
COMMENT ON SCHEMA query_public IS 'Folio''s read-only layer for visitors: public data only (read by role folio_query_public)';

-- Saved queries: their result resource query://saved/{name} re-runs the SQL on every read.
CREATE TABLE query_state.saved (
    name        text        PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
    sql         text        NOT NULL,
    relations   text[]      NOT NULL DEFAULT '{}',
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
