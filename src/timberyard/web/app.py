"""The ASGI application: routes from web/api, JSON errors, security headers, and the node in `app.state`."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.types import ASGIApp

from timberyard.web import ui
from timberyard.web.api import (
    alerts,
    archive,
    audit,
    auth,
    channels,
    drains,
    export,
    groups,
    ingest,
    insights,
    keys,
    ops,
    rules,
    search,
    tail,
    template_trends,
    templates,
    timerange,
    users,
    views,
)
from timberyard.web.drain import DrainBody
from timberyard.web.errors import EXCEPTION_HANDLERS
from timberyard.web.headers import SecurityHeaders


class TimberyardApp(Starlette):
    """Starlette with the security headers outside its error middleware, so a 500 carries them
    too, and the rest of a request body read before any answer (web/drain.py)."""

    def build_middleware_stack(self) -> ASGIApp:
        return DrainBody(SecurityHeaders(super().build_middleware_stack()))


def build_app(node: Any, lifespan: Any = None) -> Starlette:
    app = TimberyardApp(
        routes=[*ingest.routes, *export.routes, *search.routes, *keys.routes, *groups.routes, *auth.routes, *users.routes, *audit.routes, *ops.routes, *tail.routes, *templates.routes, *insights.routes, *template_trends.routes, *timerange.routes, *views.routes, *alerts.routes, *channels.routes, *archive.routes, *rules.routes, *drains.routes, *ui.routes],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.node = node
    return app
