-- The owner's documents as indexed: one row per visible file, its search chunks with vectors
-- and full text. Rows follow the files (a watcher and a sync at start); content hashes make the
-- indexing incremental.
CREATE SCHEMA IF NOT EXISTS docs;

CREATE TABLE docs.documents (
    path          text        PRIMARY KEY,
    kind          text        NOT NULL CHECK (kind IN ('markdown', 'text', 'html', 'pdf', 'binary', 'unreadable')),
    mime          text        NOT NULL,
    title         text,
    size          bigint      NOT NULL,
    mtime_ns      bigint      NOT NULL,
    content_hash  text,
    public        boolean     NOT NULL DEFAULT false,
    confirm       boolean     NOT NULL DEFAULT false,
    meta          jsonb       NOT NULL DEFAULT '{}',
    text          text,
    problem       text,
    chunk_count   integer     NOT NULL DEFAULT 0,
    indexed_at    timestamptz NOT NULL DEFAULT now()
);

-- Vectors are dimension-free: start-up creates a partial HNSW expression index for the
-- configured embedder (as the memory schema does). `public` is copied from the document so a
-- public search filters on the chunk itself.
CREATE TABLE docs.chunks (
    path             text     NOT NULL REFERENCES docs.documents (path) ON DELETE CASCADE,
    ord              integer  NOT NULL,
    start_offset     integer  NOT NULL,
    end_offset       integer  NOT NULL,
    location         text     NOT NULL,
    text             text     NOT NULL,
    public           boolean  NOT NULL,
    embedding        vector   NOT NULL,
    embedding_model  text     NOT NULL,
    tsv              tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    PRIMARY KEY (path, ord)
);
CREATE INDEX chunks_tsv ON docs.chunks USING gin (tsv);
