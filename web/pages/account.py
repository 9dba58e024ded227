"""The signed-in person's own account: their name (what colleagues see everywhere)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from commands.messages import ChangeUser
from commands.permissions import Actor
from domain.errors import InvalidFields
from web.forms import Form
from web.site import Web
from web.visit import visit_of


@get("/account", sync_to_thread=True)
def account(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    user = web.commands.accounts.user(actor.id)
    return web.page(request, "account.html", {
        "title": "Your account", "user": user, "form": Form({"name": user.name}),
    })


@post("/account", sync_to_thread=True)
def save_account(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    form = Form.of(request)
    try:
        outcome = web.commands.accounts.change_user(
            actor, ChangeUser(user_id=actor.id, name=form.text("name")))
    except InvalidFields as error:
        form.fail(error)
        user = web.commands.accounts.user(actor.id)
        return web.page(request, "account.html", {"title": "Your account", "user": user,
                                                  "form": form}, status_code=400)
    visit = visit_of(request)
    visit.wrote(outcome.position)
    visit.say("profile-saved")
    return web.redirect(request, "/account")


ROUTES = [account, save_account]
