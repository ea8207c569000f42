"""Store changes → event envelopes → one delivery job per enabled connector.

Event ids derive from the changed record, so a redelivered stream record yields
the same ids, and the FIFO queue's de-duplication id (event id + connector)
drops the repeat. Jobs of one ticket and connector share a message group, so
they are delivered in order and a failing connector never blocks another.

The stream handler collects the jobs of a whole stream batch in an
:class:`Outbox`, which sends them in record order, as many per
``SendMessageBatch`` as SQS's limits allow (ten; 256 KiB); when a send fails for
a passing reason it names the first record whose jobs were not all queued, and
the batch is retried from there (the repeats it sends again are dropped by
their de-duplication ids). Jobs SQS refuses for what they carry are reported
per record instead, so the stream handler sets that record aside.

Jobs (:mod:`chalicelib.pipeline.jobs`) carry their event while it is small and a
reference to the stored item otherwise; :class:`StoredEvents` rebuilds a
referenced event for the worker. An inline event is sealed once under the tenant's
cached data key (no KMS call per message in steady state) and the same sealed text
rides in each connector's job; when KMS does not answer, the record fails with a
retryable ``key_service_unavailable`` and the stream tries it again.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from switchboard_sdk import Customer, EventEnvelope, Message, NotFound, Ticket, Unavailable

from ..storage.aws import SQS_BATCH, error_code
from ..storage.ids import event_id_for
from ..storage.keys import Key
from ..storage.sealing import Sealer
from ..storage.store import TicketStore
from ..storage.table import TenantTable
from ..tenancy.tenants import TenantDirectory
from .jobs import EventRef, JobRefused, entry_size, fitting, job_for, seal_event
from .setaside import is_transient

log = logging.getLogger(__name__)


def events_for(item: dict[str, Any], customer: Customer | None = None) -> list[EventEnvelope]:
    """Events announced by a newly inserted store item (deserialised); ``customer``
    (who the ticket belongs to) rides along so connectors can match CRM contacts
    by email or phone, and a message's ``ticket_subject`` (written on its item by
    the conversation builder, so no ticket is read here) so they can title what they file."""
    kind = item.get("type")
    extra: dict[str, Any] = {"customer": customer.model_dump(mode="json")} if customer else {}
    if kind == "ticket":
        ticket = Ticket.model_validate(
            {k: v for k, v in item.items() if k in Ticket.model_fields} | {"id": item["ticket_id"]}
        )
        return [_envelope("ticket.created", ticket.tenant_id, ticket.id, ticket.created_at,
                          {"ticket": ticket.model_dump(mode="json")} | extra)]
    if kind == "message":
        message = Message.model_validate({k: v for k, v in item.items() if k in Message.model_fields})
        if "ticket_subject" in item:  # messages stored before it was written go without
            extra["ticket_subject"] = str(item["ticket_subject"])
        return [_envelope("message.created", message.tenant_id, message.ticket_id, message.received_at,
                          {"message": message.model_dump(mode="json")} | extra, object_id=message.id)]
    return []


def _envelope(
    kind: str, tenant_id: str, ticket_id: str, at: Any, data: dict[str, Any], object_id: str = ""
) -> EventEnvelope:
    event_id = event_id_for(kind, tenant_id, object_id or ticket_id)
    return EventEnvelope.model_validate(
        {"id": event_id, "type": kind, "tenant_id": tenant_id, "ticket_id": ticket_id,
         "occurred_at": at, "data": data}
    )


class NotQueued(Unavailable):
    """Some delivery jobs were not queued for a passing reason; ``owner`` added the
    first of them (retry from it)."""

    def __init__(self, owner: str, detail: str) -> None:
        super().__init__(f"delivery jobs of {owner or 'a record'} were not queued: {detail}")
        self.owner = owner


@dataclass(frozen=True)
class _Held:
    owner: str
    entry: dict[str, str]
    size: int


class Outbox:
    """Delivery jobs waiting to be queued, sent in the order they were added, as
    many per ``SendMessageBatch`` as SQS takes (:func:`~chalicelib.pipeline.jobs.fitting`:
    ten, and 256 KiB in all); each job remembers who added it (a stream record).

    Jobs SQS refuses for what they carry cannot be queued by trying again: their
    owner's jobs are dropped and the owner is listed in :attr:`rejected` with the
    reason, and the others go on. Anything else that leaves jobs unsent raises
    :class:`NotQueued`."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._pending: list[_Held] = []
        self.queued = 0
        self.rejected: dict[str, str] = {}

    def add(self, owner: str, entries: Iterable[dict[str, str]]) -> None:
        """Hold ``entries`` for ``owner``; full batches go out at once."""
        self._pending += [_Held(owner, entry, entry_size(entry)) for entry in entries]
        while self._pending:
            count = self._fitting()
            if count == len(self._pending) and count < SQS_BATCH:
                return  # room for more in this batch
            self._send(count)

    def flush(self) -> None:
        """Queue everything held; :class:`NotQueued` names the first owner not fully queued."""
        while self._pending:
            self._send(self._fitting())

    def _fitting(self) -> int:
        return fitting([held.size for held in self._pending[:SQS_BATCH]])

    def _send(self, count: int) -> None:
        chunk = self._pending[:count]
        entries = [held.entry | {"Id": str(i)} for i, held in enumerate(chunk)]
        try:
            result = self._sqs.send_message_batch(QueueUrl=self._queue_url, Entries=entries)
        except Exception as err:
            if is_transient(err):
                raise NotQueued(chunk[0].owner, error_code(err) or type(err).__name__) from err
            self._refused_call(chunk, err)
            return
        failed = result.get("Failed") or []
        refused = {int(f["Id"]): f for f in failed if f.get("SenderFault")}
        del self._pending[: len(chunk)]
        self.queued += len(chunk) - len(failed)
        for position, failure in refused.items():
            self._reject(chunk[position].owner, f"SQS refused its job: {failure.get('Code')}")
        passing = [int(f["Id"]) for f in failed if not f.get("SenderFault")]
        if passing:  # the batch is retried from the first of them; de-duplication ids make it safe
            first = chunk[min(passing)].owner
            raise NotQueued(first, f"{len(passing)} failed, e.g. {failed[0].get('Code')}")

    def _refused_call(self, chunk: list[_Held], err: Exception) -> None:
        """SQS refused a whole batch: one at a time, to find whose job it was."""
        if len(chunk) == 1:
            del self._pending[:1]
            self._reject(chunk[0].owner, f"SQS refused its job: {error_code(err) or type(err).__name__}")
            return
        for _ in chunk:
            if self._pending:
                self._send(1)

    def _reject(self, owner: str, reason: str) -> None:
        log.error("delivery jobs of record %s cannot be queued: %s", owner, reason)
        self.rejected.setdefault(owner, reason)
        self._pending = [held for held in self._pending if held.owner != owner]


