"""Customers' profiles and merges (``/v1/customers/{id}``…).

Agents (and tenant-admin keys) change a customer's tags, attributes and name; a
supervisor (or a tenant admin) merges two customers and undoes a merge. Merges and
their undoing are in the tenant's audit log, written with the step that starts them.
The tenant always comes from the caller's key or token, never from the URL. Answers
carry identities as the tenant's ``pii_full_view_roles`` allow (:mod:`.pii_reads`); a
profile or the merges read back is one ``pii.read`` audit record.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from switchboard_sdk import Customer, Identity

from ..storage.store import TicketStore
from ..tenancy.audit import AuditLog
from ..workflow.changes import ChangeActor
from ..workflow.customer_merge import CustomerMerge
from ..workflow.customers import CustomerPatch, CustomerWrites, customer_writes
from .access import ADMIN_SCOPES, AGENT_SCOPES, READ_SCOPES, Access, ApiCall, Caller
from .masking import mask_attributes, mask_identity
from .pii_reads import NO_AUDIT, PiiReads

EDIT_SCOPES = AGENT_SCOPES | ADMIN_SCOPES
MERGE_SCOPES = frozenset({"supervisor"}) | ADMIN_SCOPES


class UpdateCustomer(CustomerPatch):
    """``PATCH /v1/customers/{id}``: a :class:`CustomerPatch`, optionally conditional on
    the version the caller read (``409`` when the customer changed since)."""

    expected_version: int | None = Field(default=None, ge=0)


class MergeCustomers(BaseModel):
    """``POST /v1/customers/{id}/merge`` and ``…/unmerge``: the customer merged into ``{id}``."""

    model_config = ConfigDict(extra="forbid")
    source_id: str = Field(min_length=1, max_length=64)


class CustomerProfile(BaseModel):
    customer: Customer
    version: int = Field(description="Pass as `expected_version` to change it only if nobody else did.")


class MergeList(BaseModel):
    merges: list[CustomerMerge]


class CustomerApi:
    def __init__(self, access: Access, store: TicketStore, audit: AuditLog, clock: Callable[[], datetime], *,
                 pii: PiiReads = NO_AUDIT) -> None:
        self._access = access
        self._pii = pii
        self._store = store
        self._audit = audit
        self._clock = clock

    def update_customer(self, call: ApiCall, customer_id: str) -> CustomerProfile:
        """Change tags, attributes or the display name (an agent, or a tenant-admin key)."""
        caller = self._access.tenant(call, EDIT_SCOPES)
        request = call.json(UpdateCustomer)
        patch = CustomerPatch.model_validate(request.model_dump(exclude={"expected_version"}, exclude_unset=True))
        customer, version = self._writes(caller).update(customer_id, patch,
                                                        expected_version=request.expected_version)
        full = self._pii.full_view(caller)
        self._pii.record(caller, f"customer/{customer.id}", fields=["customer"], full=full,
                         customer_ids=[customer.id])
        return CustomerProfile(customer=customer if full else masked(
            customer, self._pii.personal_attributes(caller.tenant_id)), version=version)

    def merge_customers(self, call: ApiCall, customer_id: str) -> CustomerMerge:
        """Merge ``source_id`` into ``customer_id`` (a supervisor or a tenant admin); calling
        again finishes a merge that stopped half-way, or answers with the finished one."""
        caller = self._access.tenant(call, MERGE_SCOPES)
        source_id = call.json(MergeCustomers).source_id
        audit = self._audit.entry(caller.tenant_id, caller.actor, "customer.merge", f"customer/{customer_id}",
                                  after={"source_id": source_id, "merged_into": customer_id})[1]
        return self._shown(caller, self._writes(caller).merge(customer_id, source_id, _actor(caller), audit=audit))

    def unmerge_customer(self, call: ApiCall, customer_id: str) -> CustomerMerge:
        """Undo the merge of ``source_id`` into ``customer_id``; idempotent."""
        caller = self._access.tenant(call, MERGE_SCOPES)
        source_id = call.json(MergeCustomers).source_id
        audit = self._audit.entry(caller.tenant_id, caller.actor, "customer.unmerge", f"customer/{customer_id}",
                                  before={"source_id": source_id, "merged_into": customer_id})[1]
        return self._shown(caller, self._writes(caller).unmerge(customer_id, source_id, _actor(caller), audit=audit))

    def list_merges(self, call: ApiCall, customer_id: str) -> MergeList:
        """The merges into ``customer_id`` (what moved; undone ones too)."""
        caller = self._access.tenant(call, READ_SCOPES)
        writes = self._writes(caller)
        writes.get(customer_id)  # 404 for a customer this tenant does not have
        merges = writes.merges(customer_id)
        full = self._pii.full_view(caller)
        self._pii.record(caller, f"customer/{customer_id}", fields=["merges"], full=full,
                         customer_ids=[customer_id, *(m.source_id for m in merges)])
        return MergeList(merges=[self._shown(caller, m, full) for m in merges])

    def _shown(self, caller: Caller, merge: CustomerMerge, full: bool | None = None) -> CustomerMerge:
        """A merge record as the caller may see it (identities are ``kind:value`` keys)."""
        if full if full is not None else self._pii.full_view(caller):
            return merge
        return merge.model_copy(update={"identities": self._pii.identity_keys(merge.identities, False)})

    def _writes(self, caller: Caller) -> CustomerWrites:
        return customer_writes(self._store.client, self._store.table_name, caller.tenant_id, self._clock,
                               crypto=self._store.crypto,
                               personal_attributes=self._pii.personal_attributes(caller.tenant_id))


def _actor(caller: Caller) -> ChangeActor:
    """Who merged, in the workflow's terms: the agent, or the API key."""
    if caller.agent is not None:
        return ChangeActor(kind="agent", id=caller.agent.id, name=caller.agent.name)
    assert caller.key is not None
    return ChangeActor(kind="api_key", id=caller.key.key_id, name=caller.key.name)


def masked(customer: Customer, personal: Collection[str] = ()) -> Customer:
    """The customer with masked identities and personal attributes (``personal``: their
    names; built without validation: a mask is no phone number)."""
    identities = [Identity.model_construct(kind=i.kind, value=mask_identity(i.kind, i.value))
                  for i in customer.identities]
    return customer.model_copy(update={"identities": identities,
                                       "attributes": mask_attributes(customer.attributes, personal)})
