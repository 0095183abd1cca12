-- folio serve: API tokens (stored as SHA-256 hashes) and who may read a conversation.
CREATE TABLE host.api_tokens (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name          text        NOT NULL,
    token_hash    text        NOT NULL UNIQUE,
    audience      text        NOT NULL CHECK (audience IN ('owner', 'public')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    last_used_at  timestamptz
);

-- 'visitor:<hash of the visitor cookie>' or 'token:<token id>'; NULL for the terminal's conversations.
ALTER TABLE host.conversations ADD COLUMN principal text;
CREATE INDEX conversations_principal ON host.conversations (principal);
