"""The tenant API's tickets (``/v1/tickets``): listed newest first, read with their messages.

Every method starts at :class:`~chalicelib.api.access.Access`: the tenant always
comes from the key, never from the URL or the query.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from switchboard_sdk import Customer, NotFound, Ticket, stage_of

from ..agents.directory import AgentStore
from ..storage.conventions import MAX_PAGE, utc_now
from ..storage.reads import TicketReads
from ..storage.store import TicketStore
from .access import Access, ApiCall, page_limit
from .ticket_params import parse_filters, resolve
from .visibility import EVERYONE, Visibility


class TicketApi:
    def __init__(self, access: Access, store: TicketStore, visibility: Visibility = EVERYONE,
                 agents: AgentStore | None = None, clock: Callable[[], datetime] = utc_now) -> None:
        self._access = access
        self._store = store
        self._visibility = visibility
        self._agents = agents  # to check the agent or group a filter names (None: not checked)
        self._clock = clock

    def _reads(self, call: ApiCall) -> TicketReads:
        caller = self._access.tenant(call)
        return self._store.reads(caller.tenant_id, self._visibility.scope(caller))

    def list_tickets(self, call: ApiCall) -> dict[str, Any]:
        """Newest activity first, filtered (:mod:`.ticket_params`; all ANDed) and as the caller's scope allows."""
        caller = self._access.tenant(call)
        store = self._store.reads(caller.tenant_id, self._visibility.scope(caller))
        wanted = resolve(parse_filters(call.query), caller, self._known(caller.tenant_id))
        limit = _limit(call.query.get("limit"))
        tickets, cursor = store.list_tickets(filters=wanted, limit=limit, before=call.param("cursor"),
                                             now=self._clock())
        return {"tickets": _rows(store, tickets), "next_cursor": cursor}

    def _known(self, tenant_id: str) -> Callable[[str, str], bool]:
        """Whether an agent or a group of the tenant exists (one read, only for a filter naming one)."""
        def known(kind: str, item_id: str) -> bool:
            if self._agents is None:
                return True
            directory = self._agents.of(tenant_id)
            return (directory.agent(item_id) if kind == "agent" else directory.group(item_id)) is not None

        return known

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


def _rows(store: TicketReads, tickets: list[Ticket]) -> list[dict[str, Any]]:
    """List rows name their customer, so an inbox needs no read per row (one BatchGetItem a page)."""
    customers = store.get_customers(t.customer_id for t in tickets) if tickets else {}
    return [ticket_view(t) | {"customer_name": _name(customers.get(t.customer_id))} for t in tickets]


def _name(customer: Customer | None) -> str | None:
    if customer is None:
        return None
    return customer.display_name or (customer.identities[0].value if customer.identities else None)


def ticket_view(ticket: Ticket) -> dict[str, Any]:
    """A ticket as the API shows it: with its stage (受理 accept … 回访 follow_up)."""
    return ticket.model_dump(mode="json") | {"stage": stage_of(ticket.status, ticket.assignee_id)}


def _limit(raw: str | None) -> int:
    return page_limit(raw, MAX_PAGE)
