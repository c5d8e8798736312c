"""GET /api/v1/templates/{template_id}: the text of a log template whose id a line carries (`template`).

Templates are learnt per account and app, so only the caller's account's miners are looked in:
another account's id is a 404 like an unknown one. A caller with an access scope sees a
template only if a stored line of it is within the scope, since a template's text is made of
its lines. The text is the template as it is now: it may have gained `<*>` slots since a line
got its id. A path that is not a template id (a whole number below 2^64) names no template: 404."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.core.errors import NotFound
from timberyard.search import compile_sql
from timberyard.store.queries import select_template_seen
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.api.params import MAX_ID, integer


@guarded("logs.read")
async def template(request: Request) -> JSONResponse:
    node = request.app.state.node
    principal = principal_of(request)
    raw_id = request.path_params["template_id"]
    ident = integer(raw_id)
    if ident is None or ident > MAX_ID:
        raise NotFound(f"no template with id {raw_id[:30]!r}: template ids are whole numbers from 0 to {MAX_ID}")
    await audit(request, principal, "template", target=f"template {ident}")
    found = None if node.templates is None else await run_in_threadpool(node.templates.find, principal.account_id, ident)
    if found is not None and principal.scope is not None:
        scope = compile_sql(principal.scope, prefix="s")
        seen = await run_in_threadpool(node.store.select, *select_template_seen(principal.account_id, ident, found[0], scope))
        found = found if seen else None
    if found is None:
        raise NotFound(f"no template with id {ident} in this account")
    return JSONResponse({"id": str(ident), "app": found[0], "template": found[1]})


routes = [Route("/api/v1/templates/{template_id}", template, methods=["GET"])]
