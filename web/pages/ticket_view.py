"""The ticket page: a ticket now, or exactly as it was after any event (time travel), with its
history, comments, attachments, links, subtasks, watchers and conversation.

The ticket itself is read from the write side and its history from the log (`eventlog.audit`),
exact the moment a command answers; the panels beside it from the read models, once they show
this browser's last write. A form on the page that is refused is shown again here, on the whole
page, with its error under its input (`forms`).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.params import Parameter

from commands.errors import NotFound
from commands.permissions import Actor
from domain.values import WORKFLOW, Status
from eventlog import audit
from projections import present, tickets
from projections.users import UserRef
from web.forms import Form
from web.pages.common import assignable, resolve
from web.pages.ticket_panels import READS, link_choices, panels
from web.site import Web
from web.timetravel import people_in, timeline, word_diff
from web.visit import visit_of

TRANSITION_VERBS = {
    Status.IN_PROGRESS: "Start progress",
    Status.RESOLVED: "Resolve",
    Status.CLOSED: "Close",
    Status.OPEN: "Reopen",
}


@get("/t/{key:str}", sync_to_thread=True)
def ticket_page(
    request: Request[Any, Any, Any],
    web: Web,
    actor: Actor,
    key: str,
    version: Annotated[str | None, Parameter(query="version", required=False)] = None,
) -> Response[Any]:
    return render_ticket(request, web, actor, key, version)


def render_ticket(
    request: Request[Any, Any, Any],
    web: Web,
    actor: Actor,
    key: str,
    version: str | None = None,
    *,
    forms: dict[str, Form] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response[Any]:
    # Live updates follow from here: the page shows at least what was recorded up to it, and
    # is refreshed for anything after it (taken first, so nothing falls in between).
    live_after = web.commands.store.current_position()
    ticket_id = resolve(web, key)
    current = web.commands.tickets.get(actor, ticket_id)
    chosen: int | None = None
    if version:
        if not version.isdigit() or not 1 <= int(version) <= current.version:
            raise NotFound("no such version of the ticket")
        chosen = int(version)
        if chosen == current.version:
            chosen = None
    with web.reading(visit_of(request), READS) as conn:
        progress = tickets.progress_of(conn, ticket_id)
        now_view = present.ticket_view(conn, current, progress)
        if now_view.key != key and status_code == 200:
            # One address per ticket: `/t/web-42` and its id lead to `/t/WEB-42`.
            suffix = f"?version={chosen}" if chosen else ""
            return web.redirect(request, f"/t/{now_view.key}{suffix}")
        entries = audit.ticket_history(conn, ticket_id)
        shown = current if chosen is None else audit.ticket_at_version(conn, ticket_id, chosen)
        if shown is None:
            raise NotFound("no such version of the ticket")
        before = (audit.ticket_at_version(conn, ticket_id, chosen - 1)
                  if chosen and chosen > 1 else None)
        comment_authors = [c.author_id for c in shown.comments.values()]
        people = present.refs(conn, {*people_in(entries), *comment_authors,
                                     shown.reporter_id, *shown.assignee_ids})
        view = present.ticket_view(conn, shown, progress) if chosen else now_view
        project = web.commands.projects.get(current.project_id)
        can_work = actor.works_team(current.team_id)
        candidates = assignable(conn) if can_work and chosen is None else []
        side = panels(conn, actor, current, shown)
    moments = timeline(entries, people)
    at = moments[(chosen or current.version) - 1] if moments else None
    changed = at.fields if at else set()
    description_diff = None
    if chosen and "description" in changed and before is not None:
        description_diff = word_diff(before.description or "", shown.description or "")
    # The comment the chosen event wrote or rewrote: its time is the event's own.
    touched = at.at if chosen and at and "comment" in changed else None
    comments = [
        {"id": c.id, "author": people.get(c.author_id) or UserRef(c.author_id, ""),
         "body": c.body, "created_at": c.created_at, "edited_at": c.edited_at,
         "mine": c.author_id == actor.id,
         "changed": touched is not None and touched in (c.created_at, c.edited_at)}
        for c in sorted(shown.comments.values(), key=lambda c: c.created_at)
    ]
    return web.page(request, "ticket.html", {
        "title": f"{view.key} {view.title}",
        "t": view,
        "project": project,
        "comments": comments,
        "moments": moments,
        "at": at,
        "version": chosen or current.version,
        "latest": current.version,
        "past": chosen is not None,
        "changed": changed,
        "description_diff": description_diff,
        "transitions": sorted(WORKFLOW[current.status], key=lambda s: list(Status).index(s)),
        "verbs": TRANSITION_VERBS,
        "candidates": candidates,
        "can_work": can_work,
        "can_link": actor.works_tickets,
        "panels": side,
        "link_types": link_choices(),
        "forms": _forms(forms),
        "uploads": web.commands.attachments.storage is not None,
        "upload_limit": getattr(web.commands.attachments.storage, "max_bytes", 0),
        "notice": notice,
        "live_after": live_after,
    }, status_code=status_code)


def _forms(given: dict[str, Form] | None) -> dict[str, Form]:
    """Every form of the page, empty unless one was sent back with its errors."""
    names = ("comment", "upload", "link", "message")
    return {name: (given or {}).get(name) or Form() for name in names}


ROUTES = [ticket_page]
