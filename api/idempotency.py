"""`Idempotency-Key` on POST: a retried request gets the first answer, never a second effect.

Keys are scoped to the caller: the user a valid bearer token names, or else (registration, login,
password reset) the client address. The first request with a key claims it in PostgreSQL; its
answer is stored there for 24 h and replayed, byte for byte, to a retry with the same method,
path, query and body (a streamed upload's body is not held: its length stands for it). A retry
with a different request answers 422; one that arrives while the first is still running answers
409. The answer is stored before it is sent, so a client never
sees an answer that a retry would not get again.

Not stored (the key stays free for a retry): 5xx, 401, 429, and answers marked
`Cache-Control: no-store` (an access token must not sit in a table). A `no-store` 201 created
something whose secret its answer shows once (an API token, a webhook): the key is spent, and a
retry answers 409 with the created resource's `Location`, never a second one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from anyio import CancelScope, to_thread

from api.bodies import MAX_JSON_BODY
from api.errors import PROBLEM_MEDIA_TYPE, FieldIssue, InvalidInput, Problem, problem_document
from api.idempotency_store import (
    IdempotencyStore,
    InFlight,
    Mismatch,
    StoredResponse,
)
from api.tokens import bearer_token

HEADER = b"idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Visible ASCII, as in the IETF draft's examples (UUIDs, random strings).
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
_NOT_STORED = frozenset({401, 408, 429})



@dataclass
class _Capture:
    """The whole answer of the wrapped app, held back until it is stored."""

    status: int = 500
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    chunks: list[bytes] = field(default_factory=list)

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    def stored(self) -> StoredResponse:
        return StoredResponse(
            status=self.status,
            headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.headers],
            body=b"".join(self.chunks),
        )

    def storable(self) -> bool:
        if self.status >= 500 or self.status in _NOT_STORED:
            return False
        return not self._no_store()

    def created_secret(self) -> bool:
        """Something was created and its answer holds a secret shown once (an API token, a
        webhook's signing secret): the key is spent, but the answer is not kept."""
        return self.status == 201 and self._no_store()

    def _no_store(self) -> bool:
        return any(
            k.lower() == b"cache-control" and b"no-store" in v.lower() for k, v in self.headers
        )


def _withheld(created: StoredResponse) -> StoredResponse:
    """What a retry gets in place of an answer that held a secret: 409, and where the created
    resource is."""
    problem = Problem(
        409,
        "the first request with this Idempotency-Key created the resource; its answer held a "
        "secret that is shown only once",
        kind="idempotent-answer-withheld",
    )
    body = problem_document(problem)
    headers = [("content-type", PROBLEM_MEDIA_TYPE), ("content-length", str(len(body)))]
    headers += [(k, v) for k, v in created.headers if k.lower() in ("location", "trail-position")]
    return StoredResponse(409, headers, body)


class IdempotencyMiddleware:
    def __init__(
        self, app: Any, store: IdempotencyStore, subject: Callable[[str], UUID | None]
    ) -> None:
        self.app = app
        self.store = store
        # The user a bearer token names (an access token or an API token), or None.
        self.subject = subject

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        raw_key = headers.get(HEADER)
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not _KEY_PATTERN.match(key):
            problem: Problem = InvalidInput(
                [FieldIssue("Idempotency-Key", "must be 1..255 visible ASCII characters")]
            )
            await _send_problem(send, problem)
            return
        if _is_upload(headers):
            # An upload streams through, never held whole here: the request is known by its
            # method, path, query and length (docs/API-NOTES.md, Idempotency-Key).
            body = b"upload of " + headers.get(b"content-length", b"unknown length")
            app_receive = receive
        else:
            body, too_large = await _read_body(receive)
            if too_large:
                await _send_problem(
                    send, Problem(413, "the request body is too large (at most 1 MiB)")
                )
                return
            app_receive = _replaying(body, receive)
        caller = await to_thread.run_sync(self._caller, scope, headers)
        fingerprint = _fingerprint(scope, body)
        claim = await to_thread.run_sync(self.store.claim, caller, key, fingerprint)
        if isinstance(claim, StoredResponse):
            await _send_stored(send, claim, replayed=True)
        elif isinstance(claim, Mismatch):
            await _send_problem(send, InvalidInput(
                [FieldIssue("Idempotency-Key", "was already used for a different request")],
                detail="this Idempotency-Key was used with another request",
            ))
        elif isinstance(claim, InFlight):
            await _send_problem(send, Problem(
                409, "a request with this Idempotency-Key is still running; retry later",
                kind="idempotency-key-in-use", headers={"Retry-After": "1"},
            ))
        else:
            await self._run_first(scope, app_receive, send, caller, key)

    async def _run_first(self, scope: Any, receive: Any, send: Any, caller: str, key: str) -> None:
        capture = _Capture()
        try:
            await self.app(scope, receive, capture.send)
        except BaseException:
            # Shielded: a cancelled request (client gone) must still free its key.
            with CancelScope(shield=True):
                await to_thread.run_sync(self.store.release, caller, key)
            raise
        response = capture.stored()
        if capture.storable():
            await to_thread.run_sync(self.store.complete, caller, key, response)
        elif capture.created_secret():
            await to_thread.run_sync(self.store.complete, caller, key, _withheld(response))
        else:
            await to_thread.run_sync(self.store.release, caller, key)
        await _send_stored(send, response, replayed=False)

    def _caller(self, scope: Any, headers: dict[bytes, bytes]) -> str:
        authorization = headers.get(b"authorization")
        if authorization is not None:
            try:
                user_id = self.subject(bearer_token(authorization.decode("latin-1")))
            except Problem:
                user_id = None
            if user_id is not None:
                return f"user:{user_id}"
        client = scope.get("client")
        return f"address:{client[0] if client else 'unknown'}"


def _is_upload(headers: dict[bytes, bytes]) -> bool:
    content_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
    return content_type == b"multipart/form-data"


def _fingerprint(scope: Any, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b"")):
        digest.update(part + b"\0")
    digest.update(body)
    return digest.hexdigest()


async def _read_body(receive: Any) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_JSON_BODY:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


def _replaying(body: bytes, receive: Any) -> Any:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return dict(await receive())

    return replay


async def _send_stored(send: Any, response: StoredResponse, *, replayed: bool) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    if replayed:
        headers.append((REPLAYED_HEADER.lower().encode(), b"true"))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _send_problem(send: Any, problem: Problem) -> None:
    body = problem_document(problem)
    headers = [("content-type", PROBLEM_MEDIA_TYPE), ("content-length", str(len(body)))]
    headers += [(k.lower(), v) for k, v in problem.headers.items()]
    await _send_stored(send, StoredResponse(problem.status, headers, body), replayed=False)
