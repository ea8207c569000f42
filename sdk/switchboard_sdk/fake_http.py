"""The fake HTTP server of the SDK's tests: a real server on loopback.

:class:`StatusServer` records each request (:class:`Recorded`) and answers with
scripted :class:`Reply` objects, a responder function (a fake third-party API),
or a fixed status. Import it from :mod:`switchboard_sdk.testing`.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple

__all__ = ["Recorded", "Reply", "Responder", "StatusServer", "closed_port_url"]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True  # a held answer must not keep the test process alive

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected here, not an error


class Recorded(NamedTuple):
    """A request the server received; unpacks as ``(method, path, headers, body)``."""

    method: str
    path: str  # with its query string, as sent
    headers: dict[str, str]  # names lower-case
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON (``None`` when empty)."""
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Reply:
    """One answer. ``delay`` holds it back (after the request was handled, as a
    slow network would); ``drop`` closes the connection without answering."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False

    @classmethod
    def json(cls, status: int, data: Any, headers: Mapping[str, str] | None = None, *, delay: float = 0.0) -> Reply:
        """``data`` as a JSON body with its Content-Type (overridable in ``headers``)."""
        merged = {"Content-Type": "application/json", **(headers or {})}
        return cls(status, json.dumps(data).encode(), merged, delay)


Responder = Callable[[Recorded], Reply]


class StatusServer:
    """A real HTTP server on loopback for connector and client tests: it records
    every request and answers what the test says.

    Each request is answered by, in order: the next scripted :class:`Reply` whose
    ``when`` matches (:meth:`script`); else ``respond(request)`` when given (a fake
    API's logic); else ``status``/``body``/``headers``. ``status``, ``body``,
    ``headers`` and ``delay`` (seconds before every answer) may be changed while it
    runs. ``requests`` holds a :class:`Recorded` per request, in arrival order.
    ``host``/``port`` pick the address (another loopback address, a fixed port);
    ``tls`` serves HTTPS with the given server context.
    """

    def __init__(
        self,
        status: int = 200,
        body: bytes = b"{}",
        delay: float = 0.0,
        *,
        respond: Responder | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.status, self.body, self.delay = status, body, delay
        self.headers: dict[str, str] = {"Content-Type": "application/json"}
        self.requests: list[Recorded] = []
        self.respond = respond
        self._script: list[tuple[str | None, Reply]] = []
        self._lock = threading.Lock()
        self._server = _QuietServer((host, port), self._handler())
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.host, self.scheme = host, "http" if tls is None else "https"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def __enter__(self) -> StatusServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(self, *replies: Reply, when: str | None = None) -> None:
        """Answer the next requests with ``replies``, one each, before anything else;
        with ``when`` (``"POST /path"``, query included) only requests that are exactly that."""
        with self._lock:
            self._script.extend((when, reply) for reply in replies)

    def reply_to(self, request: Recorded) -> Reply:
        """The answer to ``request`` (recorded already): scripted, responder or default."""
        with self._lock:
            for index, (when, reply) in enumerate(self._script):
                if when is None or when == f"{request.method} {request.path}":
                    del self._script[index]
                    return reply
        if self.respond is not None:
            return self.respond(request)
        return Reply(self.status, self.body, dict(self.headers))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                headers = {k.lower(): v for k, v in self.headers.items()}
                request = Recorded(self.command, self.path, headers, self.rfile.read(length))
                with owner._lock:
                    owner.requests.append(request)
                reply = owner.reply_to(request)
                time.sleep(owner.delay + reply.delay)
                if reply.drop:
                    self.close_connection = True
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            do_PUT = do_PATCH = do_GET = do_DELETE = do_POST  # noqa: N815

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def closed_port_url() -> str:
    """An http URL on loopback where nothing listens (a refused connection)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
