"""Webhooks (admin): where Trail POSTs the log's events, and how their deliveries went."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Response, delete, get, patch, post
from msgspec import UNSET, UnsetType
from psycopg.errors import UndefinedTable

from api.context import Context
from api.errors import problem_responses
from api.headers import LOCATION, TRAIL_POSITION, MinPosition
from api.paging import Cursor, Limit
from api.reads import reading, waits_for
from api.responses import Accepted, answer
from commands.errors import NotFound
from commands.messages import ChangeWebhook, CreateWebhook, ReplayWebhook
from commands.permissions import Actor, require_admin
from domain.webhook import URL_MAX, Webhook
from projections.paging import Page
from projections.webhooks import WebhookRouter, rows
from projections.webhooks.rows import DeliveryItem, DeliveryStatus, WebhookItem

TAGS = ["webhooks"]
READS = (WebhookRouter.name,)

Url = Annotated[
    str,
    msgspec.Meta(
        max_length=URL_MAX,
        description="http(s) URL whose host resolves to public addresses only (unless the "
        "deployment allows private targets); no credentials in it.",
        examples=["https://hooks.example.com/trail"],
    ),
]
EventTypes = Annotated[
    list[str],
    msgspec.Meta(
        max_length=100,
        description='`type` names of `/events` (`Ticket.StatusChanged`, …), or `["*"]` for '
        "all of them; empty is 422.",
        examples=[["Ticket.Created", "Ticket.StatusChanged"]],
    ),
]


class WebhookCreate(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    url: Url
    event_types: EventTypes
    project_id: Annotated[
        UUID | None,
        msgspec.Meta(description="Only events of this project and its tickets."),
    ] = None


class WebhookPatch(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    url: Url | UnsetType = UNSET
    event_types: EventTypes | UnsetType = UNSET
    active: Annotated[
        bool, msgspec.Meta(description="false pauses deliveries; true resumes where they stopped.")
    ] | UnsetType = UNSET


class ReplayRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    after_position: Annotated[
        int, msgspec.Meta(ge=0, description="Every matching event after this position is "
                          "delivered again.", examples=[0])
    ]


class WebhookCreated(msgspec.Struct, frozen=True):
    id: UUID
    url: str
    event_types: list[str]
    project_id: UUID | None
    secret: Annotated[
        str,
        msgspec.Meta(
            description="`whsec_` + base64: verifies `webhook-signature` (Standard Webhooks). "
            "Shown in this answer only.",
            examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        ),
    ]
    active: bool
    created_at: datetime


def _item(webhook: Webhook) -> WebhookItem:
    return WebhookItem(webhook.id, webhook.url, list(webhook.event_types), webhook.project_id,
                       webhook.active, webhook.created_at)


@post(
    "/webhooks",
    tags=TAGS,
    status_code=201,
    sync_to_thread=True,
    summary="Create a webhook (admin)",
    description="Every matching event recorded from now on is POSTed to `url` as the `/events` "
    "item, signed with `secret` (Standard Webhooks), in log order, at least once. A URL that "
    "is not http(s) or resolves to a private, loopback or link-local address is 422.",
    response_headers=[LOCATION, TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 413, 415, 422),
)
def create_webhook(data: WebhookCreate, context: Context, actor: Actor
                   ) -> Response[WebhookCreated]:
    outcome, secret = context.commands.webhooks.create(
        actor, CreateWebhook(url=data.url, event_types=tuple(data.event_types),
                             project_id=data.project_id),
    )
    hook = outcome.aggregate
    response = answer(
        WebhookCreated(hook.id, hook.url, list(hook.event_types), hook.project_id, secret,
                       hook.active, hook.created_at),
        outcome.position, status_code=201, location=f"/webhooks/{hook.id}",
    )
    # The secret must sit in no cache, and in no idempotency record either.
    response.headers["Cache-Control"] = "no-store"
    return response


@get(
    "/webhooks",
    tags=TAGS,
    sync_to_thread=True,
    summary="List webhooks (admin)",
    description="In the order they were created; never their secrets.",
    responses=problem_responses(401, 403, 422, 503),
)
def list_webhooks(
    context: Context, actor: Actor, limit: Limit = 25, cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Page[WebhookItem]:
    require_admin(actor)
    with reading(context, READS, min_position) as conn:
        try:
            return rows.list_webhooks(conn, limit, cursor)
        except UndefinedTable:
            # `trail webhooks` has not installed its tables yet: it has seen no webhook.
            return Page(items=[], next_cursor=None)


@get(
    "/webhooks/{webhook_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Read a webhook (admin)",
    responses=problem_responses(401, 403, 404),
)
def get_webhook(webhook_id: UUID, context: Context, actor: Actor) -> WebhookItem:
    return _item(context.commands.webhooks.get(actor, webhook_id))


@patch(
    "/webhooks/{webhook_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Change a webhook (admin)",
    description="Only the fields sent change. `active: false` pauses deliveries (events go on "
    "being queued for it); `active: true` resumes where it stopped. A new `url` is checked "
    "as on create.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
)
def change_webhook(
    webhook_id: UUID, data: WebhookPatch, context: Context, actor: Actor
) -> Response[WebhookItem]:
    outcome = context.commands.webhooks.change(actor, ChangeWebhook(
        webhook_id=webhook_id,
        url=None if isinstance(data.url, UnsetType) else data.url,
        event_types=None if isinstance(data.event_types, UnsetType) else tuple(data.event_types),
        active=None if isinstance(data.active, UnsetType) else data.active,
    ))
    return answer(_item(outcome.aggregate), outcome.position)


@delete(
    "/webhooks/{webhook_id:uuid}",
    tags=TAGS,
    status_code=204,
    sync_to_thread=True,
    summary="Delete a webhook (admin)",
    description="Nothing more is delivered to it, including deliveries still waiting.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(401, 403, 404),
)
def delete_webhook(webhook_id: UUID, context: Context, actor: Actor) -> Response[None]:
    outcome = context.commands.webhooks.delete(actor, webhook_id)
    return answer(None, outcome.position, status_code=204)


@get(
    "/webhooks/{webhook_id:uuid}/deliveries",
    tags=TAGS,
    sync_to_thread=True,
    summary="A webhook's deliveries and their state (admin)",
    description="Newest first. `pending` covers deliveries waiting for their first or next "
    "attempt (`next_attempt_at`); `failed` ones exhausted their attempts.",
    responses=problem_responses(401, 403, 404, 422, 503),
)
def list_deliveries(
    webhook_id: UUID,
    context: Context,
    actor: Actor,
    status: DeliveryStatus | None = None,
    limit: Limit = 25,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Page[DeliveryItem]:
    context.commands.webhooks.get(actor, webhook_id)
    with reading(context, READS, min_position) as conn:
        try:
            return rows.list_deliveries(conn, webhook_id, status, limit, cursor)
        except UndefinedTable:
            return Page(items=[], next_cursor=None)


@post(
    "/webhooks/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/retry",
    tags=TAGS,
    status_code=202,
    sync_to_thread=True,
    summary="Attempt a delivery again now (admin)",
    description="With a fresh set of attempts and the same `webhook-id`; a delivered one is "
    "sent again too.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(401, 403, 404),
)
def retry_delivery(
    webhook_id: UUID, delivery_id: UUID, context: Context, actor: Actor
) -> Response[Accepted]:
    context.commands.webhooks.get(actor, webhook_id)
    with context.services.pool.connection() as conn:
        if not rows.retry_delivery(conn, webhook_id, delivery_id):
            raise NotFound("no such delivery")
    return answer(Accepted("the delivery will be attempted again now"),
                  context.commands.store.current_position(), status_code=202)


@post(
    "/webhooks/{webhook_id:uuid}/replay",
    tags=TAGS,
    status_code=202,
    sync_to_thread=True,
    summary="Deliver again every matching event after a position (admin)",
    description="Queued after the webhook's deliveries so far, in log order, each as a new "
    "delivery (a new `webhook-id`). A position beyond the last recorded event is 422.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422),
)
def replay_webhook(
    webhook_id: UUID, data: ReplayRequest, context: Context, actor: Actor
) -> Response[Accepted]:
    outcome = context.commands.webhooks.replay(
        actor, ReplayWebhook(webhook_id=webhook_id, after_position=data.after_position)
    )
    return answer(Accepted("the events will be delivered again"), outcome.position,
                  status_code=202)


ROUTES = [create_webhook, list_webhooks, get_webhook, change_webhook, delete_webhook,
          list_deliveries, retry_delivery, replay_webhook]
waits_for(READS, list_webhooks, list_deliveries)
