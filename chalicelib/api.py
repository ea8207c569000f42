"""The read-only tickets API (``/v1/tickets``), authorised by tenant API keys.

The tenant always comes from the key, never from the URL or the query.
"""

from __future__ import annotations

from typing import Any

from switchboard_sdk import BadPayload, Forbidden

from .store import MAX_PAGE, TicketStore
from .tenants import TenantDirectory

READ_SCOPES = {"tenant-admin", "agent", "read-only"}
STATUSES = {"open", "pending", "solved", "closed"}


class TicketApi:
    def __init__(self, tenants: TenantDirectory, store: TicketStore) -> None:
        self._tenants = tenants
        self._store = store

    def _tenant_store(self, authorization: str | None) -> Any:
        key = self._tenants.authenticate(authorization)
        if not READ_SCOPES & set(key.scopes):
            raise Forbidden("this key may not read tickets")
        return self._store.tenant(key.tenant_id)

    def list_tickets(self, authorization: str | None, params: dict[str, str]) -> dict[str, Any]:
        store = self._tenant_store(authorization)
        status = params.get("status") or None
        if status is not None and status not in STATUSES:
            raise BadPayload(f"status must be one of {', '.join(sorted(STATUSES))}")
        limit = _limit(params.get("limit"))
        tickets, cursor = store.list_tickets(status=status, limit=limit, before=params.get("cursor") or None)
        return {"tickets": [t.model_dump(mode="json") for t in tickets], "next_cursor": cursor}

    def get_ticket(self, authorization: str | None, ticket_id: str) -> dict[str, Any]:
        store = self._tenant_store(authorization)
        ticket, messages = store.get_ticket(ticket_id)
        return {"ticket": ticket.model_dump(mode="json"),
                "messages": [m.model_dump(mode="json") for m in messages]}


def _limit(raw: str | None) -> int:
    if raw is None or raw == "":
        return 50
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise BadPayload(f"limit must be an integer from 1 to {MAX_PAGE}")
    return int(raw)