class Dispatcher:
    """``crypto`` (``hub.crypto``) seals the events jobs carry; without one (built by
    hand) jobs carry them in clear."""

    def __init__(self, tenants: TenantDirectory, sqs: Any, queue_url: str, crypto: Sealer | None = None) -> None:
        self._tenants = tenants
        self._sqs = sqs
        self._queue_url = queue_url
        self._crypto = crypto

    def _sealed(self, event: EventEnvelope, by_reference: bool = False) -> str | None:
        """``event`` sealed for every connector's job (once); none for a job by reference."""
        return None if by_reference or self._crypto is None else seal_event(self._crypto, event)

    def outbox(self) -> Outbox:
        return Outbox(self._sqs, self._queue_url)

    def jobs(self, events: Iterable[EventEnvelope], *, by_reference: bool = False) -> list[dict[str, str]]:
        """``SendMessageBatch`` entries (without ``Id``): one per (event, enabled connector).
        :class:`~chalicelib.pipeline.jobs.JobTooLarge` if an event can be neither inlined nor referenced."""
        entries: list[dict[str, str]] = []
        for event in events:
            try:
                tenant = self._tenants.get(event.tenant_id)
            except NotFound:  # tenant removed since: nobody to deliver to
                log.warning("no tenant %s for event %s; not queued", event.tenant_id, event.id)
                continue
            connectors = self._tenants.enabled_of_kind(tenant, "connector")
            if not connectors:
                continue
            sealed = self._sealed(event, by_reference)
            entries += [job_for(name, event, by_reference=by_reference, sealed=sealed).entry()
                        for name in connectors]
        return entries

    def notify(self, connector: str, event: EventEnvelope) -> bool:
        """Queue ``event`` for one connector (a rule's ``notify_connector``); ``False`` when
        the tenant has no such connector enabled. Repeats are dropped by the job's de-dup id."""
        tenant = self._tenants.get(event.tenant_id)
        if connector not in self._tenants.enabled_of_kind(tenant, "connector"):
            log.warning("rule notifies connector %s, which tenant %s has not enabled", connector, event.tenant_id)
            return False
        self._sqs.send_message(QueueUrl=self._queue_url,
                               **job_for(connector, event, sealed=self._sealed(event)).entry())
        return True

    def enqueue(self, events: Iterable[EventEnvelope]) -> int:
        """Queue the jobs of ``events`` now; returns the job count."""
        outbox = self.outbox()
        outbox.add("", self.jobs(events))
        outbox.flush()
        if outbox.rejected:
            raise JobRefused(outbox.rejected[""])
        return outbox.queued


class StoredEvents:
    """Rebuilds a referenced event (:class:`~chalicelib.pipeline.jobs.EventRef`) from the table:
    the item that announced it (a message in full, put back together from its parts
    if it is large) and its customer, two consistent reads. The worker needs this
    only for jobs too large to carry their event."""

    def __init__(self, store: TicketStore) -> None:
        self._store = store

    def rebuild(self, ref: EventRef) -> EventEnvelope:
        """:class:`NotFound` when the item is gone (erased or expired) or no longer announces the event."""
        tenant = self._store.reads(ref.tenant_id)
        if ref.type == "message.created" and ref.message_id and ref.received_at:
            item: dict[str, Any] | None = tenant.get_message_item(ref.ticket_id, ref.received_at, ref.message_id)
        elif ref.type == "ticket.created":
            items = _Items(self._store.client, self._store.table_name, tenant.keys)
            stored = items.get(tenant.keys.ticket(ref.ticket_id))
            item = None if stored is None else tenant.fields.open_ticket(stored)  # its subject, sealed
        else:
            raise NotFound(f"event {ref.id} ({ref.type}) names no stored item")
        if item is None:
            raise NotFound(f"the item of event {ref.id} is no longer stored (erased or expired)")
        customer = tenant.get_customer(str(item.get("customer_id", "")))
        found = [event for event in events_for(item, customer) if event.id == ref.id]
        if not found:
            raise NotFound(f"the stored item no longer announces event {ref.id}")
        return found[0]


class _Items(TenantTable):
    """One tenant's items by key (reads only)."""

    def get(self, key: Key) -> dict[str, Any] | None:
        return self._get(key)
