"""The SSRF guard: on create and PATCH, a URL whose host resolves to an address that is not
public is 422 (no TRAIL_WEBHOOK_ALLOW_PRIVATE here); at each delivery the address is checked
again, after DNS resolution, and the connection goes to the address that was checked."""

from __future__ import annotations

import ipaddress
import re
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from commands.base import Trail
from commands.messages import CreateWebhook
from commands.services import build_commands
from outbound.addresses import AddressPolicy, AddressRefused, is_public
from outbound.client import Caller, CallFailed
from outbound.sealing import Sealer
from runtime import bootstrap
from runtime.settings import Settings
from tests.api.conftest import Accounts, Client, new_ticket
from tests.api.receiver import Receiver, settled
from workers.config import WebhookDelivery


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.start()
    yield running
    running.stop()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook",
    "http://localhost:8080/hook",
    "http://[::1]/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://172.16.5.4/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://2130706433/hook",
    "http://no-such-host.invalid/hook",
])
def test_a_url_that_is_not_public_is_422_on_create(
    client: Client, accounts: Accounts, url: str
) -> None:
    response = client.post("/webhooks", accounts.admin.token,
                           json={"url": url, "event_types": ["*"]})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["url"]


def test_a_private_url_is_422_on_patch(
    client: Client, accounts: Accounts, trail_env: dict[str, str], api_env: dict[str, str]
) -> None:
    hook = _allowed_webhook(accounts, trail_env, api_env, "https://hooks.example.org/x")
    response = client.patch(f"/webhooks/{hook}", accounts.admin.token,
                            json={"url": "http://127.0.0.1:9/x"})
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["url"]


def test_the_address_is_checked_again_at_delivery(
    client: Client, accounts: Accounts, project: dict[str, Any], receiver: Receiver,
    trail_env: dict[str, str], api_env: dict[str, str], scratch_database_url: str,
) -> None:
    # Made when the deployment allowed private targets; delivered after it stopped allowing.
    hook = _allowed_webhook(accounts, trail_env, api_env, receiver.url + "/private",
                            event_types=("Ticket.Created",))
    settings = Settings(secret_key=api_env["TRAIL_SECRET_KEY"])
    process = bootstrap.webhooks(settings, scratch_database_url, WebhookDelivery(
        max_attempts=2, min_backoff=0.1, max_backoff=0.1, timeout=1.0, poll_interval=0.1))
    process.start()
    try:
        new_ticket(client, accounts.admin.token, project["id"])
        path = f"/webhooks/{hook}/deliveries?status=failed"
        failed = settled(lambda: client.get(path, accounts.admin.token).json()["items"], bool)
    finally:
        process.stop()
    assert "not a public address" in failed[0]["last_error"]
    assert failed[0]["last_status_code"] is None
    assert receiver.received == []


def _allowed_webhook(accounts: Accounts, trail_env: dict[str, str], api_env: dict[str, str],
                     url: str, event_types: tuple[str, ...] = ("*",)) -> str:
    trail = build_commands(
        Trail(trail_env), sealer=Sealer(api_env["TRAIL_SECRET_KEY"]),
        url_guard=AddressPolicy(allow_private=True, resolve=_resolver({"hooks.example.org":
                                                                       "93.184.215.14"})),
    )
    try:
        admin = trail.accounts.actor(uuid.UUID(accounts.admin.id))
        outcome, _ = trail.webhooks.create(admin, CreateWebhook(url=url, event_types=event_types))
        return str(outcome.id)
    finally:
        trail.close()


def _resolver(names: dict[str, str]) -> Any:
    def resolve(host: str, port: int, **_: Any) -> list[Any]:
        if host in names:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return resolve


def test_public_addresses_pass() -> None:
    policy = AddressPolicy(resolve=_resolver({"hooks.example.org": "93.184.215.14"}))
    target = policy.check("https://hooks.example.org/x")
    assert [str(a) for a in target.addresses] == ["93.184.215.14"]
    assert target.port == 443
    assert is_public(ipaddress.ip_address("2606:4700::1111"))


def test_one_private_answer_among_public_ones_is_refused() -> None:
    def resolve(host: str, port: int, **_: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]
    with pytest.raises(AddressRefused, match=re.escape("10.0.0.7")):
        AddressPolicy(resolve=resolve).check("http://mixed.example.org/")


def test_dns_rebinding_between_check_and_delivery_is_refused(receiver: Receiver) -> None:
    answers = iter(["93.184.215.14", "127.0.0.1"])

    def rebinding(host: str, port: int, **_: Any) -> list[Any]:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    policy = AddressPolicy(resolve=rebinding)
    assert policy.refusal("http://rebind.example.org/x") is None
    caller = Caller(policy, timeout=1.0)
    with pytest.raises(CallFailed, match=re.escape("127.0.0.1")):
        caller.post("http://rebind.example.org/x", b"{}", {})
    caller.close()


def test_the_connection_goes_to_the_checked_address(receiver: Receiver) -> None:
    # A name only the policy's resolver knows: the connection cannot have resolved it again.
    port = int(receiver.url.rsplit(":", 1)[1])
    policy = AddressPolicy(allow_private=True,
                           resolve=_resolver({"hooks.trail.test": "127.0.0.1"}))
    caller = Caller(policy, timeout=2.0)
    answer = caller.post(f"http://hooks.trail.test:{port}/pinned", b'{"position": 1}', {})
    caller.close()
    # Unsigned, so the receiver refuses it; what matters is that it got there.
    assert answer.status == 401
    got = receiver.at("/pinned", delivered=False)
    assert got[0].headers["host"] == f"hooks.trail.test:{port}"
