"""The signed-in person's own account: their name (what colleagues see everywhere), the teams
they belong to (those they lead link to the page where they set its members), and the way to
their API tokens."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from commands.messages import ChangeUser
from commands.permissions import Actor
from domain.errors import InvalidFields
from projections import teams
from projections.teams import TeamView
from web.forms import Form
from web.site import Web
from web.visit import visit_of


@get("/account", sync_to_thread=True)
def account(request: Request[Any, Any, Any], web: Web, actor: Actor) -> Response[Any]:
    user = web.commands.accounts.user(actor.id)
    return web.page(request, "account.html", {
        "title": "Your account", "user": user, "form": Form({"name": user.name}),
        "teams": _teams(web, actor),
    })


def _teams(web: Web, actor: Actor) -> list[TeamView]:
    with web.services.pool.connection() as conn:
        found = [teams.get_team(conn, t) for t in sorted(actor.team_ids)]
    return sorted((t for t in found if t is not None), key=lambda t: t.name.lower())


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
                                                  "form": form, "teams": _teams(web, actor)},
                        status_code=400)
    visit = visit_of(request)
    visit.wrote(outcome.position)
    visit.say("profile-saved")
    return web.redirect(request, "/account")


ROUTES = [account, save_account]
