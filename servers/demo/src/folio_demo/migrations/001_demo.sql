-- The demo server: a record of every run (what ran, who asked, how it ended).
CREATE SCHEMA IF NOT EXISTS demo;

CREATE TABLE IF NOT EXISTS demo.runs (
    id          text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('demo', 'snippet')),
    demo        text,
    language    text NOT NULL,
    audience    text NOT NULL,
    inputs      jsonb,
    status      text NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'cancelled')),
    cached      boolean NOT NULL DEFAULT false,
    result      jsonb,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

CREATE INDEX IF NOT EXISTS runs_started_at ON demo.runs (started_at DESC);
