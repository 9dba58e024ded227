"""OpenAPI 3.1 at /schema/openapi.json and Swagger UI at /docs, with every asset served from
this server (the `swagger-ui-py` package ships them), so the docs work with no internet access."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from litestar import Response, get
from litestar.datastructures import CacheControlHeader
from litestar.enums import MediaType
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityRequirement, SecurityScheme, Tag
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

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


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Trail",
        version="1.0.0",
        description="An event-sourced issue tracker. Errors are RFC 9457 problem documents.",
        path="/schema",
        render_plugins=[JsonRenderPlugin()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="An access token from `POST /auth/token`.",
                )
            }
        ),
        tags=[
            Tag(name="auth", description="Accounts, tokens and password reset"),
            Tag(name="users"),
            Tag(name="projects"),
            Tag(name="tickets"),
            Tag(name="comments"),
            Tag(name="audit", description="History, the global event log and its stream"),
            Tag(name="stats"),
            Tag(name="admin"),
            Tag(name="health"),
            Tag(name="docs"),
        ],
        use_handler_docstrings=False,
    )
