"""Customers' personal data on its way out of the API: masked for whom the tenant says,
and every read recorded in the tenant's audit log.

Whether a caller sees identities in full is the tenant's setting
``workflow.pii_full_view_roles`` (:mod:`chalicelib.tenancy.workflow_settings`): agents by
their role, tenant-admin keys as ``admin``, other API keys as ``api_key``. Every
response that carries a customer's identities or name — a ticket, a customer, a page
of the ticket list, a customer's merges — costs one chained audit append (``pii.read``)
naming who (key or agent, with source IP and user agent), what (customer and ticket
ids, the fields, ``masked`` or ``full``) and when; the page's data is only returned
once that record is written (:class:`~switchboard_sdk.Unavailable` otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from switchboard_sdk import Customer

from ..tenancy.audit import AuditLog
from ..tenancy.workflow_settings import PiiViewer, WorkflowSettings
from .access import Caller
from .masking import mask_customer, mask_identity, mask_identity_key

MAX_IDS = 100  # a list page names at most this many customers (the API's page limit)


def viewer(caller: Caller) -> PiiViewer:
    """Which of the setting's names applies to the caller."""
    if caller.agent is not None:
        return caller.agent.role
    return "admin" if "tenant-admin" in caller.scopes else "api_key"


class PiiReads:
    def __init__(self, audit: AuditLog | None, settings_of: Callable[[str], WorkflowSettings]) -> None:
        self._audit = audit  # None: tools and tests that read without an audit log
        self._settings_of = settings_of

    def full_view(self, caller: Caller) -> bool:
        return viewer(caller) in self._settings_of(caller.tenant_id).pii_full_view_roles

    def personal_attributes(self, tenant_id: str) -> list[str]:
        """The tenant's ``workflow.personal_attributes``: sealed when written, masked when shown."""
        return self._settings_of(tenant_id).personal_attributes

    def customer(self, customer: Customer | None, full: bool) -> dict[str, Any] | None:
        """A customer's JSON view as the caller may see it."""
        if customer is None:
            return None
        view = customer.model_dump(mode="json")
        return view if full else mask_customer(view, self.personal_attributes(customer.tenant_id))

    def name(self, customer: Customer | None, full: bool) -> str | None:
        """A list row's name: the display name, else the first identity (masked as needed)."""
        if customer is None:
            return None
        if customer.display_name:
            return customer.display_name
        if not customer.identities:
            return None
        first = customer.identities[0]
        return first.value if full else mask_identity(first.kind, first.value)

    def identity_keys(self, keys: Sequence[str], full: bool) -> list[str]:
        return list(keys) if full else [mask_identity_key(k) for k in keys]

    def record(self, caller: Caller, target: str, *, fields: Sequence[str], full: bool,
               customer_ids: Iterable[str] = (), ticket_ids: Iterable[str] = (), action: str = "pii.read") -> None:
        """The audit record of one response carrying personal data (one chained append);
        ``action`` is ``pii.read``, or ``pii.export`` for a subject-access export."""
        if self._audit is None:
            return
        customers = sorted(set(customer_ids))[:MAX_IDS]
        tickets = list(dict.fromkeys(ticket_ids))[:MAX_IDS]
        self._audit.record(caller.tenant_id, caller.actor, action, target,
                           after={"customer_ids": customers, "ticket_ids": tickets, "fields": list(fields),
                                  "view": "full" if full else "masked"})


NO_AUDIT = PiiReads(None, lambda _tenant_id: WorkflowSettings())  # tests and tools: default masking, no records
