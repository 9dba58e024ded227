"""What every admin page shares: its tabs, and "not found" for anyone who is not an admin (a
reporter or a developer is not told that the page exists)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from commands.errors import NotFound
from commands.permissions import Actor
from web.site import Web

TABS = [
    ("/manage/users", "People"),
    ("/manage/projects", "Projects"),
    ("/manage/teams", "Teams"),
    ("/manage/emails", "Emails"),
    ("/manage/webhooks", "Webhooks"),
]


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotFound("no such page")


def admin_page(request: Request[Any, Any, Any], web: Web, template: str,
               context: dict[str, Any], status_code: int = 200) -> Response[Any]:
    return web.page(request, template, {"tabs": TABS, **context}, status_code=status_code)
