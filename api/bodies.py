"""Request bodies: JSON only, at most 1 MiB, and every bad field named at once.

Litestar decodes a handler's `data` with msgspec, which stops at the first error. The contract
wants `errors` to name every bad field, so bodies are checked here first, field by field, and
Litestar's own decode only ever sees a body that passes.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import msgspec
from litestar import Request

from api.errors import FieldIssue, InvalidInput, Problem

MAX_JSON_BODY = 1024 * 1024
# No request of the contract nests deeper than a few levels; a body nested deeper is an attack
# on the parsers (recursion), refused as malformed before anything walks it.
MAX_JSON_DEPTH = 32

_JSON_TYPES = re.compile(r"^application/([a-z0-9.+-]+\+)?json$")
_AT_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`$")


def body_type(request: Request[Any, Any, Any]) -> type[msgspec.Struct] | None:
    """The Struct the route handler takes as `data`, if it takes a body at all."""
    parameter = request.route_handler.parsed_fn_signature.parameters.get("data")
    if parameter is None:
        return None
    annotation = parameter.annotation
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    return None


async def check_body(request: Request[Any, Any, Any], struct: type[msgspec.Struct]) -> None:
    """415 for a non-JSON body, 413 past 1 MiB, 400 for JSON that does not parse, 422 naming
    every field that breaks the request's shape."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not _JSON_TYPES.match(media_type):
        raise Problem(415, "send the request body as application/json",
                      kind="unsupported-media-type")
    value = parse_json(await request.body())
    issues = shape_issues(value, struct)
    if issues:
        raise InvalidInput(issues)


def parse_json(raw: bytes) -> Any:
    """The JSON of a body, or 400: not JSON, not UTF-8, or nested past `MAX_JSON_DEPTH`."""
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise Problem(400, f"the body is not valid JSON: {error}", kind="malformed") from None
    except UnicodeDecodeError:
        raise Problem(400, "the body is not valid UTF-8", kind="malformed") from None
    except RecursionError:
        raise _too_deep() from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise _too_deep()
    return value


def _too_deep() -> Problem:
    return Problem(400, f"the body nests JSON deeper than {MAX_JSON_DEPTH} levels",
                   kind="malformed")


def _depth(value: Any) -> int:
    """How deep arrays and objects nest in `value`, walked without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level > MAX_JSON_DEPTH:
                break
            pending.extend((child, level + 1) for child in item)
    return deepest


@functools.cache
def _fields(struct: type[msgspec.Struct]) -> dict[str, msgspec.structs.FieldInfo]:
    # msgspec resolves the Struct's annotations through `typing` on every call: once per type.
    return {f.encode_name: f for f in msgspec.structs.fields(struct)}


def shape_issues(value: Any, struct: type[msgspec.Struct]) -> list[FieldIssue]:
    """Every way `value` (decoded JSON) fails to be a `struct`: unknown, missing, mistyped."""
    if not isinstance(value, dict):
        return [FieldIssue("body", "must be a JSON object")]
    fields = _fields(struct)
    issues = [
        FieldIssue(name, "is not a field of this request")
        for name in value
        if name not in fields
    ]
    issues += [
        FieldIssue(name, NUL_MESSAGE) for name, item in value.items() if contains_nul(item)
    ]
    for name, info in fields.items():
        if name not in value:
            if info.required:
                issues.append(FieldIssue(name, "is required"))
            continue
        try:
            msgspec.convert(value[name], info.type)
        except msgspec.ValidationError as error:
            issues.append(FieldIssue(name, _message(error)))
    if not issues:
        # Struct-level rules (none today) would surface here; keep the promise of "no 5xx".
        try:
            msgspec.convert(value, struct)
        except msgspec.ValidationError as error:
            issues.append(FieldIssue("body", _message(error)))
    return issues


NUL_MESSAGE = "must not contain the NUL character (\\u0000)"


def contains_nul(value: Any) -> bool:
    """JSON may carry U+0000 in a string; PostgreSQL text cannot, so it is refused at the door
    (stored in an event, it would stop every read model that copies the field)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list):
        return any(contains_nul(item) for item in value)
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    return False


def _message(error: msgspec.ValidationError) -> str:
    """msgspec's message, with its JSON path turned into a plain suffix (`tags[2]`)."""
    text = str(error)
    match = _AT_PATH.search(text)
    if match is None:
        return text
    path = match.group("path")
    return text[: match.start()] + (f" (at {path.lstrip('.')})" if path else "")
