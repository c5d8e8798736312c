"""The web UI's files: `/` is the single page, `/static/...` its modules, stylesheet and images.

Public: they hold no data (everything the UI shows comes from the API, which checks the
caller). Files come only from the package's `ui/static` directory: a path that climbs out of
it, by `..`, an absolute path or a symlink, is a 404 like a file that does not exist, and so is
a directory (there is no listing), a dotfile, or a type not in `CONTENT_TYPES`. The files have
no hashes in their names (there is no build step), so every response says `no-cache`: browsers
keep a copy but ask each time, and the ETag turns an unchanged file into a bodiless 304.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from timberyard.core.errors import NotFound
from timberyard.web.access import declares

STATIC_DIR = Path(__file__).resolve().parent / "ui" / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
}
CACHE_CONTROL = "no-cache"


class UIFiles:
    """The two routes, serving one directory (the package's; tests give their own)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory.resolve()
        self.routes = [
            Route("/", self.index, methods=["GET"]),
            Route("/static/{path:path}", self.static, methods=["GET"]),
        ]

    @declares(None)
    async def index(self, request: Request) -> Response:
        return self._file(request, self.directory / "index.html", "index.html")

    @declares(None)
    async def static(self, request: Request) -> Response:
        path = request.path_params["path"]
        return self._file(request, self._inside(path), path)

    def _inside(self, path: str) -> Path | None:
        """The file `path` names below the directory, or None if it would lead anywhere else."""
        parts = PurePosixPath(path).parts
        if not parts or path.startswith("/") or "\\" in path or "\0" in path:
            return None
        if any(part == ".." or part.startswith(".") for part in parts):
            return None
        resolved = (self.directory / path).resolve()  # follows symlinks, so one out is caught below
        return resolved if resolved.is_relative_to(self.directory) else None

    def _file(self, request: Request, found: Path | None, shown: str) -> Response:
        media_type = CONTENT_TYPES.get(found.suffix) if found is not None else None
        if found is None or media_type is None or not found.is_file():
            raise NotFound(f"no file {shown[:200]!r} in the web UI", path=shown[:200])
        response = FileResponse(found, media_type=media_type, headers={"Cache-Control": CACHE_CONTROL}, stat_result=found.stat())
        etag = response.headers["etag"]
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": CACHE_CONTROL})
        return response


routes = UIFiles(STATIC_DIR).routes
