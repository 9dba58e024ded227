"""Attachments: upload a file to a ticket (streamed), list a ticket's files, download one (whole
or a range), remove one."""

from __future__ import annotations

import logging
from typing import Annotated, Any
from uuid import UUID

from anyio import to_thread
from litestar import Request, Response, delete, get, post
from litestar.params import Parameter
from litestar.response import Stream

from api.context import Context
from api.downloads import (
    download_headers,
    entity_tag,
    not_modified,
    requested_range,
    streamed,
)
from api.errors import Problem, problem_responses
from api.headers import LOCATION, TRAIL_POSITION, IfMatch, MinPosition, expected_version
from api.openapi_files import DownloadOperation, UploadOperation
from api.paging import Cursor, Limit
from api.people import ref
from api.reads import reading, reading_ticket, wait_for_reads, waits_for
from api.responses import answer
from api.uploads import (
    UploadForm,
    body_reader,
    form_boundary,
    refuse_oversized,
    upload_slots,
)
from blobstore import BlobNotFound, BlobReader
from commands.base import Outcome
from commands.errors import NotFound
from commands.messages import AddAttachment, RemoveAttachment
from commands.permissions import Actor
from domain.ticket import Ticket
from domain.ticket_events import Attachment
from projections import attachments, tickets, users
from projections.attachments import AttachmentView
from projections.paging import Page

log = logging.getLogger("trail.api")

TAGS = ["attachments"]
# The list: visibility from the tickets model, the files from theirs, uploaders' names.
LIST_READS = (tickets.TicketsProjection.name, attachments.AttachmentsProjection.name,
              users.UsersProjection.name)
# Where an attachment id is looked up; the rest is decided on the ticket itself.
FIND_READS = (attachments.AttachmentsProjection.name,)

IfNoneMatch = Annotated[str | None, Parameter(header="If-None-Match", required=False)]
IfRange = Annotated[str | None, Parameter(header="If-Range", required=False)]
RangeHeader = Annotated[
    str | None,
    Parameter(header="Range", required=False,
              description="`bytes=first-last`, `bytes=first-` or `bytes=-suffix`; of several "
              "ranges the first that fits is served."),
]


@post(
    "/tickets/{ticket_id:str}/attachments",
    tags=TAGS,
    status_code=201,
    summary="Attach a file to a ticket",
    description="`multipart/form-data` with the file in the part named `file`. Anyone who may "
    "see the ticket may attach. The type comes from the bytes, never from the name or the "
    "part's `Content-Type`: PNG, JPEG, GIF, WebP, PDF, plain text, CSV, JSON, ZIP and gzip "
    "(anything else is 415). More than `TRAIL_MAX_UPLOAD_MB` MiB is 413, refused as soon as "
    "it is known. A missing `file` part, or a filename over 255 characters, is 422. One user "
    "may start 100 uploads per 10 minutes (then 429 with `Retry-After`).",
    # The upload is streamed and counted against its own limit, not the JSON bodies' 1 MiB.
    request_max_body_size=None,
    operation_class=UploadOperation,
    response_headers=[LOCATION, TRAIL_POSITION],
    responses=problem_responses(400, 401, 404, 408, 409, 412, 413, 415, 422, 429, 503),
)
async def add_attachment(
    request: Request[Any, Any, Any],
    ticket_uuid: UUID,
    context: Context,
    actor: Actor,
    if_match: IfMatch = None,
) -> Response[AttachmentView]:
    boundary = form_boundary(request.headers.get("content-type"))
    max_bytes = context.services.settings.max_upload_bytes
    refuse_oversized(request.content_length, max_bytes)
    version = expected_version(if_match)
    # Refused before a byte of the file is read: a hidden ticket, an archived project.
    await to_thread.run_sync(context.commands.attachments.admit, actor, ticket_uuid, version)
    await to_thread.run_sync(context.uploads.take, str(actor.id), "uploads")
    read = body_reader(request.stream())

    def upload() -> Outcome[Ticket]:
        part = UploadForm(read, boundary, max_bytes).file()
        command = AddAttachment(ticket_id=ticket_uuid, filename=part.filename,
                                expected_version=version)
        return context.commands.attachments.add(actor, command, part.chunks)

    outcome = await to_thread.run_sync(upload, limiter=upload_slots(request.app.state))
    attachment = outcome.aggregate.attachments[outcome.id]
    uploader = await to_thread.run_sync(ref, context, attachment.uploaded_by)
    view = attachments.view_of(outcome.aggregate.id, attachment, uploader)
    return answer(view, outcome.position, status_code=201,
                  location=f"/attachments/{outcome.id}")


