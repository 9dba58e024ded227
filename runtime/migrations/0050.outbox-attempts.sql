-- Email delivery records each attempt before it sends (status 'sending', attempted_at), tells an
-- SMTP outage from a refusal of one email (outage), and lets a send that works release the emails
-- that outage deferred (released). On a database whose outbox is not installed yet there is
-- nothing to change: projections/outbox/schema.py has all of it.

DO $$
DECLARE live text;
BEGIN
    IF to_regclass('public.projection_versions') IS NULL THEN
        RETURN;
    END IF;
    SELECT 'rm_outbox_v' || version INTO live FROM public.projection_versions WHERE name = 'outbox';
    IF live IS NULL OR to_regclass(format('%I.outbox', live)) IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format('ALTER TABLE %I.outbox ADD COLUMN IF NOT EXISTS attempted_at timestamptz',
                   live);
    EXECUTE format('ALTER TABLE %I.outbox ADD COLUMN IF NOT EXISTS outage boolean NOT NULL '
                   'DEFAULT false', live);
    EXECUTE format('ALTER TABLE %I.outbox ADD COLUMN IF NOT EXISTS released boolean NOT NULL '
                   'DEFAULT false', live);
    EXECUTE format('ALTER TABLE %I.outbox DROP CONSTRAINT IF EXISTS outbox_status_check', live);
    EXECUTE format(
        'ALTER TABLE %I.outbox ADD CONSTRAINT outbox_status_check CHECK (status IN '
        '(''pending'', ''queued'', ''sending'', ''sent'', ''failed''))', live);
    EXECUTE format('CREATE INDEX IF NOT EXISTS outbox_sending ON %I.outbox (attempted_at) '
                   'WHERE status = ''sending''', live);
    EXECUTE format('CREATE INDEX IF NOT EXISTS outbox_deferred_by_outage ON %I.outbox (seq) '
                   'WHERE status = ''pending'' AND outage', live);
    -- A view's columns are fixed when it is made: show the new ones.
    EXECUTE format('CREATE OR REPLACE VIEW public.outbox AS SELECT * FROM %I.outbox', live);
END
$$;
