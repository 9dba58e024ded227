"""What the ticket page's buttons and small forms do: move the status, set the assignees, write
and rewrite comments, watch or stop watching, link and unlink tickets.

Each is one command (`commands.tickets`, `watching`, `links`), which decides who may do it; a
refused form comes back on the ticket page with its error under its input.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post

from commands.errors import NotFound
from commands.messages import (
    AssignTicket,
    CommentOnTicket,
    EditComment,
    EditTicket,
    LinkTickets,
    UnlinkTickets,
    WatchTicket,
)
from commands.permissions import Actor
from domain.errors import (
    CycleNotAllowed,
    InvalidFields,
    LinkNotAllowed,
    NotCommentAuthor,
    TicketBlocked,
    TransitionNotAllowed,
)
from domain.links import LinkType
from domain.values import Status
from projections.errors import InvalidQuery
from web.forms import Form
from web.pages.common import after_change, enum_of, expected, load, resolve
from web.pages.ticket_view import render_ticket
from web.site import Web


@post("/t/{key:str}/status", sync_to_thread=True)
def change_status(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
                  ) -> Response[Any]:
    form = Form.of(request)
    status = enum_of(Status, form.text("status"), "status")
    if status is None:
        raise InvalidQuery("status", "must be chosen")
    try:
        outcome = web.commands.tickets.edit(actor, EditTicket(
            ticket_id=resolve(web, key), status=status, expected_version=expected(form)))
    except (TicketBlocked, TransitionNotAllowed) as error:
        return render_ticket(request, web, actor, key, notice=str(error), status_code=409)
    return after_change(request, web, f"/t/{key}", outcome.position, "saved")


@post("/t/{key:str}/assignees", sync_to_thread=True)
def change_assignees(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
                     ) -> Response[Any]:
    form = Form.of(request)
    ticket_id = resolve(web, key)
    if form.text("me") == "1":
        current = web.commands.tickets.get(actor, ticket_id)
        ids = [*current.assignee_ids, actor.id] if actor.id not in current.assignee_ids else list(
            current.assignee_ids)
    else:
        ids = form.uuids("assignee_ids")
    try:
        outcome = web.commands.tickets.assign(actor, AssignTicket(
            ticket_id=ticket_id, user_ids=tuple(ids), expected_version=expected(form)))
    except InvalidFields as error:
        raise InvalidQuery("assignee_ids", error.errors[0].message) from None
    return after_change(request, web, f"/t/{key}", outcome.position, "saved")


@post("/t/{key:str}/watch", sync_to_thread=True)
def watch(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str) -> Response[Any]:
    """Watching is not a change of the ticket: no event on it, nobody notified."""
    watching = Form.of(request).text("watching") == "1"
    outcome = web.commands.watching.choose(
        actor, WatchTicket(ticket_id=resolve(web, key), watching=watching))
    return after_change(request, web, f"/t/{key}#watchers", outcome.position,
                        "watching" if watching else "unwatching")


# ---------------------------------------------------------------------------- comments


@post("/t/{key:str}/comments", sync_to_thread=True)
def add_comment(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
                ) -> Response[Any]:
    form = Form.of(request)
    try:
        outcome = web.commands.tickets.comment(actor, CommentOnTicket(
            ticket_id=resolve(web, key), body=form.text("body")))
    except InvalidFields as error:
        form.fail(error)
        return render_ticket(request, web, actor, key, forms={"comment": form},
                             status_code=400)
    return after_change(request, web, f"/t/{key}#comment-{outcome.id}", outcome.position,
                        "commented")


@get("/t/{key:str}/comments/{comment_id:uuid}/edit", sync_to_thread=True)
def edit_comment_page(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str,
                      comment_id: UUID) -> Response[Any]:
    ticket, view = load(web, actor, key)
    comment = ticket.comments.get(comment_id)
    if comment is None:
        raise NotFound("no such comment")
    if comment.author_id != actor.id:
        raise NotCommentAuthor("only the author of a comment may edit it")
    return web.page(request, "comment_form.html", {
        "title": f"Edit your comment on {view.key}", "t": view,
        "form": Form({"body": comment.body, "version": str(ticket.version)}),
        "comment": comment,
    })


@post("/t/{key:str}/comments/{comment_id:uuid}/edit", sync_to_thread=True)
def edit_comment(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str,
                 comment_id: UUID) -> Response[Any]:
    form = Form.of(request)
    try:
        outcome = web.commands.tickets.edit_comment(actor, EditComment(
            ticket_id=resolve(web, key), comment_id=comment_id, body=form.text("body")))
    except InvalidFields as error:
        form.fail(error)
        ticket, view = load(web, actor, key)
        return web.page(request, "comment_form.html", {
            "title": f"Edit your comment on {view.key}", "t": view, "form": form,
            "comment": ticket.comments.get(comment_id),
        }, status_code=400)
    return after_change(request, web, f"/t/{key}#comment-{comment_id}", outcome.position,
                        "comment-saved")


# ---------------------------------------------------------------------------- links


@post("/t/{key:str}/links", sync_to_thread=True)
def add_link(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
             ) -> Response[Any]:
    form = Form.of(request)
    kind = form.choice("link_type", [t.value for t in LinkType])
    other_key = form.text("other").strip()
    other: UUID | None = None
    if not other_key:
        form.errors["other"] = "must be the key of a ticket, e.g. WEB-12"
    else:
        try:
            other = resolve(web, other_key)
        except NotFound:
            form.errors["other"] = "is not the key of a ticket you can see"
    if form.ok and kind and other is not None:
        try:
            outcome = web.commands.links.add(actor, LinkTickets(
                ticket_id=resolve(web, key), type=LinkType(kind), other_id=other))
        except InvalidFields:
            # The only field a link names is the other ticket: unknown, or not visible.
            form.errors["other"] = "is not the key of a ticket you can see"
        except (LinkNotAllowed, CycleNotAllowed) as error:
            form.errors["other"] = f"cannot be linked: {error}"
        else:
            return after_change(request, web, f"/t/{key}#links", outcome.position, "linked")
    elif kind is None and "link_type" not in form.errors:
        form.errors["link_type"] = "must be chosen"
    return render_ticket(request, web, actor, key, forms={"link": form}, status_code=400)


@post("/t/{key:str}/links/{link_id:uuid}/remove", sync_to_thread=True)
def remove_link(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str,
                link_id: UUID) -> Response[Any]:
    outcome = web.commands.links.remove(actor, UnlinkTickets(
        ticket_id=resolve(web, key), link_id=link_id))
    return after_change(request, web, f"/t/{key}#links", outcome.position, "unlinked")


ROUTES = [change_status, change_assignees, watch, add_comment, edit_comment_page, edit_comment,
          add_link, remove_link]
