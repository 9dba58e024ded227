-- Email preferences reach the outbox: each user's preference, and the changes held for the daily
-- digest. On a database whose outbox is not installed yet there is nothing to change: the outbox
-- is created later from projections/outbox/schema.py, which has both already.

DO $$
DECLARE live text;
BEGIN
    IF to_regclass('public.projection_versions') IS NULL THEN
        RETURN;
    END IF;
    SELECT 'rm_outbox_v' || version INTO live FROM public.projection_versions WHERE name = 'outbox';
    IF live IS NULL OR to_regclass(format('%I.outbox_users', live)) IS NULL THEN
        RETURN;
    END IF;
    EXECUTE format(
        'ALTER TABLE %I.outbox_users ADD COLUMN IF NOT EXISTS email_preference text NOT NULL '
        'DEFAULT ''each_change''', live);
    -- A view's columns are fixed when it is made: show the new one.
    EXECUTE format('CREATE OR REPLACE VIEW public.outbox_users AS SELECT * FROM %I.outbox_users',
                   live);
    EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I.outbox_digest_items ('
        ' seq bigint GENERATED ALWAYS AS IDENTITY,'
        ' id uuid PRIMARY KEY,'
        ' recipient_id uuid NOT NULL,'
        ' ticket_id uuid NOT NULL,'
        ' at timestamptz NOT NULL,'
        ' payload jsonb NOT NULL,'
        ' digest_id uuid)', live);
    EXECUTE format(
        'CREATE INDEX IF NOT EXISTS outbox_digest_waiting ON %I.outbox_digest_items (at) '
        'WHERE digest_id IS NULL', live);
    EXECUTE format(
        'CREATE OR REPLACE VIEW public.outbox_digest_items AS SELECT * FROM %I.outbox_digest_items',
        live);
END
$$;
