"""A notification's id: it follows from its command, ticket and user, because read marks name
it and a rebuild must give the very same ids."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from uuid import UUID, uuid5

_NOTIFICATION_IDS = UUID("6f0c2d8e-93b1-4c57-a2e4-1d8b7f3a9c60")
_VARIANT = "89ab89ab89ab89ab"  # RFC 4122 variant bits (10xx) over any hex digit


def notification_id(command_id: UUID, ticket_id: UUID, user_id: UUID) -> UUID:
    return uuid5(_NOTIFICATION_IDS, f"{command_id}:{ticket_id}:{user_id}")


def notification_ids(command_id: UUID, ticket_id: UUID) -> Callable[[str], str]:
    """`notification_id` as text for each recipient (named by its id as text) of one command.

    A rebuild makes one for every watcher of every command: the part they share is hashed once,
    and the version and variant are set on the hex digits, as `uuid5` sets them on the bits,
    without building a `UUID` (a tenth of the rebuild's time when it did)."""
    shared = hashlib.sha1(_NOTIFICATION_IDS.bytes + f"{command_id}:{ticket_id}:".encode())

    def of(user_id: str) -> str:
        digest = shared.copy()
        digest.update(user_id.encode())
        h = digest.hexdigest()
        return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[int(h[16], 16)]}{h[17:20]}-{h[20:32]}"

    return of
