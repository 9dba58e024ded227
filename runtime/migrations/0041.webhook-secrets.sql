-- Each webhook's signing secret, sealed (outbound/sealing.py): the webhook's configuration is
-- in its events, the secret never is.
CREATE TABLE webhook_secrets (
    webhook_id uuid PRIMARY KEY,
    sealed text NOT NULL
);
