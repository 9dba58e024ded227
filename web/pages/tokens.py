"""The person's API tokens, in the account area: issue one (its secret shown on that page
only, never again), list them with when each was last used, revoke one.

`commands.api_tokens` keeps them hashed and decides everything (limits, expiry, ownership);
this page only shows the secret it hands back once.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post

from commands.messages import IssueApiToken
from commands.permissions import Actor
from domain.api_tokens import EXPIRY_DAYS_MAX, EXPIRY_DAYS_MIN
from domain.errors import InvalidFields
from web.forms import Form
from web.pages.common import after_change
from web.site import Web
from web.visit import visit_of

EXPIRY_CHOICES = [("", "Never"), ("7", "In 7 days"), ("30", "In 30 days"), ("90", "In 90 days"),
                  ("365", "In a year")]


def _page(request: Request[Any, Any, Any], web: Web, actor: Actor, form: Form, *,
          issued: Any = None, status_code: int = 200) -> Response[Any]:
    return web.page(request, "tokens.html", {
        "title": "API tokens",
        "tokens": web.commands.api_tokens.listed(actor),
        "form": form,
        "issued": issued,
        "expiries": EXPIRY_CHOICES,
    }, status_code=status_code)


@get("/account/tokens", sync_to_thread=True)
def tokens(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    return _page(request, web, actor, Form())


@post("/account/tokens", sync_to_thread=True)
def issue(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    form = Form.of(request)
    days_text = form.text("expires_in_days").strip()
    days: int | None = None
    if days_text:
        if not days_text.isdigit() or not EXPIRY_DAYS_MIN <= int(days_text) <= EXPIRY_DAYS_MAX:
            form.errors["expires_in_days"] = "is not one of the choices"
        else:
            days = int(days_text)
    if form.ok:
        try:
            outcome, issued = web.commands.api_tokens.issue(
                actor, IssueApiToken(name=form.text("name"), expires_in_days=days))
        except InvalidFields as error:
            form.fail(error)
        else:
            visit_of(request).wrote(outcome.position)
            # Shown in this answer only: the page is not cached (`no-store`) and a reload
            # asks to send the form again rather than showing the secret from a redirect.
            return _page(request, web, actor, Form(), issued=issued, status_code=201)
    return _page(request, web, actor, form, status_code=400)


@post("/account/tokens/{token_id:uuid}/revoke", sync_to_thread=True)
def revoke(request: Request[Any, Any, Any], web: Web, actor: Actor, token_id: UUID
           ) -> Response[Any]:
    outcome = web.commands.api_tokens.revoke(actor, token_id)
    return after_change(request, web, "/account/tokens", outcome.position, "token-revoked")


ROUTES = [tokens, issue, revoke]
