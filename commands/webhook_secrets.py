"""Webhook signing secrets: `whsec_` + base64 of 32 random bytes, as Standard Webhooks has it,
sealed at rest by whatever the composition root hands in (`outbound.sealing.Sealer`)."""

from __future__ import annotations

import base64
import secrets
from typing import Protocol
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

PREFIX = "whsec_"


class Seal(Protocol):
    def seal(self, secret: str) -> str: ...


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class WebhookSecrets:
    def __init__(self, datastore: PostgresDatastore, sealer: Seal) -> None:
        self._datastore = datastore
        self._sealer = sealer

    def keep(self, webhook_id: UUID, secret: str) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO webhook_secrets (webhook_id, sealed) VALUES (%s, %s) "
                "ON CONFLICT (webhook_id) DO UPDATE SET sealed = EXCLUDED.sealed",
                (webhook_id, self._sealer.seal(secret)),
            )

    def forget(self, webhook_id: UUID) -> None:
        with self._datastore.transaction(commit=True) as curs:
            curs.execute("DELETE FROM webhook_secrets WHERE webhook_id = %s", (webhook_id,))
