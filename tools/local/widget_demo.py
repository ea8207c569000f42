"""The widget's demo: a small shop page on a second loopback port (another origin than the hub),
embedding the widget as a business would, and the demo tenant's widget allowing that origin.

``/`` is an anonymous visitor; ``/?user=ada`` is a signed-in customer, vouched for the way a
business's backend does it (``user_hash`` = hex HMAC-SHA256 of the user id by the identity
secret, computed here, server side, never in the browser).
"""

from __future__ import annotations

import html
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from switchboard_sdk.visitor_tokens import identity_hash

from chalicelib.hub import Hub

from .demo import DemoTenant

USERS = {"ada": {"user_id": "u-1815", "email": "ada@demo.example", "name": "Ada Lovelace"}}
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Demo Shop</title>
<style>body{{font-family:Georgia,serif;margin:0;background:#fdf6e3;color:#333}} header{{background:#7c2d12;color:#fff;
padding:16px 24px}} main{{padding:24px;max-width:720px}} .item{{border:1px solid #d6c7a1;padding:12px;margin:12px 0;
background:#fff}} button{{all:unset;font-size:40px}} /* the widget must not care about this page's CSS */</style>
</head><body><header><h1>Demo Shop</h1><p>{greeting}</p></header>
<main><div class="item">Wool scarf — ¥199</div><div class="item">Teapot — ¥349</div>
<p>Questions? Use the chat in the corner. <a href="/?user=ada">Sign in as Ada</a> · <a href="/">Anonymous</a> ·
<a href="/?lang=zh">中文</a></p></main>
<script>window.SwitchboardSettings = {settings};</script>
<script src="{hub}/widget.js" data-tenant="{tenant}" async></script>
</body></html>
"""


def page(hub_url: str, tenant_id: str, identity_secret: str, query: str) -> str:
    """The shop page, with the signed-in user's identity hashes when ``?user=`` names one."""
    asked = parse_qs(query)
    user = USERS.get((asked.get("user") or [""])[0])
    language = "zh" if (asked.get("lang") or [""])[0] == "zh" else "en"
    settings: dict[str, Any] = {"language": language}
    if user is not None:
        settings |= {"user_id": user["user_id"], "user_hash": identity_hash(identity_secret, user["user_id"]),
                     "email": user["email"], "email_hash": identity_hash(identity_secret, user["email"]),
                     "name": user["name"]}
    greeting = f"Welcome back, {user['name']}" if user else "Welcome, visitor"
    return PAGE.format(lang=language, greeting=html.escape(greeting), hub=html.escape(hub_url),
                       tenant=html.escape(tenant_id), settings=json.dumps(settings).replace("</", "<\\/"))


def _handler(render: Callable[[str], str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            if parts.path not in ("/", "/index.html"):
                self.send_error(404)
                return
            body = render(parts.query).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def start_widget_demo(hub: Hub, demo: DemoTenant, *, host: str, cleanups: list[Any]) -> DemoTenant:
    """Serve the shop page on a free loopback port and enable the demo tenant's widget for it;
    the widget's settings (and the page's URL, ``host_page``) go to demo.json with the rest."""
    identity_secret = secrets.token_urlsafe(32)
    server = ThreadingHTTPServer((host, 0), _handler(lambda query: page(demo.hub_url, demo.tenant_id,
                                                                        identity_secret, query)))
    origin = f"http://{host}:{server.server_address[1]}"
    config = {"allowed_origins": [origin], "token_secret": secrets.token_urlsafe(32),
              "identity_secret": identity_secret}
    hub.tenants.configure(demo.tenant_id, "widget", enabled=True, config=config)
    hub.tenants.forget(demo.tenant_id)
    threading.Thread(target=server.serve_forever, name="widget-demo-page", daemon=True).start()
    cleanups.extend([server.server_close, server.shutdown])  # run in reverse: shut down, then close
    return replace(demo, channels=demo.channels | {"widget": config | {"host_page": origin + "/"}})
