"""The tenant API's tickets (``/v1/tickets``): listed newest first, read with their messages.

Every method starts at :class:`~chalicelib.api.access.Access`: the tenant always
comes from the key, never from the URL or the query. What carries a customer's
personal data — a ticket with its customer and messages, a customer, a list page with
customers' names — goes out masked as the tenant's setting says, and each such response
is one record in the tenant's audit log (:mod:`.pii_reads`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from switchboard_sdk import NotFound, Ticket, stage_of

from ..agents.directory import AgentStore
from ..storage.conventions import MAX_PAGE, utc_now
from ..storage.reads import TicketReads
from ..storage.store import TicketStore
from .access import Access, ApiCall, Caller, page_limit
from .pii_reads import NO_AUDIT, PiiReads
from .ticket_params import parse_filters, resolve
from .visibility import EVERYONE, Visibility


class TicketApi:
    def __init__(self, access: Access, store: TicketStore, visibility: Visibility = EVERYONE,
                 agents: AgentStore | None = None, clock: Callable[[], datetime] = utc_now, *,
                 pii: PiiReads = NO_AUDIT) -> None:
        self._access = access
        self._pii = pii
        self._store = store
        self._visibility = visibility
        self._agents = agents  # to check the agent or group a filter names (None: not checked)
        self._clock = clock

    def _reads(self, call: ApiCall) -> tuple[Caller, TicketReads]:
        caller = self._access.tenant(call)
        return caller, self._store.reads(caller.tenant_id, self._visibility.scope(caller))

    def list_tickets(self, call: ApiCall) -> dict[str, Any]:
        """Newest activity first, filtered (:mod:`.ticket_params`; all ANDed) and as the caller's scope allows."""
        caller = self._access.tenant(call)
        store = self._store.reads(caller.tenant_id, self._visibility.scope(caller))
        wanted = resolve(parse_filters(call.query), caller, self._known(caller.tenant_id))
        limit = _limit(call.query.get("limit"))
        tickets, cursor = store.list_tickets(filters=wanted, limit=limit, before=call.param("cursor"),
                                             now=self._clock())
        full = self._pii.full_view(caller)
        rows = self._rows(store, tickets, full)
        if tickets:  # one record per page, naming every customer on it
            self._pii.record(caller, "tickets", fields=["customer_name"], full=full,
                             customer_ids=[t.customer_id for t in tickets], ticket_ids=[t.id for t in tickets])
        return {"tickets": rows, "next_cursor": cursor}

    def _rows(self, store: TicketReads, tickets: list[Ticket], full: bool) -> list[dict[str, Any]]:
        """List rows name their customer, so an inbox needs no read per row (one BatchGetItem a page)."""
        customers = store.get_customers(t.customer_id for t in tickets) if tickets else {}
        return [ticket_view(t) | {"customer_name": self._pii.name(customers.get(t.customer_id), full)}
                for t in tickets]

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
        caller, store = self._reads(call)
        ticket, messages = store.get_ticket(ticket_id)
        customer = store.get_customer(ticket.customer_id)
        full = self._pii.full_view(caller)
        self._pii.record(caller, f"ticket/{ticket.id}", fields=["customer", "messages"], full=full,
                         customer_ids=[ticket.customer_id], ticket_ids=[ticket.id])
        return {"ticket": ticket_view(ticket), "customer": self._pii.customer(customer, full),
                "messages": [m.model_dump(mode="json") for m in messages]}

    def get_customer(self, call: ApiCall, customer_id: str) -> dict[str, Any]:
        """A customer with every identity (email, phone, WeChat, …) and their tickets, newest first."""
        caller, store = self._reads(call)
        customer = store.get_customer(customer_id)
        if customer is None:
            raise NotFound("no such customer")
        tickets = store.customer_tickets(customer_id)
        if not tickets and store.scope.kind != "all":  # an agent sees the customers they serve
            raise NotFound("no such customer")
        full = self._pii.full_view(caller)
        self._pii.record(caller, f"customer/{customer.id}", fields=["customer", "tickets"], full=full,
                         customer_ids=[customer.id], ticket_ids=[t.id for t in tickets])
        return {"customer": self._pii.customer(customer, full), "tickets": [ticket_view(t) for t in tickets]}


def ticket_view(ticket: Ticket) -> dict[str, Any]:
    """A ticket as the API shows it: with its stage (受理 accept … 回访 follow_up)."""
    return ticket.model_dump(mode="json") | {"stage": stage_of(ticket.status, ticket.assignee_id)}


def _limit(raw: str | None) -> int:
    return page_limit(raw, MAX_PAGE)
