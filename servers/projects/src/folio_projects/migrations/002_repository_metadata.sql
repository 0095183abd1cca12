-- What projects.yaml says of a repository, kept beside its scan state so that other readers of
-- the database (the query layer, the profile server's job matching) know what is public.
ALTER TABLE projects.repositories
    ADD COLUMN description text NOT NULL DEFAULT '',
    ADD COLUMN tags        text[] NOT NULL DEFAULT '{}',
    ADD COLUMN public      boolean NOT NULL DEFAULT false;

-- The language of a file extension, as the line counter knows it (refreshed at every start), so that
-- SQL readers can name the language of any path in the history, not only of files still at HEAD.
CREATE TABLE projects.extensions (
    extension text PRIMARY KEY,   -- with its dot, lower-case: '.rs'
    language  text NOT NULL
);
