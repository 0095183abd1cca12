-- The orchestrator's own records: conversations, their messages, tool calls and model usage.
CREATE SCHEMA IF NOT EXISTS host;

CREATE TABLE host.conversations (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    title       text,
    model       text,
    audience    text        NOT NULL DEFAULT 'owner',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE host.messages (
    id               bigserial   PRIMARY KEY,
    conversation_id  uuid        NOT NULL REFERENCES host.conversations (id) ON DELETE CASCADE,
    seq              integer     NOT NULL,
    role             text        NOT NULL CHECK (role IN ('user', 'assistant', 'tool')),
    content          jsonb       NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, seq)
);

CREATE TABLE host.tool_calls (
    id               bigserial   PRIMARY KEY,
    conversation_id  uuid        REFERENCES host.conversations (id) ON DELETE CASCADE,
    call_id          text,
    server           text        NOT NULL,
    tool             text        NOT NULL,
    arguments        jsonb       NOT NULL,
    outcome          text        NOT NULL CHECK (outcome IN ('ok', 'error', 'cancelled', 'timeout')),
    result           text,
    duration_ms      double precision NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tool_calls_conversation ON host.tool_calls (conversation_id);

CREATE TABLE host.model_usage (
    id               bigserial   PRIMARY KEY,
    conversation_id  uuid        REFERENCES host.conversations (id) ON DELETE SET NULL,
    provider         text        NOT NULL,
    model            text        NOT NULL,
    input_tokens     integer     NOT NULL CHECK (input_tokens >= 0),
    output_tokens    integer     NOT NULL CHECK (output_tokens >= 0),
    cost_usd         numeric(14, 6),
    latency_ms       double precision NOT NULL,
    purpose          text        NOT NULL CHECK (purpose IN ('chat', 'sampling', 'summary')),
    server           text,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_usage_created ON host.model_usage (created_at);
