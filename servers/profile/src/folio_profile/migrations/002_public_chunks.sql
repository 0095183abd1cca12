-- Public search chunks of their own: the text of the redacted résumé (scrubbed of every private
-- value the owner has had) when it differs from the owner's. A row is searched by the owner when
-- `owner`, by the public when `public`. Existing rows are the owner's; the server re-indexes the
-- current version on its next start (profile.meta 'index_format').
ALTER TABLE profile.chunks ADD COLUMN owner boolean NOT NULL DEFAULT true;
