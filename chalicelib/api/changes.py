"""``GET /v1/changes``: the tickets changed since a cursor, for the console's poll.

The cursor is the number of the tenant's changes feed (:mod:`chalicelib.storage.changes`)
the caller has read through, and the answer's ``ETag``. A poll that names the current
one in ``If-None-Match`` answers 304 after one read of the feed's mark (besides the
access gate's own); otherwise the tickets noted after it, oldest change first, as the
caller's scope lets it see them (a ticket it may not see is left out, as in lists).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard_sdk import BadPayload

from ..storage.changes import ChangeFeeds
from ..storage.store import TicketStore
from ..storage.ticket_filters import TicketFilter
from .access import Access, ApiCall
from .tickets import ticket_view
from .visibility import Visibility

MAX_TICKETS = 100
CURSOR_PATTERN = r"^[0-9]{1,15}$"


@dataclass(frozen=True)
class Changes:
    """An answer: ``page`` is ``None`` when nothing changed since the ``If-None-Match`` cursor (304)."""

    etag: str
    page: dict[str, Any] | None


class ChangeApi:
    def __init__(self, access: Access, store: TicketStore, feeds: ChangeFeeds, visibility: Visibility,
                 clock: Callable[[], datetime]) -> None:
        self._access, self._store, self._feeds = access, store, feeds
        self._visibility, self._clock = visibility, clock

    def changes(self, call: ApiCall, if_none_match: str | None = None) -> Changes:
        caller = self._access.tenant(call)
        cursor = _cursor(call.param("cursor"))
        feed = self._feeds.of(caller.tenant_id)
        mark = feed.current()
        if cursor is None or cursor >= mark.seq:  # nothing after it (a replica behind may show an older mark)
            current = mark.seq if cursor is None else cursor
            unchanged = str(current) in _tags(if_none_match)
            return Changes(_etag(current), None if unchanged else _page(current, [], more=False))
        found = feed.since(cursor, mark, self._clock(), max_tickets=MAX_TICKETS)
        if found.seq == cursor and str(cursor) in _tags(if_none_match):  # waiting at a gap: nothing yet
            return Changes(_etag(cursor), None)
        reads = self._store.reads(caller.tenant_id, self._visibility.scope(caller))
        wanted = TicketFilter(ids=tuple(found.ticket_ids))  # no ids (a gap skipped): nothing to read
        tickets = reads.list_tickets(filters=wanted, now=self._clock())[0] if found.ticket_ids else []
        order = {ticket_id: n for n, ticket_id in enumerate(found.ticket_ids)}
        shown = sorted(tickets, key=lambda t: order[t.id])
        return Changes(_etag(found.seq), _page(found.seq, [ticket_view(t) for t in shown], more=found.more))


def _page(seq: int, tickets: list[dict[str, Any]], *, more: bool) -> dict[str, Any]:
    return {"cursor": str(seq), "tickets": tickets, "more": more}


def _cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not re.fullmatch(CURSOR_PATTERN, raw):
        raise BadPayload("cursor must be the cursor of an earlier answer")
    return int(raw)


def _etag(seq: int) -> str:
    return f'"{seq}"'


def _tags(header: str | None) -> set[str]:
    """The entity tags an ``If-None-Match`` names (weak or strong, quoted or not)."""
    tags = (part.strip().removeprefix("W/").strip('"') for part in (header or "").split(","))
    return {tag for tag in tags if tag}
