"""The interactive API docs: Swagger UI served from the assets the ``fastapi-offline`` package
ships (an air-gapped host reaches no CDN), and the OpenAPI document they read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from mailmoat.gateway.problems import document_problems

API = "/api/v1"
DOCS = f"{API}/docs"
ASSETS = f"{DOCS}/assets"
ASSET_DIR = Path(fastapi_offline.__file__).parent / "static"
"""Swagger UI 5's ``swagger-ui-bundle.js`` and ``swagger-ui.css`` (Apache-2.0), and a favicon."""


def install_docs(app: FastAPI) -> None:
    """Serve ``/api/v1/docs`` (and its assets) and ``/api/v1/openapi.json``."""
    app.mount(ASSETS, StaticFiles(directory=ASSET_DIR), name="docs-assets")

    @app.get(DOCS, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{API}/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            swagger_ui_parameters={"persistAuthorization": False},
        )

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(
                get_openapi(title=app.title, version=app.version, routes=app.routes)
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
