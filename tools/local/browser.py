"""The console in a real browser: Debian's chromium driven by Playwright for Python.

Never ``playwright install``: the browser is the system's (``make test`` installs the
``chromium`` package when it is missing). The launch flags keep chromium off the
network it would otherwise call home to (this machine's closed network refuses those
connections, which stalls start-up), and every run gets a fresh profile.
Used by tests/test_console_browser.py and tools/screenshots.py.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTH, HEIGHT = 1366, 860


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    if not CHROMIUM.is_file():
        return f"Debian's chromium is not installed ({CHROMIUM}): apt-get install -y chromium (make test does, as root)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python's playwright is not installed: pip install -e '.[dev]'"
    return None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@contextmanager
def browser(profile: Path) -> Iterator[BrowserContext]:
    """A headless chromium with a fresh profile in ``profile``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": WIDTH, "height": HEIGHT}, locale="en-US", timezone_id="UTC",
        )
        try:
            yield context
        finally:
            context.close()


def sign_in(page: Page, hub_url: str, email: str, password: str) -> None:
    """Through the console's own sign-in form, landing in the inbox."""
    page.goto(f"{hub_url}/console/sign-in")
    page.locator("input[type=email]").fill(email)
    page.locator("input[type=password]").fill(password)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/console/inbox**")


def request(url: str, body: Any = None, headers: dict[str, str] | None = None,
            method: str | None = None) -> tuple[int, Any]:
    """JSON over HTTP: ``(status, decoded body or None)``."""
    data = None if body is None else json.dumps(body).encode()
    sent = urllib.request.Request(url, data=data, method=method or ("GET" if body is None else "POST"),  # noqa: S310
                                  headers={"Content-Type": "application/json"} | (headers or {}))
    try:
        with urllib.request.urlopen(sent, timeout=10) as answer:  # noqa: S310 - the hub on loopback
            raw = answer.read()
            return answer.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as err:
        raw = err.read()
        return err.code, json.loads(raw) if raw else None


def agent_token(hub_url: str, email: str, password: str) -> dict[str, str]:
    """The demo agent's Authorization header (POST /v1/session)."""
    status, tokens = request(f"{hub_url}/v1/session", {"email": email, "password": password})
    assert status == 200, tokens
    return {"Authorization": f"Bearer {tokens['id_token']}"}


def ensure_template(hub_url: str, auth: dict[str, str], code: str, text: str) -> None:
    """A reply template with this short code (created once per runtime)."""
    status, answer = request(f"{hub_url}/v1/templates", {"code": code, "title": "Parcel on its way",
                                                         "texts": {"en": text}}, auth)
    assert status in (201, 409), answer
