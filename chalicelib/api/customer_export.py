"""``GET /v1/customers/{id}/export``: everything the hub holds about one customer, for a
subject-access request — the profile unmasked, and each of their tickets with its messages.

Only the tenant's admins may export (a tenant-admin key or an agent with the admin role),
and every page is one chained ``pii.export`` record in the tenant's audit log, written
before the page is returned. A customer's history can be long, so the export comes in
pages of at most :data:`TICKETS_PER_PAGE` tickets, newest first; ``next_cursor`` names
the next page (``null`` on the last).
"""

from __future__ import annotations

from typing import Any

from switchboard_sdk import BadPayload, NotFound

from ..storage.store import TicketStore
from .access import ADMIN_SCOPES, Access, ApiCall
from .pii_reads import PiiReads
from .tickets import ticket_view

TICKETS_PER_PAGE = 10  # a ticket carries all its messages: keep a page well under Lambda's 6 MB response
FORMAT = "switchboard.customer-export/1"


class CustomerExportApi:
    def __init__(self, access: Access, store: TicketStore, pii: PiiReads) -> None:
        self._access = access
        self._store = store
        self._pii = pii

    def export(self, call: ApiCall, customer_id: str) -> dict[str, Any]:
        """One page of the customer's export (admins only; audited before it is returned)."""
        caller = self._access.tenant(call, ADMIN_SCOPES)
        reads = self._store.reads(caller.tenant_id)
        customer = reads.get_customer(customer_id)
        if customer is None:
            raise NotFound("no such customer")
        start = _offset(call.param("cursor", 12))
        tickets = reads.customer_tickets(customer_id)
        page = tickets[start:start + TICKETS_PER_PAGE]
        nxt = start + len(page)
        self._pii.record(caller, f"customer/{customer.id}", fields=["customer", "tickets", "messages"],
                         full=True, customer_ids=[customer.id], ticket_ids=[t.id for t in page],
                         action="pii.export")
        entries = []
        for ticket in page:
            whole, messages = reads.get_ticket(ticket.id)
            entries.append({"ticket": ticket_view(whole), "messages": [m.model_dump(mode="json") for m in messages]})
        return {"format": FORMAT, "customer": customer.model_dump(mode="json"), "tickets": entries,
                "total_tickets": len(tickets), "next_cursor": str(nxt) if nxt < len(tickets) else None}


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise BadPayload("cursor is not one this API returned")
    return int(cursor)
