"""Attachments on the ticket page: upload a file (a multipart form), download one, remove one.

The upload goes through `commands.attachments`, as the API's does: its type comes from its bytes
(an allow-list), its size is bounded (`TRAIL_MAX_UPLOAD_MB`), and adding it is a ticket event.
A download is decided on the ticket itself, loaded from the write side (who may see it, whether
the attachment is still there), then streamed from the blob store as a download that the
browser never renders as a page of this site (`Content-Disposition: attachment`, `nosniff`, a
sandboxing policy).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.response import Stream

from blobstore import BlobNotFound, BlobTooLarge, UnsupportedType
from blobstore.filenames import content_disposition
from commands.errors import NotFound
from commands.messages import AddAttachment, RemoveAttachment
from commands.permissions import Actor
from domain.errors import AttachmentGone, InvalidFields, ProjectArchived
from web.forms import Form
from web.pages.common import after_change, expected, resolve
from web.pages.ticket_view import render_ticket
from web.site import Web
from web.visit import visit_of

CHUNK = 64 * 1024
ALLOWED = "PNG, JPEG, GIF, WebP, PDF, plain text, CSV, JSON, ZIP or gzip"
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
    # Removing it, or losing sight of its ticket, takes effect at once.
    "Cache-Control": "private, no-cache",
}


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _chunks(source: Readable) -> Iterator[bytes]:
    while chunk := source.read(CHUNK):
        yield chunk


@post("/t/{key:str}/attachments", sync_to_thread=True, opt={"upload": True},
      request_max_body_size=None)
def upload(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str) -> Response[Any]:
    """The body's size was checked against the upload limit before it was read
    (`Web.before_request`), so no handler limit applies here."""
    sent = visit_of(request).form
    form = Form.of(request)
    part = sent.get("file") if sent is not None else None
    status = 400
    if not isinstance(part, UploadFile) or not part.filename:
        form.errors["file"] = "must be chosen"
    else:
        storage = web.commands.attachments.storage
        try:
            outcome = web.commands.attachments.add(actor, AddAttachment(
                ticket_id=resolve(web, key), filename=part.filename,
                expected_version=expected(form)), _chunks(part.file))
        except BlobTooLarge:
            limit = storage.max_bytes / 2**20 if storage else 0
            form.errors["file"] = f"is larger than {limit:g} MiB"
            status = 413
        except UnsupportedType:
            form.errors["file"] = f"is not a type Trail keeps: {ALLOWED}"
            status = 415
        except InvalidFields as error:
            form.fail(error)
        except ProjectArchived as error:
            form.errors["file"] = f"cannot be attached: {error}"
            status = 409
        else:
            return after_change(request, web, f"/t/{key}#attachments", outcome.position,
                                "attached")
        finally:
            part.file.close()
    return render_ticket(request, web, actor, key, forms={"upload": form}, status_code=status)


@get("/t/{key:str}/attachments/{attachment_id:uuid}", sync_to_thread=True)
def download(web: Web, actor: Actor, key: str, attachment_id: UUID) -> Response[Any]:
    ticket = web.commands.tickets.get(actor, resolve(web, key))
    attachment = ticket.attachments.get(attachment_id)
    if attachment is None:
        raise NotFound("no such attachment")
    if attachment.removed_at is not None:
        raise AttachmentGone("this attachment was removed")
    blobs = web.commands.attachments.storage
    if blobs is None:
        raise NotFound("this Trail keeps no attachments")
    try:
        reader = blobs.blobs.open(attachment.sha256)
    except BlobNotFound:
        raise AttachmentGone("the bytes of this attachment are no longer stored") from None
    headers = {**DOWNLOAD_HEADERS,
               "Content-Disposition": content_disposition(attachment.filename),
               "Content-Length": str(attachment.size)}
    # Sent as is: no cookies or page headers of the visit on a file's bytes.
    return Stream(reader, media_type=attachment.content_type, headers=headers)


@post("/t/{key:str}/attachments/{attachment_id:uuid}/remove", sync_to_thread=True)
def remove(request: Request[Any, Any, Any], web: Web, actor: Actor, key: str,
           attachment_id: UUID) -> Response[Any]:
    """Its uploader or an admin (the command decides); the bytes stay for the retention."""
    outcome = web.commands.attachments.remove(actor, RemoveAttachment(
        ticket_id=resolve(web, key), attachment_id=attachment_id))
    return after_change(request, web, f"/t/{key}#attachments", outcome.position, "detached")


ROUTES = [upload, download, remove]
