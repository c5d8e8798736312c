"""/api/v1/rules: the account's ingest rules (parse, redact, exclude, retain) and trying one on samples.

Everything here needs `rules.manage` (admins and the owner): rules decide what is stored, so
even reading them is an administrator's business; changing a retention rule also needs
`retention.manage` (the owner), like the account's retention (the RuleBook checks it). Checking, storing and compiling are the
RuleBook's (ingest/rules.py); this module reads requests, authorises and answers. Changes are
audited as `rule.create`, `rule.update` and `rule.delete` with the rule's definition; sample
lines (`samples`, on a create, an update or `POST /api/v1/rules/test`) are never stored,
audited or logged. Another account's rule is a 404, like one that does not exist.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from timberyard.ingest.rules.book import audit_details, describe
from timberyard.ingest.rules.samples import SAMPLES
from timberyard.meta.rules import RuleInfo
from timberyard.parse.grok import DESCRIPTIONS as GROK_DESCRIPTIONS
from timberyard.parse.redaction import DEFAULT_MARKER, DETECTOR_PLACEHOLDER, DETECTORS, PRESET_TITLES, PRESETS
from timberyard.web.access import audit, guarded, principal_of
from timberyard.web.json_body import json_object

EXAMPLE = '{"kind": "exclude", "name": "health checks", "query": "app:nginx /healthz"}'
TEST_EXAMPLE = '{"kind": "parse", "grok": "%{IP:client} %{WORD:method}", "samples": ["10.0.0.1 GET"]}'


def _book(request: Request) -> Any:
    return request.app.state.node.rules


def _target(rule: RuleInfo) -> str:
    return f"rule {rule.id}"


def _answer(rule: RuleInfo, test: dict[str, Any] | None, status: int = 200) -> JSONResponse:
    body = describe(rule)
    if test is not None:
        body["test"] = test
    return JSONResponse(body, status_code=status)


@guarded("rules.manage")
async def list_rules(request: Request) -> JSONResponse:
    listed = await run_in_threadpool(_book(request).list_rules, principal_of(request).account_id)
    return JSONResponse({"rules": listed})


@guarded("rules.manage")
async def create_rule(request: Request) -> JSONResponse:
    principal = principal_of(request)
    body = await json_object(request, EXAMPLE)
    created, test = await run_in_threadpool(partial(_book(request).create_rule, role=principal.role), principal.account_id, body,
                                           principal.actor_name)
    await audit(request, principal, "rule.create", target=_target(created), details=audit_details(created))
    return _answer(created, test, 201)


@guarded("rules.manage")
async def get_rule(request: Request) -> JSONResponse:
    found = await run_in_threadpool(_book(request).get_rule, principal_of(request).account_id, request.path_params["rule_id"])
    return JSONResponse(found)


@guarded("rules.manage")
async def update_rule(request: Request) -> JSONResponse:
    principal = principal_of(request)
    book = _book(request)
    rule_id = request.path_params["rule_id"]
    await run_in_threadpool(book.get_rule, principal.account_id, rule_id)  # a 404 before the body is read
    body = await json_object(request, '{"enabled": false}')
    before, after, test = await run_in_threadpool(partial(book.update_rule, role=principal.role), principal.account_id, rule_id, body)
    changed = sorted(key for key in body if key != SAMPLES)
    await audit(request, principal, "rule.update", target=_target(after),
                details={**audit_details(after), "changed": changed, "before": audit_details(before)})
    return _answer(after, test)


@guarded("rules.manage")
async def delete_rule(request: Request) -> JSONResponse:
    principal = principal_of(request)
    deleted = await run_in_threadpool(partial(_book(request).delete_rule, role=principal.role), principal.account_id,
                                      request.path_params["rule_id"])
    await audit(request, principal, "rule.delete", target=_target(deleted), details=audit_details(deleted))
    return JSONResponse(describe(deleted))


@guarded("rules.manage")
async def test_rule(request: Request) -> JSONResponse:
    body = await json_object(request, TEST_EXAMPLE)
    result = await run_in_threadpool(_book(request).try_rule, principal_of(request).account_id, body)
    return JSONResponse(result)


@guarded("rules.manage")
async def catalog(request: Request) -> JSONResponse:
    """What rules can use: the redaction detectors and presets, the marker, grok's patterns."""
    return JSONResponse({
        "detectors": [
            {"name": d.name, "title": d.title, "description": d.description, "example": d.example}
            for d in DETECTORS.values()
        ],
        "presets": [{"name": name, "title": PRESET_TITLES[name], "detectors": list(members)} for name, members in PRESETS.items()],
        "default_marker": DEFAULT_MARKER,
        "marker_placeholder": DETECTOR_PLACEHOLDER,
        "grok_patterns": [{"name": name, "description": text} for name, text in GROK_DESCRIPTIONS.items()],
    })


routes = [
    Route("/api/v1/rules", list_rules, methods=["GET"]),
    Route("/api/v1/rules", create_rule, methods=["POST"]),
    Route("/api/v1/rules/test", test_rule, methods=["POST"]),
    Route("/api/v1/rules/catalog", catalog, methods=["GET"]),
    Route("/api/v1/rules/{rule_id}", get_rule, methods=["GET"]),
    Route("/api/v1/rules/{rule_id}", update_rule, methods=["PATCH"]),
    Route("/api/v1/rules/{rule_id}", delete_rule, methods=["DELETE"]),
]
