"""The demo receiver: where the demo tenant's ``webhook`` connector delivers.

It verifies each delivery's Standard Webhooks signature, prints one line per
event, and lists what it received at ``GET /events`` (the end-to-end test reads
it). Repeats of an event id are acknowledged and marked, as a receiver should.

It also plays the business's backend for the web channel's replies
(``POST /replies``, signed with the channel's ``reply_signing_secret``; listed at
``GET /replies``), shows what the provider sandbox received at ``GET /sandbox``, and
tells a fake provider to refuse its next send (``POST /sandbox/fail``
``{"provider", "code"}``; loopback only, like everything here).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from switchboard_sdk import SwitchboardError, standard_webhooks


class DemoReceiver:
    def __init__(self, secret: str, *, host: str = "127.0.0.1", port: int = 0, echo: bool = True) -> None:
        self.secret = secret
        self.host = host
        self.echo = echo
        self.events: list[dict[str, Any]] = []
        self.reply_secret = ""
        self.replies: list[dict[str, Any]] = []
        self.sandbox: Callable[[], dict[str, Any]] = dict
        self.sandbox_fail: Callable[[str, int], bool] = lambda provider, code: False
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> DemoReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def accept(self, headers: dict[str, str], body: bytes) -> int:
        """Verify and record one delivery; returns the HTTP status to answer."""
        verified = self._verified(self.secret, headers, body, "[receiver] rejected a delivery")
        if verified is None:
            return 401
        event_id, event = verified
        with self._lock:
            repeat = any(e["id"] == event_id for e in self.events)
            self.events.append({"id": event_id, "type": event.get("type"), "verified": True,
                                "repeat": repeat, "event": event})
        self._say(_summary(event, repeat))
        return 200

    def accept_reply(self, headers: dict[str, str], body: bytes) -> int:
        """Verify and record one web-channel reply, as the business's backend would."""
        verified = self._verified(self.reply_secret, headers, body, "[web backend] rejected a reply")
        if verified is None:
            return 401
        reply_id, reply = verified
        with self._lock:
            repeat = any(r["id"] == reply_id for r in self.replies)
            if not repeat:
                self.replies.append(reply)
        self._say(f"[web backend] signature ok: reply {reply_id} to {reply.get('to', {}).get('value')} "
                  f"{str(reply.get('text', ''))[:60]!r}{' (repeat, ignored)' if repeat else ''}")
        return 200

    def _verified(self, secret: str, headers: dict[str, str], body: bytes,
                  refusal: str) -> tuple[str, dict[str, Any]] | None:
        """``(webhook id, JSON body)`` of a correctly signed request, else ``None`` (said why)."""
        try:
            webhook_id = standard_webhooks.verify([secret], headers, body, now=datetime.now(UTC))
        except SwitchboardError as err:
            self._say(f"{refusal}: {err.message}")
            return None
        return webhook_id, json.loads(body)

    def _say(self, line: str) -> None:
        if self.echo:
            print(line, flush=True)


def _summary(event: dict[str, Any], repeat: bool) -> str:
    data = event.get("data", {})
    text = (data.get("message") or {}).get("text") or (data.get("ticket") or {}).get("subject", "")
    note = " (repeat, ignored)" if repeat else ""
    return (f"[receiver] signature ok: {event.get('type')} {event.get('id')} "
            f"ticket={event.get('ticket_id')} {text[:60]!r}{note}")


def _handler_for(receiver: DemoReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/sandbox/fail":
                self._fail(body)
                return
            accept = receiver.accept_reply if self.path == "/replies" else receiver.accept
            status = accept({k.lower(): v for k, v in self.headers.items()}, body)
            self._reply(status, {"ok": status == 200})

        def do_GET(self) -> None:
            with receiver._lock:
                events, replies = list(receiver.events), list(receiver.replies)
            pages: dict[str, Callable[[], dict[str, Any]]] = {
                "/events": lambda: {"events": events}, "/replies": lambda: {"replies": replies},
                "/sandbox": lambda: {"sandbox": receiver.sandbox()},
            }
            self._reply(200, pages.get(self.path, lambda: {"status": "ok"})())

        def _fail(self, body: bytes) -> None:
            try:
                order = json.loads(body)
                armed = receiver.sandbox_fail(str(order["provider"]), int(order["code"]))
            except (ValueError, KeyError, TypeError):
                self._reply(400, {"ok": False, "error": 'expected {"provider": "twilio", "code": 21610}'})
                return
            self._reply(200 if armed else 404, {"ok": armed})

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    return Handler
