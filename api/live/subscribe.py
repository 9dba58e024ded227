"""`subscribe` on `/ws`: which topics a user may follow, and what a subscription sends.

    ticket:<id or key>   the ticket's events, and its conversation for those who take part
    project:<id>         the events of the project's tickets the user may see
    notifications        the user's own notifications
    messages             the messages of every conversation the user takes part in

A topic the user may not see (or that names nothing) is answered with an `error` frame and
delivers nothing. The first subscription starts the stream at `after` (a position: everything
after it is replayed from the log) or at the head; a later one with `after` replays what its
new topics missed up to where the stream is, then goes on with the others.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from uuid import UUID

import msgspec
from anyio import to_thread

from api.context import Context
from api.live.session import Output, Topics
from api.live.slots import encode, error_frame
from api.live.stream import Request, Stream
from api.people import provide_ticket_uuid
from commands.errors import NotFound
from commands.permissions import Actor
from domain.visibility import TicketAudience, Viewer

MAX_TOPICS = 100


class Subscribed(msgspec.Struct, frozen=True, tag_field="type", tag="subscribed"):
    topics: list[str]
    position: int


def _actor(viewer: Viewer) -> Actor:
    return Actor(id=viewer.id, role=viewer.role, name="", team_ids=viewer.team_ids,
                 led_team_ids=viewer.led_team_ids)


def resolve(context: Context, viewer: Viewer, names: Sequence[str]
            ) -> tuple[Topics, dict[UUID, TicketAudience], list[str], list[str]]:
    """The topics among `names` the viewer may follow, the audiences of their tickets, their
    canonical names, and an error for each of the others."""
    topics, audiences, accepted, errors = Topics(), {}, [], []
    actor = _actor(viewer)
    for name in names:
        kind, _, ref = name.partition(":")
        try:
            if name == "notifications":
                topics.notifications = True
            elif name == "messages":
                topics.messages = True
            elif kind == "ticket" and ref:
                ticket = context.commands.tickets.get(actor, provide_ticket_uuid(ref, context))
                topics.tickets.add(ticket.id)
                audiences[ticket.id] = TicketAudience(ticket.project_id, ticket.reporter_id,
                                                      ticket.assignee_ids, ticket.team_id)
                name = f"ticket:{ticket.id}"
            elif kind == "project" and ref:
                topics.projects.add(context.commands.projects.get(UUID(ref)).id)
            else:
                errors.append(f"{name}: not a topic (ticket:<id>, project:<id>, "
                              "notifications, messages)")
                continue
        except (NotFound, ValueError):
            errors.append(f"{name}: no such {kind or 'topic'}")
            continue
        accepted.append(name)
    return topics, audiences, accepted, errors


def subscription(context: Context, names: list[str], after: int | None) -> Request:
    async def run(stream: Stream) -> AsyncIterator[Output]:
        session, hub = stream.session, stream.hub
        if len(names) + len(session.topics.tickets) + len(session.topics.projects) > MAX_TOPICS:
            yield error_frame(f"at most {MAX_TOPICS} topics per connection")
            return
        topics, audiences, accepted, errors = await to_thread.run_sync(
            resolve, context, session.viewer, names)
        for detail in errors:
            yield error_frame(detail)
        first = not session.started
        if first:
            # Before the head is read: the ring holds whatever comes after this moment.
            hub.place(session)
        head = await to_thread.run_sync(context.commands.store.current_position)
        if after is not None and after > head:
            yield error_frame(f"after: {after} is beyond the last recorded event ({head})")
            return
        session.watched.update(audiences)
        yield encode(Subscribed(accepted, head))
        new = session.topics.added(topics)
        if first:
            session.started = True
            session.position = session.notified = head if after is None else after
        elif after is not None and after < session.position:
            async for output in stream.replay(new, after, session.position, after,
                                              session.notified):
                yield output
        session.topics.merge(new)
        hub.follow(session, new)

    return run