@get(
    "/tickets/{ticket_id:str}/attachments",
    tags=TAGS,
    sync_to_thread=True,
    summary="A ticket's attachments, oldest first",
    description="Removed attachments are not listed.",
    responses=problem_responses(401, 404, 422, 503),
)
def list_attachments(
    ticket_uuid: UUID,
    context: Context,
    actor: Actor,
    limit: Limit = 25,
    cursor: Cursor = None,
    min_position: MinPosition = None,
) -> Page[AttachmentView]:
    with reading_ticket(context, LIST_READS, min_position, ticket_uuid, actor) as conn:
        return attachments.list_attachments(conn, ticket_uuid, limit, cursor)


@get(
    "/attachments/{attachment_id:uuid}",
    tags=TAGS,
    sync_to_thread=True,
    summary="Download an attachment",
    description="The bytes, as a download (`Content-Disposition: attachment`, `nosniff`), "
    "with the detected `Content-Type` and the sha256 as `ETag`. `If-None-Match` answers 304; "
    "`Range` is honoured (206, `Content-Range`), 416 when no range fits. 404 when the caller "
    "may not see the ticket; 410 once the attachment is removed.",
    operation_class=DownloadOperation,
    responses=problem_responses(401, 404, 410, 416, 422, 503),
)
def download_attachment(
    attachment_id: UUID,
    context: Context,
    actor: Actor,
    range_header: RangeHeader = None,
    if_range: IfRange = None,
    if_none_match: IfNoneMatch = None,
    min_position: MinPosition = None,
) -> Response[Any]:
    attachment = _live_attachment(context, actor, attachment_id, min_position)
    headers = download_headers(attachment)
    etag = entity_tag(attachment)
    if not_modified(if_none_match, etag):
        return Response(b"", status_code=304, headers=headers)
    window = requested_range(range_header, if_range, etag, attachment.size)
    if window is None:
        reader = _open(context, attachment, 0, None)
        headers["Content-Length"] = str(attachment.size)
        status = 200
    else:
        reader = _open(context, attachment, window.start, window.stop)
        headers["Content-Length"] = str(window.stop - window.start)
        headers["Content-Range"] = window.content_range(attachment.size)
        status = 206
    return Stream(streamed(reader), status_code=status, media_type=attachment.content_type,
                  headers=headers)


@delete(
    "/attachments/{attachment_id:uuid}",
    tags=TAGS,
    status_code=204,
    sync_to_thread=True,
    summary="Remove an attachment",
    description="Its uploader or an admin (403 for anyone else who may see the ticket). A "
    "change to the ticket like any other: it raises `version` and shows in history. The bytes "
    "are kept for `TRAIL_ATTACHMENT_RETENTION_DAYS` days.",
    response_headers=[TRAIL_POSITION],
    responses=problem_responses(401, 403, 404, 409, 410, 503),
)
def remove_attachment(attachment_id: UUID, context: Context, actor: Actor) -> Response[None]:
    ticket_id = _ticket_of(context, attachment_id, None)
    outcome = context.commands.attachments.remove(
        actor, RemoveAttachment(ticket_id=ticket_id, attachment_id=attachment_id)
    )
    return Response(None, status_code=204, headers={"Trail-Position": str(outcome.position)})


def _open(context: Context, attachment: Attachment, start: int, stop: int | None) -> BlobReader:
    try:
        return context.services.blobs.open(attachment.sha256, start, stop)
    except BlobNotFound:
        # Bytes are written before their event and kept while an attachment is live: this is
        # data lost outside Trail (a bucket emptied, a restore without the blobs).
        log.error("attachment %s is live but its bytes %s are not stored",
                  attachment.id, attachment.sha256)
        raise Problem(410, "the bytes of this attachment are no longer stored",
                      kind="gone") from None


def _live_attachment(
    context: Context, actor: Actor, attachment_id: UUID, min_position: int | None
) -> Attachment:
    """The attachment as its ticket has it now: 404 when the caller may not see the ticket or
    the id is unknown, 410 when it was removed."""
    ticket = context.commands.tickets.get(actor, _ticket_of(context, attachment_id, min_position))
    return ticket.attachment(attachment_id)


def _ticket_of(context: Context, attachment_id: UUID, min_position: int | None) -> UUID:
    """The ticket of an attachment id, from the read model. An id it does not know yet may
    have been added a moment ago: it is asked again once it has caught up with the log as it
    is now, so an attachment is never unknown merely because the read side lags."""
    with reading(context, FIND_READS, min_position) as conn:
        ticket_id = attachments.ticket_of(conn, attachment_id)
    if ticket_id is None:
        wait_for_reads(context, FIND_READS, context.commands.store.current_position())
        with context.services.pool.connection() as conn:
            ticket_id = attachments.ticket_of(conn, attachment_id)
    if ticket_id is None:
        raise NotFound("no such attachment")
    return ticket_id


ROUTES = [add_attachment, list_attachments, download_attachment, remove_attachment]
waits_for(LIST_READS, list_attachments)
waits_for(FIND_READS, download_attachment)
