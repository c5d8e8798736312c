"""Sign-in cannot be forged by another site (login CSRF): POST /api/v1/auth/login takes only
JSON, and a foreign Origin or Referer is refused before any password is checked."""

from __future__ import annotations

import json

import httpx
import pytest
from servers import Server


def login(server: Server, headers: dict[str, str], body: bytes | None = None) -> httpx.Response:
    credentials = {"email": server.credentials["owner_email"], "password": server.credentials["owner_password"]}
    return httpx.post(server.url + "/api/v1/auth/login", content=body or json.dumps(credentials).encode(), headers=headers, timeout=30)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""])
def test_a_body_a_form_can_send_is_refused_and_sets_no_cookie(server: Server, content_type: str) -> None:
    response = login(server, {"Content-Type": content_type} if content_type else {})
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "UnsupportedMediaType"
    assert "timberyard_session" not in response.cookies


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
        {"Origin": "http://127.0.0.1:1", "Referer": "http://127.0.0.1:1/"},
    ],
)
def test_another_origin_is_refused(server: Server, headers: dict[str, str]) -> None:
    response = login(server, {"Content-Type": "application/json", **headers})
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "CsrfFailed"
    assert "timberyard_session" not in response.cookies


def test_this_servers_own_page_and_clients_without_either_header_sign_in(server: Server) -> None:
    for headers in (
        {"Origin": server.url},
        {"Referer": server.url + "/login"},
        {"Origin": server.url, "Referer": server.url + "/"},
        {},
    ):
        response = login(server, {"Content-Type": "application/json; charset=utf-8", **headers})
        assert response.status_code == 200, (headers, response.text)
        assert "timberyard_session" in response.cookies
