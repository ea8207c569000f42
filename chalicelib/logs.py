"""The hub's one way to log: every hub event is one JSON object (a leaf).

``log_event(log, "ingest.stored", messages=2, new=2)`` logs a record whose message
is the JSON object ``{"event": "ingest.stored", "tenant": ..., "plugin": ...,
"messages": 2, "new": 2}``: the event's name, what :func:`log_context` bound for
the work in hand (tenant, plugin, event id, route), then the fields given. The
message itself is the object, so the event reads the same whoever prints it:
Lambda's runtime handler, the local runtime's console, pytest's ``caplog``.

:func:`configure` runs once per container (``hub.build_hub``): it sets the level
of the ``chalicelib`` loggers (``SWITCHBOARD_LOG_LEVEL``) and, in Lambda, gives the
runtime's own root handler :class:`JsonFormatter`, so every line the function
prints — the hub's plain lines, plugins', botocore's, stack traces — is one JSON
object with level, time, logger and Lambda's request id. The runtime's handler is
reused rather than a second one added: two handlers print every line twice (the
trap of a logger named like the Chalice app, whose logger has a handler of its own).

Fields are ids, counts, codes and reasons: never message text, addresses or
secrets (docs/architecture.md, "Logging").

AWS Lambda Powertools' ``Logger`` does this too; docs/architecture.md gives the
measurements behind writing these few lines instead.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

HUB_LOGGER = "chalicelib"

# What the work in hand is about; a ContextVar, so threads (the local runtime's
# pumps) and nested scopes each see their own
_context: ContextVar[Mapping[str, Any]] = ContextVar("switchboard_log_context",
                                                    default=MappingProxyType({}))


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Bind ``fields`` (``tenant``, ``plugin``, ``event_id``, ``route``) to every
    line logged inside; ``None`` values are left out. Nested scopes add to the outer."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class HubEvent:
    """A record's message: the event's JSON object, built only when a handler prints it."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields

    def __str__(self) -> str:
        return json.dumps(self.fields, default=str, ensure_ascii=False)


def log_event(logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log the hub event ``event`` as one JSON object (fields given win over bound ones)."""
    if logger.isEnabledFor(level):
        # stacklevel=2: the record names the caller's line, not this helper's
        logger.log(level, HubEvent({"event": event, **_context.get(), **fields}), stacklevel=2)


class JsonFormatter(logging.Formatter):
    """Any record as one JSON line: time, level, logger, Lambda's request id (its
    handler's filter stamps ``aws_request_id``), the bound context, then the hub
    event's fields or the plain message, and a stack trace when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        request = getattr(record, "aws_request_id", None)
        if request:
            line["request"] = request
        if isinstance(record.msg, HubEvent):
            line |= record.msg.fields  # bound when it was logged
        else:
            line |= _context.get()
            line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["error"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure(level: str, *, handlers: Iterable[logging.Handler] = ()) -> None:
    """The level of the hub's loggers, and :class:`JsonFormatter` on ``handlers``
    (in Lambda: the runtime's root handler). Repeating it changes nothing more."""
    logging.getLogger(HUB_LOGGER).setLevel(level)
    formatter = JsonFormatter()
    for handler in handlers:
        if not isinstance(handler.formatter, JsonFormatter):
            handler.setFormatter(formatter)
