"""Webhooks (admin only): create, change, delete and replay. Every change is a `Webhook` event;
the signing secret is kept sealed in a table and shown once, in the answer to create.

Whether a URL may be called (its host resolving to public addresses only, unless the deployment
allows private ones) is asked of the `UrlGuard` the composition root hands in, on create and on
every change of the URL; the deliverer asks again before each delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID

from commands.base import Outcome, Service, Trail
from commands.errors import NotFound
from commands.messages import ChangeWebhook, CreateWebhook, ReplayWebhook
from commands.permissions import Actor, require_admin
from commands.webhook_secrets import WebhookSecrets, new_secret
from domain.errors import FieldError, InvalidFields, require
from domain.project import Project
from domain.webhook import Webhook
from eventlog.topics import WEBHOOK_TYPES


class UrlGuard(Protocol):
    def refusal(self, url: str) -> str | None:
        """Why the URL may not be called, or None when it may."""


class WebhookService(Service):
    def __init__(
        self,
        store: Trail,
        secrets: WebhookSecrets,
        guard: UrlGuard,
        *,
        clock: Callable[[], datetime],
        new_id: Callable[[], UUID],
    ) -> None:
        super().__init__(store, clock=clock, new_id=new_id)
        self.secrets = secrets
        self.guard = guard

    def get(self, actor: Actor, webhook_id: UUID) -> Webhook:
        require_admin(actor)
        webhook = self._find(Webhook, webhook_id)
        if webhook is None or webhook.deleted:
            raise NotFound("no such webhook")
        return webhook

    def create(self, actor: Actor, command: CreateWebhook) -> tuple[Outcome[Webhook], str]:
        require_admin(actor)
        errors = self._reachability(command.url.strip())
        if command.project_id is not None and self._find(Project, command.project_id) is None:
            errors.append(FieldError("project_id", "no such project"))
        try:
            webhook = Webhook.create(
                self._stamp(actor.id), webhook_id=self.new_id(), url=command.url,
                event_types=list(command.event_types), project_id=command.project_id,
                known_types=WEBHOOK_TYPES,
            )
        except InvalidFields as invalid:
            named = {e.field for e in invalid.errors}
            others = [e for e in errors if e.field not in named]
            raise InvalidFields([*invalid.errors, *others]) from None
        require(errors)
        secret = new_secret()
        # The secret first: a crash before the save leaves a sealed secret nobody can use.
        self.secrets.keep(webhook.id, secret)
        return self._save(webhook), secret

    def change(self, actor: Actor, command: ChangeWebhook) -> Outcome[Webhook]:
        if command.url is not None:
            require(self._reachability(command.url.strip()))

        def attempt() -> Outcome[Webhook]:
            webhook = self.get(actor, command.webhook_id)
            webhook.change(
                self._stamp(actor.id), url=command.url,
                event_types=list(command.event_types) if command.event_types is not None else None,
                active=command.active, known_types=WEBHOOK_TYPES,
            )
            return self._save(webhook)

        return self._retrying(attempt, "webhook")

    def replay(self, actor: Actor, command: ReplayWebhook) -> Outcome[Webhook]:
        if command.after_position > self.store.current_position():
            require([FieldError("after_position", "is beyond the last recorded event")])

        def attempt() -> Outcome[Webhook]:
            webhook = self.get(actor, command.webhook_id)
            webhook.replay(self._stamp(actor.id), command.after_position)
            return self._save(webhook)

        return self._retrying(attempt, "webhook")

    def delete(self, actor: Actor, webhook_id: UUID) -> Outcome[Webhook]:
        def attempt() -> Outcome[Webhook]:
            webhook = self.get(actor, webhook_id)
            webhook.delete(self._stamp(actor.id))
            return self._save(webhook)

        outcome = self._retrying(attempt, "webhook")
        self.secrets.forget(webhook_id)
        return outcome

    def _reachability(self, url: str) -> list[FieldError]:
        if not url.lower().startswith(("http://", "https://")):
            # The domain names what is wrong with such a URL.
            return []
        refusal = self.guard.refusal(url)
        return [FieldError("url", refusal)] if refusal else []
