"""moto's server for the local runtime, answering one AWS call at a time.

AWS applies each API call atomically. moto's server runs every request in a
thread of its own and its backends take no locks, so concurrent calls can
interleave inside it: a DeleteMessageBatch rebuilding a FIFO queue's message
list while a ReceiveMessage walks it lets the receive hand out a later job of a
message group while an earlier one waits (seen as a ticket's events delivered
out of order), and two conditional writes to one item can both pass their
condition. Serialising the calls restores the atomicity the hub relies on, as
``tests/conftest.py``'s ``AtomicCalls`` does for the in-process tests.

A call that long-polls would hold every other call up: the local pumps poll
short (``WaitTimeSeconds=0``) and rest when idle.

Transactions back up the items they name instead of whole tables
(:mod:`tools.local.moto_transactions`).

Run as ``python -m tools.local.emulator -H 127.0.0.1 -p <port>``.
"""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class OneCallAtATime:
    """WSGI middleware: one request inside ``app`` at a time (the response body is
    built inside the call: moto answers with complete bodies)."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        with self._lock:
            return self._app(environ, start_response)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, required=True)
    args = parser.parse_args(argv)
    os.environ.setdefault("MOTO_PORT", str(args.port))  # as moto.server does: some services build URLs with it

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    from tools.local import moto_transactions

    moto_transactions.install()  # a transaction's cost no longer grows with the table
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, OneCallAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
