"""The person's notifications: newest first, unread ones marked, each read or all at once.

Notifications come from the notifications read model, shown only while their ticket is visible
(its query applies the tickets model's visibility). Marking read is a command
(`commands.reading`): a mark is an event, so it survives a rebuild of the model.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post

from commands.errors import NotFound
from commands.messages import MarkAllNotificationsRead, MarkNotificationRead
from commands.permissions import Actor
from projections import notifications, tickets
from web.forms import Form
from web.pages.common import Query, after_change
from web.site import Web
from web.visit import visit_of

READS = (notifications.NotificationsProjection.name, tickets.TicketsProjection.name, "users")
PAGE_SIZE = 25


@get("/inbox", sync_to_thread=True)
def notification_list(request: Request[Any, Any, Any], web: Web, actor: Actor,
                      unread: Query = None, cursor: Query = None) -> Response[Any]:
    only_unread = unread == "1"
    with web.reading(visit_of(request), READS) as conn:
        page = notifications.list_notifications(conn, actor, unread=only_unread,
                                                limit=PAGE_SIZE, cursor=cursor or None)
        count = notifications.unread_count(conn, actor)
    return web.page(request, "notifications.html", {
        "title": "Notifications",
        "page": page,
        "unread_only": only_unread,
        "unread_count": count,
        # "Mark all read" covers what this page showed, not what arrived since.
        "up_to": max((n.position for n in page.items), default=0),
    })


@post("/inbox/{notification_id:uuid}/read", sync_to_thread=True)
def mark_read(request: Request[Any, Any, Any], web: Web, actor: Actor, notification_id: UUID
              ) -> Response[Any]:
    form = Form.of(request)
    with web.reading(visit_of(request), READS) as conn:
        if notifications.owner(conn, notification_id) != actor.id:
            raise NotFound("no such notification")
    position = web.commands.read_marks.mark_read(
        actor, MarkNotificationRead(notification_id=notification_id))
    # "Open" marks it read and goes to its ticket; "Mark read" stays on the list.
    target = form.text("open")
    if not (target.startswith("/t/") and "//" not in target):
        target = _back(form)
    return after_change(request, web, target, position, "marked-read")


@post("/inbox/read-all", sync_to_thread=True)
def mark_all_read(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    form = Form.of(request)
    text = form.text("up_to")
    up_to = int(text) if text.isdigit() else web.commands.store.current_position()
    up_to = min(up_to, web.commands.store.current_position())
    outcome = web.commands.read_marks.mark_all_read(
        actor, MarkAllNotificationsRead(up_to_position=up_to))
    return after_change(request, web, _back(form), outcome.position, "all-read")


def _back(form: Form) -> str:
    back = form.text("back")
    return back if back.startswith("/inbox") else "/inbox"


ROUTES = [notification_list, mark_read, mark_all_read]
