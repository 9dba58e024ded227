-- The tables that cannot be rebuilt from the log, as Trail first made them. IF NOT EXISTS: a
-- database made before migrations existed is adopted as it is.

CREATE TABLE IF NOT EXISTS credentials (
    user_id uuid PRIMARY KEY,
    password_hash text NOT NULL,
    changed_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS password_reset_tokens (
    token_digest text PRIMARY KEY,
    user_id uuid NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);
CREATE INDEX IF NOT EXISTS password_reset_tokens_user ON password_reset_tokens (user_id);

CREATE TABLE IF NOT EXISTS ticket_numbers (
    project_id uuid PRIMARY KEY,
    last_number integer NOT NULL
);

CREATE TABLE IF NOT EXISTS api_idempotency_keys (
    caller text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    status integer,
    headers jsonb,
    body bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);
CREATE INDEX IF NOT EXISTS api_idempotency_keys_created ON api_idempotency_keys (created_at);
