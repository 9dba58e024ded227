"""Signing in and out, registering (with an admin's approval where the deployment wants it) and
resetting a forgotten password."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.background_tasks import BackgroundTask
from litestar.params import Parameter

from commands.errors import (
    AccountPending,
    InvalidResetToken,
    TooManyLogins,
    Unauthenticated,
)
from commands.logins import sign_in
from commands.messages import RegisterUser
from domain.errors import InvalidFields, NameTaken
from domain.values import UserStatus
from web.forms import Form
from web.site import Web
from web.visit import safe_next, visit_of

log = logging.getLogger("trail.web")

Next = Annotated[str | None, Parameter(query="next", required=False)]


def _address(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else "unknown"


@get("/signin", sync_to_thread=False)
def signin_page(request: Request[Any, Any, Any], web: Web, target: Next = None) -> Response[Any]:
    if visit_of(request).actor is not None:
        return web.redirect(request, safe_next(target))
    return web.page(request, "signin.html", {"form": Form(), "next": safe_next(target),
                                             "notice": None})


@post("/signin", sync_to_thread=True)
def signin(request: Request[Any, Any, Any], web: Web) -> Response[Any]:
    form = Form.of(request)
    target = safe_next(form.text("next"))
    email, password = form.text("email").strip(), form.text("password")
    notice = None
    status = 200
    try:
        user = sign_in(web.commands.accounts, web.services.limiter, email, password,
                       _address(request))
    except Unauthenticated:
        notice = "The email or the password is wrong."
        status = 400
    except AccountPending:
        notice = ("Your account is waiting for an admin's approval. You can sign in once it "
                  "is approved.")
        status = 403
    except TooManyLogins as error:
        minutes = max(1, round(error.retry_after / 60))
        notice = (f"Too many failed attempts. For your account's safety, try again in "
                  f"{minutes} minute{'s' if minutes != 1 else ''}.")
        status = 429
    else:
        web.start_session(visit_of(request), user.id)
        return web.redirect(request, target)
    form.values.pop("password", None)
    response = web.page(request, "signin.html", {"form": form, "next": target, "notice": notice},
                        status_code=status)
    return response


@post("/signout", sync_to_thread=True)
def signout(request: Request[Any, Any, Any], web: Web) -> Response[Any]:
    visit = visit_of(request)
    web.end_session(visit)
    visit.say("signed-out")
    return web.redirect(request, "/signin")


@get("/register", sync_to_thread=False)
def register_page(request: Request[Any, Any, Any], web: Web) -> Response[Any]:
    if visit_of(request).actor is not None:
        return web.redirect(request, "/")
    return web.page(request, "register.html", {"form": Form(), "approval": _approval(web)})


@post("/register", sync_to_thread=True)
def register(request: Request[Any, Any, Any], web: Web) -> Response[Any]:
    form = Form.of(request)
    if form.text("password") != form.text("password_again"):
        form.errors["password_again"] = "does not match the password"
    if form.ok:
        try:
            outcome = web.commands.accounts.register(RegisterUser(
                name=form.text("name"), email=form.text("email"), password=form.text("password")
            ))
        except InvalidFields as error:
            form.fail(error)
        except NameTaken:
            form.errors["email"] = "already has an account: sign in, or reset its password"
        else:
            user = outcome.aggregate
            visit = visit_of(request)
            visit.wrote(outcome.position)
            if user.status is UserStatus.PENDING:
                return web.page(request, "registered.html", {"name": user.name})
            web.start_session(visit, user.id)
            return web.redirect(request, "/")
    for secret in ("password", "password_again"):
        form.values.pop(secret, None)
    return web.page(request, "register.html", {"form": form, "approval": _approval(web)},
                    status_code=400)


def _approval(web: Web) -> bool:
    return web.services.settings.registration == "approval"


@get("/password-reset", sync_to_thread=False)
def reset_page(request: Request[Any, Any, Any], web: Web) -> Response[Any]:
    return web.page(request, "reset_request.html", {"form": Form(), "sent": False})


@post("/password-reset", sync_to_thread=False)
def request_reset(request: Request[Any, Any, Any], web: Web) -> Response[Any]:
    form = Form.of(request)
    email = form.text("email").strip()
    response = web.page(request, "reset_request.html", {"form": form, "sent": bool(email)})
    if email:
        # As the API does: the work happens after the answer, so a known and an unknown email
        # take the same time to answer.
        response.background = BackgroundTask(_send_reset, web, email)
    return response


def _send_reset(web: Web, email: str) -> None:
    try:
        issued = web.commands.accounts.start_password_reset(email)
        if issued is not None:
            user, token = issued
            web.services.send_password_reset(
                user_id=user.id, email=user.email, name=user.name, token=token
            )
    except Exception:
        log.exception("could not issue or send a password-reset email")


ResetToken = Annotated[str | None, Parameter(query="token", required=False)]


@get("/password-reset/confirm", sync_to_thread=False)
def confirm_page(request: Request[Any, Any, Any], web: Web, token: ResetToken = None
                 ) -> Response[Any]:
    response = web.page(request, "reset_confirm.html", {"form": Form({"token": token or ""}),
                                                        "notice": None})
    # The token is in this page's URL: no other site may learn it from a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@post("/password-reset/confirm", sync_to_thread=True)
def confirm_reset(request: Request[Any, Any, Any], web: Web) -> Response[Any]:
    form = Form.of(request)
    notice = None
    if form.text("new_password") != form.text("password_again"):
        form.errors["password_again"] = "does not match the new password"
    if form.ok:
        try:
            outcome = web.commands.accounts.finish_password_reset(
                form.text("token").strip(), form.text("new_password")
            )
        except InvalidFields as error:
            form.fail(error)
        except InvalidResetToken:
            notice = ("This reset link is unknown, already used or expired. Ask for a new one.")
        else:
            visit = visit_of(request)
            visit.wrote(outcome.position)
            # Whoever was signed in here before the reset is signed out by it.
            web.end_session(visit)
            visit.say("password-changed")
            return web.redirect(request, "/signin")
    for secret in ("new_password", "password_again"):
        form.values.pop(secret, None)
    response = web.page(request, "reset_confirm.html", {"form": form, "notice": notice},
                        status_code=400)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


ROUTES = [signin_page, signin, signout, register_page, register, reset_page, request_reset,
          confirm_page, confirm_reset]
