"""The local runtime's HTTP server over real loopback connections: bursts of
clients are queued rather than refused, a path no route matches is a 404 that
echoes nothing, and the query string reaches the app as the client sent it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from chalice.app import Chalice
from chalice.config import Config
from switchboard_plugins import twilio
from switchboard_plugins.twilio.config import TwilioConfig

from chalicelib.edge import guarded, json_response, webhook_from
from tools.local.runtime import _local_server, import_app

CLIENTS = 50
TIMEOUT = 30.0  # per client: a bound so a regression fails instead of hanging, never a measurement
TOKEN = "0123456789abcdef0123456789abcdef"


@contextmanager
def served(app: Chalice, *, serving: bool = True) -> Iterator[tuple[int, threading.Thread]]:
    """``app`` behind the local runtime's server on a free loopback port: listening
    at once, and serving from ``(port, thread)``'s thread, started here unless
    ``serving`` is false (the test starts it), until the block ends."""
    server = _local_server(app, Config(chalice_stage="dev"), "127.0.0.1", 0)
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    if serving:
        thread.start()
    try:
        yield int(server.server.server_address[1]), thread
    finally:
        if thread.ident is None:  # never started: shutdown() would wait for it forever
            thread.start()
        server.server.shutdown()
        server.server.server_close()
        thread.join(timeout=TIMEOUT)


@pytest.fixture(scope="module")
def hub_app() -> Chalice:
    app: Chalice = import_app().app
    return app


@pytest.fixture(scope="module")
def hub_port(hub_app: Chalice) -> Iterator[int]:
    """The project's app, served (its routes that need no AWS: /health, and none)."""
    with served(hub_app) as (port, _):
        yield port


