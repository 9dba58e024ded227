"""Admin pages for webhooks: list them, create one (its signing secret shown on that page only),
pause, resume or delete one, and read its deliveries (retrying one now).

Each change is the API's own command (`commands.webhooks`): the URL is checked there (http(s),
no private address unless the deployment allows it), and the secret is sealed at rest. The
deliveries are the webhook follower's rows (`projections.webhooks.rows`); before `trail
webhooks` has run once its tables do not exist, which is read as "none yet".
"""

from __future__ import annotations

from typing import Any, Literal, cast
from uuid import UUID

from litestar import Request, Response, get, post
from psycopg.errors import UndefinedTable

from commands.errors import NotFound
from commands.messages import ChangeWebhook, CreateWebhook
from commands.permissions import Actor
from domain.errors import InvalidFields
from projections.errors import InvalidQuery
from projections.paging import Page
from projections.webhooks import WebhookRouter, rows
from projections.webhooks.rows import DeliveryItem, WebhookItem
from web.forms import Form
from web.pages.admin_base import admin_page, require_admin
from web.pages.common import Query, after_change, all_projects
from web.site import Web
from web.visit import visit_of

READS = (WebhookRouter.name, "projects")
DeliveryStatus = Literal["pending", "delivered", "failed"]


def _hooks(request: Request[Any, Any, Any], web: Web, form: Form, *, secret: str | None = None,
           created: WebhookItem | None = None, status_code: int = 200) -> Response[Any]:
    with web.reading(visit_of(request), READS) as conn:
        try:
            hooks = rows.list_webhooks(conn, 100).items
        except UndefinedTable:
            conn.rollback()
            hooks = []
        projects = all_projects(conn)
    return admin_page(request, web, "admin_webhooks.html", {
        "title": "Webhooks", "hooks": hooks, "form": form, "secret": secret,
        "created": created, "project_keys": {p.id: p.key for p in projects},
        "projects": [(str(p.id), f"{p.name} ({p.key})") for p in projects if not p.archived],
    }, status_code)


@get("/manage/webhooks", sync_to_thread=True)
def webhook_list(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    require_admin(actor)
    return _hooks(request, web, Form({"event_types": "*"}))


@post("/manage/webhooks", sync_to_thread=True)
def create_webhook(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    require_admin(actor)
    form = Form.of(request)
    types = [t for t in form.text("event_types").replace(",", " ").split() if t]
    project = form.uuid("project_id")
    if form.ok:
        try:
            outcome, secret = web.commands.webhooks.create(actor, CreateWebhook(
                url=form.text("url").strip(), event_types=tuple(types), project_id=project))
        except InvalidFields as error:
            form.fail(error)
        else:
            visit_of(request).wrote(outcome.position)
            hook = outcome.aggregate
            created = WebhookItem(hook.id, hook.url, list(hook.event_types), hook.project_id,
                                  hook.active, hook.created_at)
            # The secret is in this answer only (`no-store`), as the API's creation answer.
            return _hooks(request, web, Form({"event_types": "*"}), secret=secret,
                          created=created, status_code=201)
    return _hooks(request, web, form, status_code=400)


@post("/manage/webhooks/{webhook_id:uuid}", sync_to_thread=True)
def change_webhook(request: Request[Any, Any, Any], web: Web, actor: Actor, webhook_id: UUID
                   ) -> Response[Any]:
    require_admin(actor)
    form = Form.of(request)
    if form.text("delete") == "1":
        outcome = web.commands.webhooks.delete(actor, webhook_id)
        return after_change(request, web, "/manage/webhooks", outcome.position,
                            "webhook-deleted")
    active = form.text("active")
    if active not in ("0", "1"):
        raise InvalidQuery("active", "must be 0 or 1")
    outcome = web.commands.webhooks.change(actor, ChangeWebhook(webhook_id=webhook_id,
                                                                active=active == "1"))
    return after_change(request, web, _back(form, webhook_id), outcome.position, "webhook-saved")


def _back(form: Form, webhook_id: UUID) -> str:
    return f"/manage/webhooks/{webhook_id}" if form.text("back") == "hook" else "/manage/webhooks"


@get("/manage/webhooks/{webhook_id:uuid}", sync_to_thread=True)
def deliveries(request: Request[Any, Any, Any], web: Web, actor: Actor, webhook_id: UUID,
               status: Query = None, cursor: Query = None) -> Response[Any]:
    require_admin(actor)
    hook = web.commands.webhooks.get(actor, webhook_id)
    if status not in (None, "", "pending", "delivered", "failed"):
        raise InvalidQuery("status", "must be pending, delivered or failed")
    shown = cast(DeliveryStatus | None, status or None)
    with web.reading(visit_of(request), READS) as conn:
        try:
            page = rows.list_deliveries(conn, webhook_id, shown, 50, cursor or None)
        except UndefinedTable:
            page = Page[DeliveryItem](items=[], next_cursor=None)
    return admin_page(request, web, "admin_webhook.html", {
        "title": "Webhook deliveries", "hook": hook, "page": page, "status": status or "",
    })


@post("/manage/webhooks/{webhook_id:uuid}/deliveries/{delivery_id:uuid}/retry",
      sync_to_thread=True)
def retry_delivery(request: Request[Any, Any, Any], web: Web, actor: Actor, webhook_id: UUID,
                   delivery_id: UUID) -> Response[Any]:
    require_admin(actor)
    web.commands.webhooks.get(actor, webhook_id)
    with web.services.pool.connection() as conn:
        retried = rows.retry_delivery(conn, webhook_id, delivery_id)
    if not retried:
        raise NotFound("no such delivery")
    visit_of(request).say("delivery-retried")
    return web.redirect(request, f"/manage/webhooks/{webhook_id}")


ROUTES = [webhook_list, create_webhook, change_webhook, deliveries, retry_delivery]
