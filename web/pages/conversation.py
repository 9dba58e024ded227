"""A ticket's conversation: messages between its reporter and its current assignees.

`commands.conversations` decides who takes part (`domain.conversation.takes_part`); anyone else,
admins included, is answered "not found", as the API does. A message never changes the ticket.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post

from commands.messages import PostMessage
from commands.permissions import Actor
from domain.errors import InvalidFields
from web.forms import Form
from web.pages.common import after_change, resolve
from web.pages.ticket_view import render_ticket
from web.site import Web


@post("/t/{key:str}/messages", sync_to_thread=True)
def post_message(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str
                 ) -> Response[Any]:
    form = Form.of(request)
    body = form.text("body")
    try:
        outcome = web.commands.conversations.post(actor, PostMessage(
            ticket_id=resolve(web, key), body=body))
    except InvalidFields as error:
        form.fail(error)
        return render_ticket(request, web, actor, key, forms={"message": form},
                             status_code=400)
    return after_change(request, web, f"/t/{key}#message-{outcome.aggregate.id}",
                        outcome.position, "message-posted")


ROUTES = [post_message]
