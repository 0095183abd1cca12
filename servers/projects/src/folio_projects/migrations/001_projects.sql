CREATE SCHEMA IF NOT EXISTS projects;

-- One row per configured repository; head is the last scanned tip (NULL: never scanned).
CREATE TABLE projects.repositories (
    name        text PRIMARY KEY,
    path        text NOT NULL,
    head        text,
    scanned_at  timestamptz,
    generation  integer NOT NULL DEFAULT 0
);

CREATE TABLE projects.commits (
    repo        text NOT NULL REFERENCES projects.repositories (name) ON DELETE CASCADE,
    sha         text NOT NULL,
    author      text NOT NULL,
    email       text NOT NULL,
    authored_at timestamptz NOT NULL,
    tz_minutes  integer NOT NULL,
    is_merge    boolean NOT NULL,
    is_bot      boolean NOT NULL,
    is_reformat boolean NOT NULL,
    is_owner    boolean NOT NULL,
    added       integer NOT NULL,
    removed     integer NOT NULL,
    subject     text NOT NULL,
    PRIMARY KEY (repo, sha)
);
CREATE INDEX commits_repo_time ON projects.commits (repo, authored_at);

CREATE TABLE projects.file_changes (
    repo        text NOT NULL,
    sha         text NOT NULL,
    seq         integer NOT NULL,
    path        text NOT NULL,
    old_path    text,
    added       integer NOT NULL,
    removed     integer NOT NULL,
    PRIMARY KEY (repo, sha, seq),
    FOREIGN KEY (repo, sha) REFERENCES projects.commits (repo, sha) ON DELETE CASCADE
);

-- Lines of code at HEAD, per file (generated and vendored files left out).
CREATE TABLE projects.files (
    repo        text NOT NULL REFERENCES projects.repositories (name) ON DELETE CASCADE,
    path        text NOT NULL,
    language    text NOT NULL,
    code        integer NOT NULL,
    comment     integer NOT NULL,
    blank       integer NOT NULL,
    complexity  integer NOT NULL,
    blob        text NOT NULL,
    PRIMARY KEY (repo, path)
);
