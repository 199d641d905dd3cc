"""The docs UI, served entirely by the service: Swagger UI at /docs, ReDoc at /redoc.

The JavaScript, CSS and favicon come from the pinned `fastapi-offline` package (its static
files only), plus our own `swagger-init.js` and `redoc-init.js`, so the pages work with no
internet access and under a strict Content-Security-Policy (no inline or external scripts).
Every URL carries the ROOT_PATH prefix, so the pages work behind a proxy too. The pages also
answer with a trailing slash (their URLs are absolute, so nothing changes); the assets, being
file names, do not.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
# The pages, with and without a trailing slash: both get the docs' Content-Security-Policy.
DOCS_PATHS = frozenset({"/docs", "/docs/", "/redoc", "/redoc/"})
_OUR_ASSETS = Path(__file__).parent / "docs_assets"

router = APIRouter(include_in_schema=False)

_SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - Swagger UI</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""

_REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title} - ReDoc</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
</head>
<body>
<redoc spec-url="{openapi}" data-logo-url="{assets}/favicon.png"></redoc>
<script src="{assets}/redoc-init.js"></script>
<script src="{assets}/redoc.standalone.js"></script>
</body>
</html>
"""


def _page(template: str, request: Request) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    app: FastAPI = request.app
    return HTMLResponse(
        template.format(
            title=escape(app.title),
            assets=escape(f"{root}{ASSETS_PATH}"),
            openapi=escape(f"{root}{app.openapi_url}"),
        )
    )


@router.get("/docs")
@router.get("/docs/")
async def swagger_ui(request: Request) -> HTMLResponse:
    return _page(_SWAGGER_PAGE, request)


@router.get("/redoc")
@router.get("/redoc/")
async def redoc(request: Request) -> HTMLResponse:
    return _page(_REDOC_PAGE, request)


_ASSET_FILES = StaticFiles(directory=_OUR_ASSETS, packages=[("fastapi_offline", "static")])


# A route, not `app.mount`: a mounted StaticFiles looks files up by the full request path when
# the root path is not part of it, so behind a proxy that strips ROOT_PATH every asset was a
# 404. The route hands StaticFiles the name alone (it still refuses traversal, answers 304s).
@router.get(ASSETS_PATH + "/{name}")
async def docs_asset(name: str, request: Request) -> Response:
    return await _ASSET_FILES.get_response(name, request.scope)


def install_docs(app: FastAPI) -> None:
    """Serve the docs pages and their assets (create the app with docs_url=redoc_url=None)."""
    app.include_router(router)
