"""The routes the web UI stands on: its page and static files (served under the strict CSP, every
module of the import graph as JavaScript, nothing outside the static directory), and
/api/v1/timerange, which reads the "Time range" box."""

from __future__ import annotations

import asyncio
import http.client
import re
from datetime import UTC, datetime, time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import httpx
import pytest
from servers import Server
from starlette.applications import Starlette

from timberyard.search.timeparse import parse_range
from timberyard.web.errors import EXCEPTION_HANDLERS
from timberyard.web.ui import STATIC_DIR, UIFiles

IMPORT = re.compile(
    r"""(?:\bimport|\bexport)\s[^'"`;]*?\bfrom\s*["']([^"']+)["']"""  # import {a} from "x", export * from "x"
    r"""|\bimport\s*["']([^"']+)["']"""  # import "x"
    r"""|\bimport\(\s*["']([^"']+)["']\s*\)"""  # import("x")
)
COMMENTS = re.compile(r"/\*.*?\*/|^\s*//.*?$", re.DOTALL | re.MULTILINE)
# Pinned as a literal, not imported from web.headers: a change to the policy must change a test.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
MARKUP_FROM_STRINGS = re.compile(r"\.innerHTML\s*=|\.outerHTML\s*=|insertAdjacentHTML|document\.write|\beval\s*\(|new\s+Function\b")


