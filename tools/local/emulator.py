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
from collections.abc import Callable, Iterable, Iterator
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


def memoise_possible_keys() -> None:
    """Keep moto's answers to "which attribute could hold this member?" instead of working
    them out again for every member of every structure it answers with.

    moto's response serializer asks its attribute picker that for each member of each
    structure (every attribute of every DynamoDB item it returns): six alias providers are
    built and asked each time, which made up most of the serializer's time. Their answer
    depends only on the picker's class and providers, the class of the object read, the key
    and the shape with the parent moto set on it, so it is kept per those (shapes live as
    long as their service model, which moto caches). Objects that could answer differently
    per instance (a ``Meta`` of their own, or a class with ``__getattr__``) are asked each time.
    """
    from moto.core import serialize

    for picker in (serialize.AttributePicker, serialize.XFormedAttributePicker):
        original = picker.__dict__["get_possible_keys"]
        if getattr(original, "memoised", False):
            continue
        picker.get_possible_keys = _memoised(original)  # type: ignore[method-assign,assignment]


def _memoised(original: Callable[[Any, Any], Iterable[str]]) -> Callable[[Any, Any], Iterator[str]]:
    found: dict[tuple[Any, ...], tuple[str, ...]] = {}

    def get_possible_keys(self: Any, context: Any) -> Iterator[str]:
        obj, shape = context.obj, context.shape
        if hasattr(type(obj), "__getattr__") or "Meta" in getattr(obj, "__dict__", ()):
            return iter(tuple(original(self, context)))
        key = (type(self), tuple(self.alias_providers), type(obj), context.key, shape, getattr(shape, "parent", None))
        keys = found.get(key)
        if keys is None:
            keys = found[key] = tuple(original(self, context))
        return iter(keys)

    get_possible_keys.memoised = True  # type: ignore[attr-defined]
    return get_possible_keys


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
    memoise_possible_keys()  # the serializer's attribute lookups, worked out once per shape
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, OneCallAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
