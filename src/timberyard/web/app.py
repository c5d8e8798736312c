"""The ASGI application: routes from web/api, JSON errors, and the node in `app.state`."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from timberyard.web.api import export, ingest, keys, ops, search, tail
from timberyard.web.errors import EXCEPTION_HANDLERS


def build_app(node: Any, lifespan: Any = None) -> Starlette:
    app = Starlette(
        routes=[*ingest.routes, *export.routes, *search.routes, *keys.routes, *ops.routes, *tail.routes],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.node = node
    return app
