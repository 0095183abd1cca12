-- Long-term memories with validity (history is never rewritten), an audit trail without content,
-- and a knowledge graph compatible with @modelcontextprotocol/server-memory.
CREATE SCHEMA IF NOT EXISTS memory;

CREATE TABLE memory.meta (
    key    text  PRIMARY KEY,
    value  jsonb NOT NULL
);

-- Vectors are dimension-free here: the configured embedder decides the dimension, and start-up
-- creates one partial HNSW expression index per (model, dimension) on
-- (embedding::vector(dim)) WHERE embedding_model = '<model>'. Each vector records its model.
CREATE TABLE memory.memories (
    id                   bigserial   PRIMARY KEY,
    content              text        NOT NULL CHECK (char_length(content) BETWEEN 1 AND 10000),
    content_hash         text        NOT NULL,
    kind                 text        NOT NULL CHECK (kind IN ('fact', 'preference', 'event', 'note')),
    tags                 text[]      NOT NULL DEFAULT '{}',
    importance           real        NOT NULL DEFAULT 0.5 CHECK (importance BETWEEN 0 AND 1),
    public               boolean     NOT NULL DEFAULT false,
    source_client        text,
    source_conversation  text,
    embedding            vector      NOT NULL,
    embedding_model      text        NOT NULL,
    tsv                  tsvector    GENERATED ALWAYS AS (to_tsvector('english', content)) STORED,
    created_at           timestamptz NOT NULL DEFAULT now(),
    valid_from           timestamptz NOT NULL DEFAULT now(),
    valid_to             timestamptz,
    superseded_by        bigint      REFERENCES memory.memories (id) ON DELETE SET NULL,
    supersede_reason     text,
    derived_from         bigint[]    NOT NULL DEFAULT '{}',
    consolidated_into    bigint      REFERENCES memory.memories (id) ON DELETE SET NULL,
    last_accessed_at     timestamptz,
    access_count         integer     NOT NULL DEFAULT 0,
    reinforced_count     integer     NOT NULL DEFAULT 0,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
) WITH (fillfactor = 90);  -- room for in-page (HOT) updates of the access counters
-- Two writers storing the same text at once cannot both create a current memory.
CREATE UNIQUE INDEX memories_current_content ON memory.memories (content_hash) WHERE valid_to IS NULL;
-- fastupdate off: no pending list for every query to scan linearly (memories are written one at a time)
CREATE INDEX memories_tsv ON memory.memories USING gin (tsv) WITH (fastupdate = off);
CREATE INDEX memories_tags ON memory.memories USING gin (tags);
CREATE INDEX memories_created ON memory.memories (created_at DESC);
CREATE INDEX memories_kind_current ON memory.memories (kind) WHERE valid_to IS NULL;

-- What happened to which memory, by which client. Never holds memory content: forgetting a memory
-- also clears the notes of its rows.
CREATE TABLE memory.audit (
    id          bigserial   PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    action      text        NOT NULL CHECK (action IN
                    ('remember', 'reinforce', 'update', 'supersede', 'consolidate', 'forget', 'reembed')),
    memory_id   bigint      NOT NULL,
    related_id  bigint,
    client      text,
    note        text
);
CREATE INDEX audit_memory ON memory.audit (memory_id);

-- The knowledge graph (same model as the reference server: entities with observations, relations
-- in active voice). Relations are not foreign keys: like the reference, a relation may name an
-- entity that does not exist (yet); deleting an entity deletes its relations.
CREATE TABLE memory.entities (
    name         text        PRIMARY KEY CHECK (char_length(name) BETWEEN 1 AND 500),
    entity_type  text        NOT NULL,
    -- the vector of "name (type)", so entities without observations are found by meaning too
    embedding        vector  NOT NULL,
    embedding_model  text    NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memory.observations (
    id               bigserial   PRIMARY KEY,
    entity_name      text        NOT NULL REFERENCES memory.entities (name) ON DELETE CASCADE ON UPDATE CASCADE,
    content          text        NOT NULL,
    embedding        vector      NOT NULL,
    embedding_model  text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX observations_unique ON memory.observations (entity_name, md5(content));

CREATE TABLE memory.relations (
    from_name      text        NOT NULL CHECK (char_length(from_name) BETWEEN 1 AND 500),
    to_name        text        NOT NULL CHECK (char_length(to_name) BETWEEN 1 AND 500),
    relation_type  text        NOT NULL CHECK (char_length(relation_type) BETWEEN 1 AND 500),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (from_name, to_name, relation_type)
);
CREATE INDEX relations_to ON memory.relations (to_name);
CREATE INDEX observations_entity ON memory.observations (entity_name);
