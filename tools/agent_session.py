"""The CLI's agent session: sign in through ``POST /v1/session``, keep the tokens in a
file only the user can read, refresh them when the ID token has expired, and call
the API as the agent (or with an API key instead).

The session file (``~/.config/switchboard/session.json``, or ``--session-file`` /
``SWITCHBOARD_SESSION_FILE``) holds the hub URL it belongs to, so a token is never
sent to another hub. Tokens travel under the same rules as API keys
(:mod:`tools.admin_cli`): no redirects followed, plain ``http://`` only to loopback.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import click

from .admin_cli import ApiClient, HubUnavailable, _opener, _redirected, _refusal

SESSION_ENV = "SWITCHBOARD_SESSION_FILE"
REFRESH_MARGIN_SECONDS = 60  # refresh a little before the ID token runs out, not after a refused call
SIGN_IN_AGAIN = "sign in again with `switchboard login`"


def default_session_file() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "switchboard" / "session.json"


class Refused(click.ClickException):
    """A 4xx answer: its status, the API's error code and a readable text."""

    def __init__(self, status: int, code: str, text: str) -> None:
        super().__init__(text)
        self.status, self.code = status, code


def call(url: str, method: str, path: str, *, token: str | None = None, body: dict[str, Any] | None = None,
         query: dict[str, str] | None = None) -> Any:
    """One API call; :class:`Refused` for a 4xx, :class:`HubUnavailable` for a 5xx or no answer."""
    request = ApiClient(url, token)._request(method, path, body, query)  # checks the URL: https or loopback
    try:
        with _opener(url).open(request, timeout=60) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        if 300 <= err.code < 400:
            raise _redirected(err.code, err.headers.get("Location")) from None
        raw = err.read()
        if err.code >= 500:
            raise _refusal(err.code, raw) from None
        raise Refused(err.code, _error_code(raw), _refusal(err.code, raw).message) from None
    except urllib.error.URLError as err:
        raise HubUnavailable(f"cannot reach {url}: {err.reason}") from None
    except (OSError, http.client.HTTPException) as err:  # a reset or timeout after connecting
        raise HubUnavailable(f"cannot reach {url}: {err!r}") from None


def _error_code(raw: bytes) -> str:
    try:
        return str(json.loads(raw)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


@dataclass(frozen=True)
class StoredSession:
    api_url: str
    email: str
    id_token: str
    access_token: str
    refresh_token: str
    expires_at: float  # epoch seconds: when the ID token runs out

    @classmethod
    def from_answer(cls, api_url: str, email: str, answer: dict[str, Any], now: float) -> StoredSession:
        return cls(api_url.rstrip("/"), email, answer["id_token"], answer["access_token"],
                   answer.get("refresh_token") or "", now + float(answer["expires_in"]))

    def write(self, path: Path) -> None:
        """Create the file readable by its owner only (never, even briefly, by others)."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(json.dumps(asdict(self), indent=2) + "\n")
        path.chmod(0o600)  # a file that existed keeps its mode through O_CREAT

    @classmethod
    def read(cls, path: Path) -> StoredSession | None:
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as err:
            raise click.ClickException(f"{path} is not a session file ({err}); {SIGN_IN_AGAIN}") from None


def sign_in(url: str, email: str, password: str, new_password: Callable[[], str],
            clock: Callable[[], float] = time.time) -> StoredSession:
    """Sign in; on the first sign-in (``NEW_PASSWORD_REQUIRED``) set the password ``new_password()`` gives."""
    answer = call(url, "POST", "/v1/session", body={"email": email, "password": password})
    if answer.get("challenge") == "NEW_PASSWORD_REQUIRED":
        answer = call(url, "POST", "/v1/session/password",
                      body={"email": email, "session": answer["session"], "new_password": new_password()})
    return StoredSession.from_answer(url, email, answer, clock())


@dataclass
class AgentClient:
    """Calls the API with ``key`` when given, else as the signed-in agent of ``session``,
    refreshing (and saving) its tokens when they have run out."""

    url: str
    key: str | None = None
    session: StoredSession | None = None
    session_file: Path | None = None
    clock: Callable[[], float] = time.time

    def call(self, method: str, path: str, body: dict[str, Any] | None = None,
             query: dict[str, str] | None = None) -> Any:
        if self.key:
            return self._as_key(method, path, body, query)
        if self.session is None:
            raise click.ClickException(f"not signed in: {SIGN_IN_AGAIN} (or give --api-key)")
        if self.session.expires_at - REFRESH_MARGIN_SECONDS <= self.clock():
            self._refresh()
        try:
            return call(self.url, method, path, token=self.session.id_token, body=body, query=query)
        except Refused as err:
            if err.status != 401:
                raise
            if err.code != "token_expired":
                raise click.ClickException(f"{err.message}\n{SIGN_IN_AGAIN}") from None
        self._refresh()  # expired sooner than it said (clocks differ): once more with new tokens
        return call(self.url, method, path, token=self.session.id_token, body=body, query=query)

    def _as_key(self, method: str, path: str, body: dict[str, Any] | None, query: dict[str, str] | None) -> Any:
        try:
            return call(self.url, method, path, token=self.key, body=body, query=query)
        except Refused as err:
            if err.status == 401:
                raise click.ClickException(f"{err.message}\nthe API key was refused: check --api-key or "
                                           "SWITCHBOARD_API_KEY, or leave it out to use `switchboard login`'s "
                                           "session") from None
            raise

    def _refresh(self) -> None:
        assert self.session is not None
        if not self.session.refresh_token:
            raise click.ClickException(f"the session has expired: {SIGN_IN_AGAIN}")
        try:
            answer = call(self.url, "POST", "/v1/session/refresh",
                          body={"refresh_token": self.session.refresh_token})
        except Refused as err:
            raise click.ClickException(f"the session has expired ({err.message}): {SIGN_IN_AGAIN}") from None
        fresh = StoredSession.from_answer(self.url, self.session.email, answer, self.clock())
        self.session = replace(fresh, refresh_token=fresh.refresh_token or self.session.refresh_token)
        if self.session_file is not None:
            self.session.write(self.session_file)
