"""Password authentication for the embedded PostgreSQL.

initdb creates a cluster with trust rules (no password exists yet). Before the server first
listens on TCP, Trail sets the superuser's password from `<data dir>/postgres.password` over the
cluster's unix socket and replaces pg_hba.conf with password-only rules. A cluster created by an
earlier Trail (trust rules, no password) goes through the same step on its next start.
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg
from psycopg import sql

from runtime.embedded_common import EmbeddedServiceError
from runtime.embedded_pg_os import OsUser, chown

POSTGRES_SUPERUSER = "postgres"

HBA_CONF = """\
# Written by Trail: every connection needs the password kept in postgres.password next to this
# directory. Trail rewrites this file at start when it differs from these lines.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
"""


def password_auth_in_place(pgdata: Path) -> bool:
    try:
        return (pgdata / "pg_hba.conf").read_text() == HBA_CONF
    except FileNotFoundError:
        return False


def is_wrong_password(error: psycopg.OperationalError) -> bool:
    # Connection errors carry no SQLSTATE in psycopg, only the server's message.
    return "password authentication failed" in str(error)


def wrong_password_error(pgdata: Path, password_file: Path) -> EmbeddedServiceError:
    return EmbeddedServiceError(
        f"the PostgreSQL cluster in {pgdata} rejects the password in {password_file}. Restore "
        f"that file; if it is lost, replace {pgdata / 'pg_hba.conf'} with the single line "
        "'local all all trust' and start Trail again: it then sets a new password."
    )


def enable_password_auth(pgdata: Path, socket_dir: Path, port: int, password: str,
                         password_file: Path, user: OsUser | None) -> None:
    """On the running server of `pgdata`, set the superuser's password and require it.

    Goes through the unix socket, which only root and the server's own user can reach (its
    directory is theirs, mode 0700), because the rules in force may still be trust.
    """
    try:
        conn = psycopg.connect(host=str(socket_dir), port=port, user=POSTGRES_SUPERUSER,
                               password=password, dbname="postgres", autocommit=True,
                               connect_timeout=10)
    except psycopg.OperationalError as error:
        if is_wrong_password(error):
            raise wrong_password_error(pgdata, password_file) from error
        raise EmbeddedServiceError(f"PostgreSQL in {pgdata} did not answer: {error}") from error
    with conn:
        # Hashed here: the plain password never reaches the server, nor its log on an error.
        verifier = conn.pgconn.encrypt_password(
            password.encode(), POSTGRES_SUPERUSER.encode(), b"scram-sha-256"
        )
        conn.execute(sql.SQL("ALTER ROLE {} WITH PASSWORD {}").format(
            sql.Identifier(POSTGRES_SUPERUSER), sql.Literal(verifier.decode())
        ))
        _write_hba(pgdata, user)
        conn.execute("SELECT pg_reload_conf()")


def _write_hba(pgdata: Path, user: OsUser | None) -> None:
    # Write-then-rename: a crash mid-write must not leave the server without any rules.
    tmp = pgdata / f".pg_hba.conf.{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as file:
        file.write(HBA_CONF)
        file.flush()
        os.fsync(file.fileno())
    chown(tmp, user)
    os.replace(tmp, pgdata / "pg_hba.conf")
