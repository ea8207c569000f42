"""``switchboard tenants|plugins|keys|settings|audit|customers|aside|bootstrap``.

Every command but ``bootstrap`` talks to the hub's API with an API key
(``--api-key`` or ``SWITCHBOARD_API_KEY``); the key decides what it may do and
for which tenant. ``bootstrap`` writes the first platform-admin key straight to
the table with the operator's AWS credentials — the one step that cannot go
through the API. Output is a table for people, ``--json`` for scripts. Exit
codes: 0 done, 1 refused by the hub (4xx, or a redirect), 2 usage, 3 hub
unreachable or 5xx.

The key travels as a bearer token, so the client never lets it go astray: it
does not follow redirects (urllib would re-send ``Authorization`` to wherever
the ``Location`` points, even another host), and it sends the key over plain
``http://`` only to a loopback address (the local runtime); anything else must
be ``https://``.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, urlencode, urlsplit

import click

STATE_DIR = Path(".switchboard")


class HubUnavailable(click.ClickException):
    exit_code = 3


@dataclass(frozen=True)
class ApiClient:
    """The hub's API at ``url``, called with ``key``; refuses an unsafe ``url`` when built."""

    url: str
    key: str | None

    def __post_init__(self) -> None:
        require_safe_url(self.url)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             query: dict[str, str] | None = None) -> Any:
        request = self._request(method, path, body, query)
        try:
            with _opener(self.url).open(request, timeout=60) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as err:
            if 300 <= err.code < 400:
                raise _redirected(err.code, err.headers.get("Location")) from None
            raise _refusal(err.code, err.read()) from None
        except urllib.error.URLError as err:
            raise HubUnavailable(f"cannot reach {self.url}: {err.reason}") from None
        except (OSError, http.client.HTTPException) as err:  # a reset or timeout after connecting
            raise HubUnavailable(f"cannot reach {self.url}: {err!r}") from None

    def _request(self, method: str, path: str, body: dict[str, Any] | None,
                 query: dict[str, str] | None) -> urllib.request.Request:
        url = self.url.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {self.key}"} if self.key else {})
        data = json.dumps(body).encode() if body is not None else None
        return urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - checked URL


def require_safe_url(url: str) -> None:
    """``https://`` anywhere, plain ``http://`` only to loopback; else a usage error (exit 2)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        raise click.UsageError(f"not a URL: {url!r}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise click.UsageError("the hub URL must look like https://<host>/... (--api-url or SWITCHBOARD_API_URL)")
    if parts.scheme == "http" and not is_loopback(host):
        raise click.UsageError(f"refusing to send the API key in clear to {host}: use https:// "
                               "(plain http:// only to 127.0.0.1, ::1 or localhost)")


def is_loopback(host: str) -> bool:
    """``localhost``, 127.0.0.0/8 or ::1 (``host`` as :func:`urllib.parse.urlsplit` gives it)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Declines every redirect, so the 3xx reaches :meth:`ApiClient.call` as an ``HTTPError``."""

    def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str,
                         headers: http.client.HTTPMessage, newurl: str) -> None:
        return None


def _opener(url: str) -> urllib.request.OpenerDirector:
    """No redirects; and no proxy for a loopback hub, which a proxy would reach in clear."""
    handlers: list[urllib.request.BaseHandler] = [_NoRedirects()]
    host = urlsplit(url).hostname or ""
    if is_loopback(host):
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def _redirected(status: int, location: str | None) -> click.ClickException:
    return click.ClickException(
        f"{status} redirect to {location or '(no Location)'}: not followed, it would carry the API key; "
        "give the final hub URL with --api-url")


def _refusal(status: int, raw: bytes) -> click.ClickException:
    try:
        error = json.loads(raw)["error"]
        detail = "".join(f"\n  {f['field']}: {f['message']}" for f in error.get("fields") or [])
        text = f"{status} {error['code']}: {error['message']}{detail}"
    except (ValueError, KeyError, TypeError):
        text = f"{status} {raw[:200].decode(errors='replace')}"
    return HubUnavailable(text) if status >= 500 else click.ClickException(text)


def _default_url(state_dir: Path) -> str:
    path = state_dir / "demo.json"
    if path.exists():
        return str(json.loads(path.read_text())["hub_url"])
    raise click.UsageError("give --api-url (or SWITCHBOARD_API_URL); no local runtime state found")


def api_options(func: Any) -> Any:
    """``--api-url``, ``--api-key``, ``--json`` on a command; passes ``api`` and ``as_json``."""
    func = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)
    func = click.option("--api-key", envvar="SWITCHBOARD_API_KEY", default=None,
                        help="API key (env SWITCHBOARD_API_KEY).")(func)
    func = click.option("--api-url", envvar="SWITCHBOARD_API_URL", default=None,
                        help="Hub URL (env SWITCHBOARD_API_URL; default: the local runtime's).")(func)
    return click.option("--state-dir", type=click.Path(path_type=Path), default=STATE_DIR, hidden=True)(func)


def client(api_url: str | None, api_key: str | None, state_dir: Path) -> ApiClient:
    if not api_key:
        raise click.UsageError("an API key is needed: --api-key or SWITCHBOARD_API_KEY")
    return ApiClient(api_url or _default_url(state_dir), api_key)


def show(data: Any, as_json: bool, rows: list[dict[str, Any]] | None = None, columns: tuple[str, ...] = ()) -> None:
    """JSON for scripts, else an aligned table of ``rows`` (or key: value lines)."""
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if rows is None:
        for key, value in data.items():
            click.echo(f"{key}: {value if not isinstance(value, dict | list) else json.dumps(value)}")
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    if not rows:
        click.echo("(none)")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def parse_settings(pairs: tuple[str, ...]) -> dict[str, Any]:
    """``name=value`` pairs; a value that parses as JSON is taken as JSON."""
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected name=value, got {pair!r}", param_hint="--set")
        try:
            values[name] = json.loads(raw)
        except ValueError:
            values[name] = raw
    return values


def path_part(value: str) -> str:
    return quote(value, safe="")
