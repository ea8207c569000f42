"""The tenant API's tickets (``/v1/tickets``): listed newest first, read with their messages.

Every method starts at :class:`~chalicelib.api.access.Access`: the tenant always
comes from the key, never from the URL or the query.
"""

from __future__ import annotations

from typing import Any

from switchboard_sdk import BadPayload, NotFound, Ticket, stage_of

from ..storage.conventions import MAX_PAGE
from ..storage.reads import TicketReads
from ..storage.store import TicketStore
from .access import Access, ApiCall, page_limit
from .visibility import EVERYONE, Visibility

STATUSES = {"new", "open", "pending", "on_hold", "solved", "closed", "merged"}


class TicketApi:
    def __init__(self, access: Access, store: TicketStore, visibility: Visibility = EVERYONE) -> None:
        self._access = access
        self._store = store
        self._visibility = visibility

    def _reads(self, call: ApiCall) -> TicketReads:
        caller = self._access.tenant(call)
        return self._store.reads(caller.tenant_id, self._visibility.scope(caller))

    def list_tickets(self, call: ApiCall) -> dict[str, Any]:
        params = call.query
        store = self._reads(call)
        status = call.query.get("status")  # present, it must be one of them (``status=`` is not)
        if status is not None and status not in STATUSES:
            raise BadPayload(f"status must be one of {', '.join(sorted(STATUSES))}")
        limit = _limit(params.get("limit"))
        tickets, cursor = store.list_tickets(status=status, limit=limit, before=call.param("cursor"))
        return {"tickets": [ticket_view(t) for t in tickets], "next_cursor": cursor}

    def get_ticket(self, call: ApiCall, ticket_id: str) -> dict[str, Any]:
        """The ticket, its customer (``null`` once erased) and its messages, oldest first:
        what customers wrote, agents' replies with their delivery status, and notes."""
        store = self._reads(call)
        ticket, messages = store.get_ticket(ticket_id)
        customer = store.get_customer(ticket.customer_id)
        return {"ticket": ticket_view(ticket),
                "customer": None if customer is None else customer.model_dump(mode="json"),
                "messages": [m.model_dump(mode="json") for m in messages]}

    def get_customer(self, call: ApiCall, customer_id: str) -> dict[str, Any]:
        """A customer with every identity (email, phone, WeChat, …) and their tickets, newest first."""
        store = self._reads(call)
        customer = store.get_customer(customer_id)
        if customer is None:
            raise NotFound("no such customer")
        tickets = store.customer_tickets(customer_id)
        if not tickets and store.scope.kind != "all":  # an agent sees the customers they serve
            raise NotFound("no such customer")
        return {"customer": customer.model_dump(mode="json"), "tickets": [ticket_view(t) for t in tickets]}


def ticket_view(ticket: Ticket) -> dict[str, Any]:
    """A ticket as the API shows it: with its stage (受理 accept … 回访 follow_up)."""
    return ticket.model_dump(mode="json") | {"stage": stage_of(ticket.status, ticket.assignee_id)}


def _limit(raw: str | None) -> int:
    return page_limit(raw, MAX_PAGE)
