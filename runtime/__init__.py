"""Running Trail: settings, the composition root, schema migrations, embedded PostgreSQL and
Redis and their supervision, and the `trail` command line.

    settings     the environment, read once
    bootstrap    the composition root: builds every process's parts from settings
    migrate      schema work, once, before any process (numbered migrations in migrations/)
    links        links in emails, from TRAIL_BASE_URL
    embedded*    PostgreSQL and Redis from pip packages, for `trail serve` on a bare machine
    supervisor   `trail serve`'s child processes, restarted when they die
    cli*         the `trail` commands: they parse options and call `bootstrap`

The only package that imports every other one.
"""
