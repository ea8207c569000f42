"""The built console (``console/dist``) on the hub's own port, as CloudFront serves it
in AWS: same origin as the API (no CORS), ``/console/...`` paths without a file answered
with ``index.html`` (the app routes in the browser), hashed assets cached for a year and
``index.html`` never, ``/`` sent to ``/console/``.

Served by the local runtime's HTTP handler, not by Chalice routes: the Lambda package
never carries the console (tests/test_packaging.py checks the zip).
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from switchboard_sdk.errors import NotFound

PREFIX = "/console"
DIST = Path(__file__).resolve().parents[2] / "console" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"  # vite names assets by content hash
NO_CACHE = "no-cache"
TYPES = {  # the platform's tables miss some of these (and may say text/plain for .js)
    ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".json": "application/json", ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
    ".woff2": "font/woff2", ".woff": "font/woff", ".txt": "text/plain; charset=utf-8",
    ".map": "application/json", ".webmanifest": "application/manifest+json",
}


@dataclass(frozen=True)
class StaticAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


def content_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def cache_control(relative: str) -> str:
    """Year-long for the content-hashed ``assets/``, revalidate for anything else."""
    return IMMUTABLE if relative.startswith("assets/") else NO_CACHE


def is_console_path(target: str) -> bool:
    path = target.partition("?")[0]
    return path in ("", "/") or path == PREFIX or path.startswith(PREFIX + "/")


def answer(target: str, dist: Path = DIST) -> StaticAnswer:
    """What to send for a GET of ``target`` (a console path or ``/``)."""
    path = target.partition("?")[0]
    if path in ("", "/", PREFIX):
        return StaticAnswer(302, {"Location": PREFIX + "/", "Cache-Control": NO_CACHE}, b"")
    relative = path[len(PREFIX) + 1:]
    found = _file(dist, relative)
    if found is not None:
        return StaticAnswer(200, {"Content-Type": content_type(found.name),
                                  "Cache-Control": cache_control(relative)}, found.read_bytes())
    if relative.startswith("assets/"):  # a missing script is a 404, not the app's page
        return _missing(f"no such console asset: {relative}")
    index = dist / "index.html"
    if not index.is_file():
        return _missing("the console is not built: run `make run` (or `make console`)")
    return StaticAnswer(200, {"Content-Type": TYPES[".html"], "Cache-Control": NO_CACHE}, index.read_bytes())


def _file(dist: Path, relative: str) -> Path | None:
    """The file under ``dist`` the path names, if any (never outside ``dist``)."""
    if not relative or relative.endswith("/"):
        return None
    root = dist.resolve()
    candidate = (root / relative).resolve()
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def _missing(message: str) -> StaticAnswer:
    body = json.dumps(NotFound(message).to_body()).encode()
    return StaticAnswer(404, {"Content-Type": "application/json", "Cache-Control": NO_CACHE}, body)
