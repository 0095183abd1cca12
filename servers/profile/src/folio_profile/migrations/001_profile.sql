-- The owner's résumé as numbered, immutable versions; search chunks of each version; an audit trail.
CREATE SCHEMA IF NOT EXISTS profile;

CREATE TABLE profile.versions (
    version     integer     PRIMARY KEY CHECK (version > 0),
    document    jsonb       NOT NULL,
    digest      text        NOT NULL,
    action      text        NOT NULL CHECK (action IN ('import', 'update', 'rollback')),
    source      text,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Search chunks of a version. Vectors carry the model that made them; a query is only ever
-- compared with vectors of its own model. Dimension-free column: the model decides it.
CREATE TABLE profile.chunks (
    version          integer NOT NULL REFERENCES profile.versions (version) ON DELETE CASCADE,
    ord              integer NOT NULL,
    section          text    NOT NULL,
    path             text    NOT NULL,
    text             text    NOT NULL,
    public           boolean NOT NULL,
    embedding        vector  NOT NULL,
    embedding_model  text    NOT NULL,
    tsv              tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    PRIMARY KEY (version, ord)
);
CREATE INDEX chunks_tsv ON profile.chunks USING gin (tsv);

CREATE TABLE profile.audit (
    id                bigserial   PRIMARY KEY,
    at                timestamptz NOT NULL DEFAULT now(),
    action            text        NOT NULL CHECK (action IN ('import', 'update', 'rollback')),
    version           integer     NOT NULL REFERENCES profile.versions (version),
    previous_version  integer,
    client            text,
    reason            text,
    diff              jsonb       NOT NULL
);

CREATE TABLE profile.meta (
    key    text  PRIMARY KEY,
    value  jsonb NOT NULL
);