class PageParts(HTMLParser):
    """The <script>s, stylesheets and any inline code or styling of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.stylesheets: list[str | None] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "script":
            self.scripts.append(found)
            self._in_script = True
        elif tag == "style":
            self.inline.append("<style>")
        elif tag == "link" and found.get("rel") == "stylesheet":
            self.stylesheets.append(found.get("href"))
        self.inline.extend(f"{tag} {name}=" for name in found if name == "style" or name.startswith("on"))

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append(f"script body {data.strip()[:40]!r}")


def get(server: Server, path: str, **kwargs: object) -> httpx.Response:
    return httpx.get(server.url + path, timeout=30, **kwargs)  # type: ignore[arg-type]


def code_of(source: str) -> str:
    return COMMENTS.sub("", source)


def imports_of(source: str) -> list[str]:
    return [next(group for group in match.groups() if group) for match in IMPORT.finditer(code_of(source))]


# --- the page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/?q=error&range=last%202%20hours&apps=nginx,api"])
def test_the_page_is_served_with_the_csp_and_loads_code_only_from_files(server: Server, path: str) -> None:
    response = get(server, path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    page = PageParts()
    page.feed(response.text)
    assert page.scripts, "the page loads no script"
    assert all(script.get("src") for script in page.scripts), page.scripts
    assert {"type": "module", "src": "/static/js/main.js"} in page.scripts
    assert page.inline == [], "inline code or styles are refused by the CSP"
    assert page.stylesheets == ["/static/css/app.css"]


def test_every_module_of_the_import_graph_is_served_as_javascript(server: Server) -> None:
    page = PageParts()
    page.feed(get(server, "/").text)
    base = server.url + "/"
    pending = [urljoin(base, str(script["src"])) for script in page.scripts]
    seen: set[str] = set()
    while pending:
        url = pending.pop()
        if url in seen:
            continue
        seen.add(url)
        assert url.startswith(server.url + "/static/js/"), f"{url}: modules must be files under /static/js (no bare names: there is no build step)"
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200, f"{url} is imported but answers {response.status_code}"
        assert response.headers["content-type"] == "text/javascript; charset=utf-8", url
        assert not MARKUP_FROM_STRINGS.search(code_of(response.text)), f"{url} builds markup from strings or evaluates code"
        pending.extend(urljoin(url, spec) for spec in imports_of(response.text))
    modules = {url.removeprefix(server.url + "/static/js/") for url in seen}
    assert {"main.js", "api.js", "dom.js", "settings/index.js", "settings/keys.js", "settings/users.js",
            "settings/groups.js", "settings/usage.js", "settings/audit.js"} <= modules, modules


def test_the_import_reader_finds_every_form_of_import() -> None:
    source = '''
        import { a,
                 b } from "./one.js";
        import "./two.js";
        export { c } from '../three.js';
        // import { old } from "./commented-out.js";
        const later = await import("./four.js");
    '''
    assert imports_of(source) == ["./one.js", "./two.js", "../three.js", "./four.js"]


def test_the_stylesheet_is_css_and_files_revalidate_by_etag(server: Server) -> None:
    css = get(server, "/static/css/app.css")
    assert css.status_code == 200 and css.headers["content-type"] == "text/css; charset=utf-8"
    first = get(server, "/static/js/main.js")
    assert first.headers["cache-control"] == "no-cache" and first.headers["etag"]
    again = get(server, "/static/js/main.js", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == first.headers["etag"]
    head = httpx.head(server.url + "/static/js/main.js", timeout=30)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(first.content))


# --- nothing but the static directory ----------------------------------------------------------


def raw_get(server: Server, path: str) -> tuple[int, bytes]:
    """GET with the path sent exactly as written (httpx would normalise the dot segments)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../ui.py",  # src/timberyard/web/ui.py, two levels above the static directory
        "/static/%2e%2e/%2e%2e/ui.py",
        "/static/js/..%2f..%2f..%2fui.py",
        "/static/..%5c..%5cui.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/js/main.js%00.png",
        "/static/",
        "/static/js",
        "/static/js/",
        "/static/.secrets.js",
        "/static/no-such-file.js",
    ],
)
def test_paths_outside_the_files_are_404(server: Server, path: str) -> None:
    status, body = raw_get(server, path)
    assert status == 404, body[:200]
    assert b'"code":"NotFound"' in body and b"import" not in body and b"root:" not in body


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    static = tmp_path / "static"
    (static / "img").mkdir(parents=True)
    (static / "index.html").write_text("<!doctype html><title>t</title>")
    (static / "ok.js").write_text("export const ok = 1;\n")
    (static / "img" / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (static / "img" / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (static / "font.woff2").write_bytes(b"wOF2")
    (static / "notes.txt").write_text("not a web asset")
    (tmp_path / "secret.js").write_text("export const secret = 'outside';\n")
    (static / "out.js").symlink_to(tmp_path / "secret.js")
    (static / "alias.js").symlink_to(static / "ok.js")
    return static


def fetch_all(directory: Path, paths: list[str]) -> dict[str, httpx.Response]:
    """Responses of a UIFiles app over a directory, in-process."""
    app = Starlette(routes=UIFiles(directory).routes, exception_handlers=EXCEPTION_HANDLERS)  # type: ignore[arg-type]

    async def run() -> dict[str, httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ui") as client:
            return {path: await client.get(path) for path in paths}

    return asyncio.run(run())


def test_symlinks_out_of_the_directory_and_unknown_types_are_404_and_assets_get_their_types(tree: Path) -> None:
    got = fetch_all(tree, ["/static/out.js", "/static/notes.txt", "/static/alias.js", "/static/img/logo.svg", "/static/img/logo.png", "/static/font.woff2"])
    assert got["/static/out.js"].status_code == 404 and "outside" not in got["/static/out.js"].text
    assert got["/static/notes.txt"].status_code == 404
    assert got["/static/alias.js"].status_code == 200 and got["/static/alias.js"].text == "export const ok = 1;\n"
    types = {path: response.headers.get("content-type") for path, response in got.items() if response.status_code == 200}
    assert types == {
        "/static/alias.js": "text/javascript; charset=utf-8",
        "/static/img/logo.svg": "image/svg+xml",
        "/static/img/logo.png": "image/png",
        "/static/font.woff2": "font/woff2",
    }


def test_the_package_carries_the_page() -> None:
    assert (STATIC_DIR / "index.html").is_file() and (STATIC_DIR / "js" / "settings" / "index.js").is_file()


# --- /api/v1/timerange -------------------------------------------------------------------------


def timerange(server: Server, **params: str) -> httpx.Response:
    return get(server, "/api/v1/timerange", params=params, auth=(server.service_key, ""))


def test_a_day_is_read_in_the_given_timezone_and_the_label_reads_back_to_the_same_span(server: Server) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    response = timerange(server, q="yesterday", tz="Europe/Berlin")
    assert response.status_code == 200, response.text
    span = response.json()
    start = datetime.fromtimestamp(span["from"] / 1000, UTC).astimezone(berlin)
    end = datetime.fromtimestamp((span["to"] + 1) / 1000, UTC).astimezone(berlin)
    assert start.time() == time(0) and end.time() == time(0) and (end.date() - start.date()).days == 1
    assert span["tz"] == "Europe/Berlin"
    assert parse_range(span["label"], now=datetime.now(UTC), tz=berlin) == (span["from"], span["to"])


def test_without_a_timezone_the_range_is_utc_and_milliseconds_survive_the_label(server: Server) -> None:
    span = timerange(server, q="2026-11-28 10:00:00.250 to 2026-11-28 11:30").json()
    assert (span["from"], span["to"]) == (1795860000250, 1795865400000)
    assert span["label"] == "2026-11-28 10:00:00.250 to 2026-11-28 11:30:00"
    assert span["tz"] == "UTC"


@pytest.mark.parametrize(
    ("params", "code", "says"),
    [
        ({"q": "last 2 hours", "tz": "Mars/Olympus_Mons"}, "BadRequest", "unknown timezone 'Mars/Olympus_Mons'"),
        ({"q": "last 2 hours", "tz": "../../etc/passwd"}, "BadRequest", "unknown timezone"),
        ({"q": "last 2 hours", "tz": "America"}, "BadRequest", "unknown timezone"),
        ({"q": "the day after tomorrow"}, "TimeParseError", "cannot read 'the day after tomorrow'"),
        ({"q": "3pm to 1pm yesterday"}, "TimeParseError", "starts after it ends"),
        ({"q": "  "}, "BadRequest", "missing param q"),
        ({}, "BadRequest", "missing param q"),
    ],
)
def test_unreadable_ranges_and_unknown_timezones_are_400(server: Server, params: dict[str, str], code: str, says: str) -> None:
    response = timerange(server, **params)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code and says in response.json()["error"], response.json()
