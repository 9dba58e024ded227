"""OpenAPI 3.1 at /schema/openapi.json and Swagger UI at /docs, with every asset served from
this server (the `swagger-ui-py` package ships them), so the docs work with no internet access."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import CacheControlHeader
from litestar.enums import MediaType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme, Tag
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from api.errors import PROBLEM_MEDIA_TYPE

ASSETS_PATH = "/docs/assets"
BEARER: list[SecurityRequirement] = [{"bearer": []}]

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Trail API</title>
  <link rel="stylesheet" href="{assets}/swagger-ui.css">
  <style>body {{ margin: 0 }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{assets}/swagger-ui-bundle.js"></script>
  <script src="{assets}/swagger-ui-standalone-preset.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: "/schema/openapi.json",
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
      layout: "StandaloneLayout",
    }});
  </script>
</body>
</html>
"""


def swagger_ui_directory() -> Path:
    # Located without importing: the package's __init__ pulls in web-framework handlers we
    # do not use; only its static files are needed.
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(spec.origin).parent / "static"


@get(
    "/docs",
    tags=["docs"],
    media_type=MediaType.HTML,
    sync_to_thread=False,
    summary="Interactive API documentation (Swagger UI), served with its own assets",
)
def docs_page() -> Response[str]:
    return Response(_PAGE.format(assets=ASSETS_PATH), media_type=MediaType.HTML)


def docs_routes() -> list[ControllerRouterHandler]:
    assets = create_static_files_router(
        path=ASSETS_PATH,
        directories=[swagger_ui_directory()],
            include_in_schema=False,
        # The files only change with the installed package version.
        cache_control=CacheControlHeader(max_age=86400, public=True),
    )
    return [docs_page, assets]


_PROBLEM = {"$ref": "#/components/schemas/ProblemDocument"}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes a retry return the first answer instead of acting twice. Scoped to "
    "the caller; kept 24 h. The same key with a different request is 422; while the first "
    "request still runs, 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": _PROBLEM}}}


def completed_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The generated document plus what applies to every operation but is not declared per
    handler: problem bodies for 400 (Litestar would describe its own), no body for 204, a
    schema for every response header, and the `Idempotency-Key` header with its 409 and 422
    answers on every POST."""
    schema = copy.deepcopy(schema)
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            responses["400"] = _problem("Malformed request")
            responses.get("204", {}).pop("content", None)
            for response in responses.values():
                for header in response.get("headers", {}).values():
                    header.setdefault("schema", {"type": "string"})
            if method == "post":
                operation.setdefault("parameters", []).append(dict(_IDEMPOTENCY_KEY))
                responses.setdefault("409", _problem("A request with this key is still running"))
                responses.setdefault("422", _problem("This key was used for another request"))
    return schema


class OpenAPIJson(JsonRenderPlugin):
    """/schema/openapi.json, completed once (see `completed_schema`) and then served as is."""

    def __init__(self) -> None:
        super().__init__()
        self._rendered: bytes | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        if self._rendered is None:
            self._rendered = self.render_json(request, completed_schema(openapi_schema))
        return self._rendered


def operation_id(handler: HTTPRouteHandler, _method: Any, _path: Any) -> str:
    """`listTickets`, `confirmPasswordReset`: the handler's name, as Swagger UI links to it
    (`/docs#/auth/confirmPasswordReset`)."""
    first, *rest = handler.handler_name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Trail",
        version="1.0.0",
        description="An event-sourced issue tracker. Errors are RFC 9457 problem documents.",
        path="/schema",
        render_plugins=[OpenAPIJson()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="An access token from `POST /auth/token` (a JWT, 30 minutes) or "
                    "an API token from `POST /me/tokens` (`trail_pat_…`).",
                )
            }
        ),
        tags=[
            Tag(name="auth", description="Accounts, access and API tokens, password reset"),
            Tag(name="users"),
            Tag(name="projects"),
            Tag(name="tickets"),
            Tag(name="comments"),
            Tag(name="attachments", description="Files on tickets: upload, list, download"),
            Tag(name="audit", description="History, the global event log and its stream"),
            Tag(name="stats"),
            Tag(name="admin"),
            Tag(name="webhooks", description="Signed deliveries of the log's events (admin)"),
            Tag(name="health", description="Probes and metrics for operators (no token)"),
            Tag(name="docs"),
        ],
        use_handler_docstrings=False,
        operation_id_creator=operation_id,
    )
