-- The history read model is gone: `/history` reads the log itself (exact at once, and as fast;
-- bench/history.py). Drop its versions, its view and its registry row, wherever they exist.

DO $$
DECLARE version_schema text;
BEGIN
    FOR version_schema IN
        SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rm\_history\_v%'
    LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', version_schema);
    END LOOP;
    IF to_regclass('public.projection_versions') IS NOT NULL THEN
        DELETE FROM public.projection_versions WHERE name = 'history';
    END IF;
END
$$;