def raw_exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` on a new connection and read the whole answer (the server
    is asked to close after it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# -- bursts of clients ----------------------------------------------------------------


def test_a_burst_of_connections_is_queued_until_the_server_accepts_them(hub_app: Chalice) -> None:
    """socketserver's default listen backlog is 5: with the server busy, the 7th
    simultaneous client was dropped or reset. Fifty clients connect while nothing
    accepts yet; every handshake completes, and each is then answered."""
    with served(hub_app, serving=False) as (port, serving):
        sockets = [socket.socket() for _ in range(CLIENTS)]
        try:
            for sock in sockets:
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", port))
            pending = set(sockets)
            while pending:
                _, writable, _ = select.select([], list(pending), [], TIMEOUT)
                assert writable, f"{len(pending)} of {CLIENTS} connections never completed their handshake"
                for sock in writable:
                    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
                    pending.discard(sock)
            serving.start()
            for sock in sockets:
                sock.setblocking(True)
                sock.settimeout(TIMEOUT)
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answers = []
            for sock in sockets:
                answer = b""
                while chunk := sock.recv(65536):
                    answer += chunk
                answers.append(answer)
        finally:
            for sock in sockets:
                sock.close()
    assert all(a.startswith(b"HTTP/1.1 200 ") and a.endswith(b'{"status": "ok"}') for a in answers)


def test_fifty_concurrent_clients_are_all_answered(hub_port: int) -> None:
    statuses: list[int | str] = []
    lock = threading.Lock()
    ready = threading.Barrier(CLIENTS, timeout=TIMEOUT)

    def client() -> None:
        ready.wait()  # all at once
        try:
            connection = http.client.HTTPConnection("127.0.0.1", hub_port, timeout=TIMEOUT)
            connection.request("GET", "/health")
            status: int | str = connection.getresponse().status
            connection.close()
        except OSError as err:  # a reset or refused connection is the failure under test
            status = repr(err)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=2 * TIMEOUT)
    assert statuses == [200] * CLIENTS


# -- paths no route matches -------------------------------------------------------------

SECRETS = {"Authorization": "Bearer sbk_live_8f3a9c2e5d7b4a10", "Cookie": "session=c00k1e-s3cr3t",
           "X-Api-Key": "sbk_other_77aa55"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nope"), ("GET", "/v1/nope"), ("POST", "/v1/tickets/t-1/close"), ("DELETE", "/hooks/acme"),
     ("GET", "/v1/tickets/a/b/c?status=open"), ("PUT", "/"), ("GET", "/%2e%2e/etc/passwd")],
)
def test_a_path_no_route_matches_is_404_and_echoes_no_header(hub_port: int, method: str, path: str) -> None:
    headers = "".join(f"{name}: {value}\r\n" for name, value in SECRETS.items())
    answer = raw_exchange(hub_port, f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}"
                                    "Content-Length: 0\r\nConnection: close\r\n\r\n".encode())
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404 ")
    assert b"content-type: application/json" in head.lower()
    error = json.loads(body)["error"]
    assert error["code"] == "not_found"
    for value in SECRETS.values():
        for part in value.split():
            assert part.encode() not in answer, f"the answer echoes {part!r}"


def test_a_matched_path_still_reaches_the_app(hub_port: int) -> None:
    answer = raw_exchange(hub_port, b"GET /health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sbk_x\r\n"
                                b"Connection: close\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert b"sbk_x" not in answer


# -- the query string as sent, and Twilio's signature over it --------------------------------

probe = Chalice(app_name="query-probe")


@probe.route("/hooks/{tenant}/{channel}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
@guarded
def _hook(tenant: str, channel: str) -> Any:
    request = probe.current_request
    assert request is not None
    webhook = webhook_from(request, tenant, channel, received_at=datetime.now(UTC))
    twilio.plugin.switchboard_channel_verify(request=webhook, config=TwilioConfig.model_validate(
        {"auth_token": TOKEN}))
    return json_response({"public_url": webhook.public_url, "query": webhook.query})


@pytest.fixture(scope="module")
def probe_port() -> Iterator[int]:
    with served(probe) as (port, _):
        yield port


def twilio_signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    """As Twilio documents it: HMAC-SHA1 over the URL followed by each POST parameter
    (sorted by name) as name + value, base64-encoded."""
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


SMS = [("MessageSid", "SM" + "b5" * 16), ("From", "+14155550100"), ("To", "+18005551212"),
       ("Body", "Where is my order?"), ("NumMedia", "0")]
QUERIES = ["note=a%20b", "note=a+b", "t=%7Ex", "t=~x", "flag", "flag=", "a=1&a=2", "a=2&a=1", "x=1%2B2",
           "event=status&note=Caf%C3%A9%20cr%C3%A8me&t=%7E1&flag&a=1&a=2"]


def post_form(port: int, target: str, signature: str) -> tuple[http.client.HTTPResponse, Any]:
    """POST the SMS form to ``target`` (path and query, sent as is) with ``signature``."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("POST", target, body=urlencode(SMS), headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
        response = connection.getresponse()
        return response, json.loads(response.read())
    finally:
        connection.close()


@pytest.mark.parametrize("query", QUERIES)
def test_twilio_verifies_over_the_query_string_as_sent(probe_port: int, query: str) -> None:
    url = f"http://127.0.0.1:{probe_port}/hooks/t-acme/twilio?{query}"
    response, answer = post_form(probe_port, f"/hooks/t-acme/twilio?{query}", twilio_signature(TOKEN, url, SMS))
    assert response.status == 200, answer
    assert answer["public_url"] == url
    assert answer["query"] == dict(parse_qsl(query, keep_blank_values=True))


@pytest.mark.parametrize(
    ("signed", "sent"),
    [("note=a%20b", "note=a%20c"), ("flag", "flag=1"), ("a=1", "a=1&a=2"), ("t=~x", "t=~y")],
)
def test_a_signature_over_another_query_is_401(probe_port: int, signed: str, sent: str) -> None:
    url = f"http://127.0.0.1:{probe_port}/hooks/t-acme/twilio?{signed}"
    response, answer = post_form(probe_port, f"/hooks/t-acme/twilio?{sent}", twilio_signature(TOKEN, url, SMS))
    assert response.status == 401
    assert answer["error"]["code"] == "verification_failed"
