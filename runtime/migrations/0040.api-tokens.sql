-- API tokens: the SHA-256 digest of each token, never the token. Issuing and revoking are
-- events (`ApiTokens.Issued`, `ApiTokens.Revoked`); this table is what a request is checked
-- against. `last_used_at` is refreshed at most once a minute per token.
CREATE TABLE api_tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    digest text NOT NULL UNIQUE,
    expires_at timestamptz,
    revoked_at timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
