"""OpenAPI for the two operations that carry files rather than JSON: the upload's multipart body
(its `file` part) and limits, and the download's bytes in each type an attachment can have.

Litestar describes request and response bodies from a handler's types; these bodies are
streamed, so their operations describe them here (`operation_class` of the route)."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import (
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from blobstore.detect import ALLOWED_TYPES

_BYTES = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY)
_STRING = Schema(type=OpenAPIType.STRING)


def _header(description: str) -> OpenAPIHeader:
    return OpenAPIHeader(description=description, schema=_STRING)


_DOWNLOAD_HEADERS: dict[str, OpenAPIHeader | Reference] = {
    "ETag": _header('The sha256 of the bytes, quoted: `"<sha256>"`.'),
    "Content-Disposition": _header("`attachment; filename=\"…\"; filename*=UTF-8''…`"),
    "X-Content-Type-Options": _header("`nosniff`"),
    "Accept-Ranges": _header("`bytes`"),
    "Content-Length": _header("The bytes sent."),
}

_CONTENT_RANGE: OpenAPIHeader | Reference = _header("`bytes first-last/size`")


@dataclass
class UploadOperation(Operation):
    def __post_init__(self) -> None:
        form = Schema(
            type=OpenAPIType.OBJECT,
            properties={"file": Schema(
                type=OpenAPIType.STRING,
                format=OpenAPIFormat.BINARY,
                description="The file. Its type is told from its bytes; its name comes from "
                "the part's `filename` (without any path; at most 255 characters).",
            )},
            required=["file"],
        )
        self.request_body = RequestBody(
            content={"multipart/form-data": OpenAPIMediaType(schema=form)}, required=True
        )
        responses = self.responses or {}
        for status, description in (
            ("413", "The file is larger than `TRAIL_MAX_UPLOAD_MB` MiB (refused as soon as "
                    "`Content-Length` or the bytes received show it)"),
            ("415", "Not `multipart/form-data`, or a file whose bytes are none of the allowed "
                    "types"),
        ):
            response = responses.get(status)
            if isinstance(response, OpenAPIResponse):
                response.description = description


@dataclass
class DownloadOperation(Operation):
    def __post_init__(self) -> None:
        content = {media: OpenAPIMediaType(schema=_BYTES) for media in sorted(ALLOWED_TYPES)}
        self.responses = {
            **(self.responses or {}),
            "200": OpenAPIResponse(
                description="The whole file", headers=_DOWNLOAD_HEADERS, content=content
            ),
            "206": OpenAPIResponse(
                description="The range asked for",
                headers={**_DOWNLOAD_HEADERS, "Content-Range": _CONTENT_RANGE},
                content=content,
            ),
            "304": OpenAPIResponse(
                description="`If-None-Match` names these bytes", headers=_DOWNLOAD_HEADERS
            ),
        }
