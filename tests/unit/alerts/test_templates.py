"""Webhook body templates: JSON in, JSON out, missing names predictable, the sandbox closed."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from timberyard.alerts.notification import Notification
from timberyard.alerts.templates import BodyTemplate
from timberyard.core.errors import BadRequest

LINES = ({"_line": 'he said "no" \\ then {{ left }}', "_app": "api", "_host": "web-1", "level": "error",
          "status": {"code": 503}},)
NOTIFICATION = Notification(
    firing_id=7, alert_id=3, alert_name='checkout "5xx"', account="acct1", kind="presence", state="firing",
    query="app:api level:error", url="https://logs.example.org/view/abc", matches=12, threshold=10,
    window_start=datetime(2026, 11, 30, 9, 0, tzinfo=UTC), window_end=datetime(2026, 11, 30, 9, 5, tzinfo=UTC), lines=LINES,
)


def render(document: object) -> object:
    return orjson.loads(BodyTemplate(orjson.dumps(document).decode()).render(NOTIFICATION.context()))


def test_a_whole_value_keeps_its_type_and_text_stays_text() -> None:
    assert render({"n": "{{ matches }}", "lines": "{{ lines }}", "text": "{{ name }} saw {{ matches }} > {{ threshold }}"}) == {
        "n": 12, "lines": list(LINES), "text": 'checkout "5xx" saw 12 > 10'}


def test_every_documented_name_renders() -> None:
    assert render(["{{ name }}", "{{ query }}", "{{ url }}", "{{ level }}", "{{ app }}", "{{ host }}", "{{ first_line_object._line }}"]) == [
        'checkout "5xx"', "app:api level:error", "https://logs.example.org/view/abc", "error", "api", "web-1", LINES[0]["_line"]]


def test_dot_and_bracket_indexing_reach_into_lines() -> None:
    assert render({"a": "{{ first_line_object.status.code }}", "b": "{{ first_line_object['status']['code'] }}",
                   "c": "{{ lines[0]._host }}", "d": "code={{ lines[0].status.code }}"}) == {"a": 503, "b": 503, "c": "web-1", "d": "code=503"}


def test_a_list_inside_text_is_written_as_json_and_the_body_stays_valid_json() -> None:
    rendered = render({"text": "lines: {{ lines }}"})
    assert rendered == {"text": "lines: " + orjson.dumps(list(LINES)).decode()}


def test_a_missing_name_is_null_as_a_value_and_empty_in_text_at_any_depth() -> None:
    assert render({"a": "{{ nothing }}", "b": "{{ first_line_object.x.y.z }}", "c": "[{{ nothing.deeper }}]",
                   "d": "{{ lines[5]._line }}"}) == {"a": None, "b": None, "c": "[]", "d": None}


def test_line_text_that_looks_like_a_template_is_not_evaluated() -> None:
    assert render({"line": "{{ first_line_object._line }}"}) == {"line": LINES[0]["_line"]}


@pytest.mark.parametrize("expression", ["''.__class__", "''.__class__.__mro__", "lines.__class__", "name.__init__.__globals__",
                                        "cycler.__init__.__globals__"])
def test_the_sandbox_keeps_python_internals_out_of_reach(expression: str) -> None:
    assert render({"a": "{{ " + expression + " }}", "b": "x{{ " + expression + " }}"}) == {"a": None, "b": "x"}


def test_the_sandbox_cannot_change_the_notification() -> None:
    with pytest.raises(ValueError, match="body template failed"):
        BodyTemplate('{"a": "{{ lines.append(1) }}"}').render(NOTIFICATION.context())
    assert len(NOTIFICATION.lines) == 1


def test_a_runtime_error_is_reported_not_raised_as_something_else() -> None:
    with pytest.raises(ValueError, match="ZeroDivisionError"):
        BodyTemplate('{"a": "{{ 1 / 0 }}"}').render(NOTIFICATION.context())


@pytest.mark.parametrize(("text", "says"), [("{not json", "JSON document"), ('{"a": "{{ name "}', "template error"),
                                            ('{"a": "{% for %}"}', "template error"), ("x" * 20000, "at most")])
def test_a_bad_template_is_refused_on_save(text: str, says: str) -> None:
    with pytest.raises(BadRequest, match=says):
        BodyTemplate(text)
