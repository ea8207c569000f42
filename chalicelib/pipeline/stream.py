"""The table's stream handler: inbound records → conversations; new tickets and
messages → delivery jobs.

Records arrive at least once and in order per item. A record that fails for a
passing reason (throttling, a service unavailable, jobs not queued:
:func:`~chalicelib.pipeline.setaside.is_transient`) is reported by its sequence number
(``batchItemFailures``) so Lambda retries from there; everything before it is
not redone, and anything redone is idempotent anyway. A record that would fail
every time (it does not validate, its jobs can never be queued, a bug) is set
aside in its tenant's partition (:class:`~chalicelib.pipeline.setaside.SetAside`: the
reason and the record's keys, replayable) and the handler goes on with the next
record, so it never holds back anyone else's.

Parked follow-ups are released when the message they wait for is stored, read
from that message's provider-message record: only one that a parked follow-up
marked (``Conversations.park``) costs a read; every other message costs none.

Delivery jobs are batched across the stream batch: they wait in an
:class:`~chalicelib.pipeline.dispatch.Outbox` that sends them in record order, up to ten
(and 256 KiB) at a time, and the customers they name are read in one call per
tenant. Before reporting a failure the handler queues what earlier records
produced; if that fails too, it reports the first record whose jobs were not all
queued. Records whose jobs SQS refuses for what they carry are set aside.

A tenant's assistant answers behind the stream too (:class:`AssistantHooks`, given by
the hub: the pipeline knows nothing of chalicelib.assistant): each new customer message
may become an answering job, sent once per batch; a tenant without an assistant costs
nothing there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from switchboard_sdk import BadPayload, Customer, EventEnvelope

from ..logs import log_context, log_event
from ..storage.changes import ChangeFeeds
from ..storage.conversations import has_parked_follow_ups
from ..storage.items import from_item
from ..storage.keys import provider_message_of
from .conversations import ConversationBuilder
from .dispatch import Dispatcher, NotQueued, Outbox, events_for
from .reply_changes import announcement, is_reply, send_job, status_event
from .setaside import SetAside, describe, is_transient, tenant_of
from .workflow_events import history_events, is_history

log = logging.getLogger(__name__)
Change = tuple[dict[str, Any], dict[str, Any] | None]  # a record and its new image (None: unreadable)


@dataclass
class _Batch:
    """What one stream batch shares: its delivery jobs, and whom its new tickets and
    messages belong to (tenant → customer ids), read once per tenant when first needed."""

    outbox: Outbox
    wanted: dict[str, set[str]]
    customers: dict[tuple[str, str], Customer] = field(default_factory=dict)
    events: list[tuple[str, EventEnvelope]] = field(default_factory=list)  # (record, event): the archive's


class WorkflowHooks(Protocol):
    """The workflow behind the stream (chalicelib.workflow): a new message moves its
    ticket on; a ticket's change (its history entry) has consequences."""

    def on_message(self, image: dict[str, Any]) -> object: ...

    def on_history(self, image: dict[str, Any]) -> object: ...

    def on_survey(self, image: dict[str, Any], old: dict[str, Any] | None) -> object: ...

    def on_agent(self, image: dict[str, Any], old: dict[str, Any] | None) -> object: ...


class MetricsHooks(Protocol):
    """The KPI aggregates (chalicelib.metrics): a ticket's change, a reply, an SLA target ending."""

    def on_history(self, image: dict[str, Any]) -> object: ...

    def on_message(self, image: dict[str, Any]) -> object: ...

    def on_ticket(self, image: dict[str, Any], old: dict[str, Any] | None) -> object: ...

    def begin(self) -> None: ...

    def flush(self) -> object: ...


class AssistantHooks(Protocol):
    """The assistant's answering jobs (chalicelib.assistant.jobs): each inserted message item
    is offered (it keeps the customers' messages of tenants with an assistant), the jobs
    are sent once per batch (``flush``); a passing failure to send retries the batch."""

    def begin(self) -> None: ...

    def on_message(self, image: dict[str, Any]) -> object: ...

    def flush(self) -> object: ...


class EventArchiveHook(Protocol):
    """Every event built for connectors, also kept in S3 (chalicelib.metrics.archive)."""

    def put(self, events: list[EventEnvelope], batch_id: str) -> object: ...


class StreamProcessor:
    def __init__(self, conversations: ConversationBuilder, dispatcher: Dispatcher, shelf: SetAside,
                 workflow: WorkflowHooks | None = None, changes: ChangeFeeds | None = None,
                 metrics: MetricsHooks | None = None, archive: EventArchiveHook | None = None,
                 assistant: AssistantHooks | None = None) -> None:
        self._metrics = metrics
        self._assistant = assistant
        self._archive = archive
        self._conversations = conversations
        self._dispatcher = dispatcher
        self._shelf = shelf
        self._workflow = workflow
        self._changes = changes  # the console's changes feed (storage/changes.py)

    def process(self, records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
        """Handle Lambda-shaped stream records; returns the partial-failure report."""
        changes = [(record, _image(record)) for record in records]
        if (noted := self._note_changes(changes)) is not None:
            return {"batchItemFailures": [{"itemIdentifier": noted}]}
        batch = _Batch(self._dispatcher.outbox(), _customers_wanted(changes))
        for hooks in (self._metrics, self._assistant):
            if hooks is not None:
                hooks.begin()
        retry_at = self._run(changes, batch)
        retry_at = self._metrics_flushed(changes, retry_at)
        retry_at = self._flushed(self._assistant, "assistant's jobs not queued", changes, retry_at)
        retry_at = self._shelve_rejected(changes, batch.outbox.rejected, retry_at)
        retry_at = self._archived(changes, batch, retry_at)
        return {"batchItemFailures": [] if retry_at is None else [{"itemIdentifier": retry_at}]}

    def _note_changes(self, changes: list[Change]) -> str | None:
        """Note the tickets the batch changed in the changes feed, before anything else: on a
        passing failure the whole batch is retried (``None``: go on). A lasting one is
        logged and the batch goes on: the feed never holds the stream back."""
        if self._changes is None or not changes:
            return None
        try:
            self._changes.note_records(changes)
        except Exception as err:
            if is_transient(err):
                log.warning("changes feed not noted; retrying the batch", exc_info=True)
                return _sequence(changes[0][0])
            log.exception("changes feed not noted")
        return None

    def _run(self, changes: list[Change], batch: _Batch) -> str | None:
        """Each record in turn; the sequence number to retry from, or ``None``."""
        for record, image in changes:
            sequence = _sequence(record)
            try:
                if image is None:
                    raise BadPayload("the record's new image cannot be read")
                with log_context(record=sequence):  # message text and subjects opened once, for every hook
                    self._one(record, self._conversations.opened(image), sequence, batch)
            except NotQueued as err:
                log.exception("delivery jobs not queued; retrying from record %s", err.owner)
                return err.owner
            except Exception as err:
                if is_transient(err) or not self._set_aside(record, image, describe(err)):
                    log.exception("stream record %s failed; retrying from it", sequence)
                    unsent = _flush(batch.outbox)
                    return sequence if unsent is None else unsent
                log.warning("stream record %s set aside", sequence, exc_info=True)
        return _flush(batch.outbox)

    def _metrics_flushed(self, changes: list[Change], retry_at: str | None) -> str | None:
        """Refresh the KPIs of the tickets the batch touched (once each); a passing failure
        retries the batch, a lasting one is logged (those tickets' figures catch up at their
        next change)."""
        return self._flushed(self._metrics, "KPIs not refreshed", changes, retry_at)

    def _flushed(self, hooks: MetricsHooks | AssistantHooks | None, what: str, changes: list[Change],
                 retry_at: str | None) -> str | None:
        """End a hook's batch: a passing failure retries the whole batch (redone records are
        idempotent), a lasting one is logged and the batch goes on."""
        if hooks is None:
            return retry_at
        try:
            hooks.flush()
        except Exception as err:
            if is_transient(err):
                log.warning("%s; retrying the batch", what, exc_info=True)
                return _sequence(changes[0][0])
            log.exception(what)
        return retry_at

    def _archived(self, changes: list[Change], batch: _Batch, retry_at: str | None) -> str | None:
        """Archive the events of the records before the retry point (those after it are
        redone); a passing failure retries the whole batch, a lasting one is logged."""
        done = [record for record, _ in changes[: _position(changes, retry_at)]]
        owners = {_sequence(record) for record in done}
        events = [event for owner, event in batch.events if owner in owners]
        if self._archive is None or not events:
            return retry_at
        try:
            self._archive.put(events, ",".join(_sequence(record) for record in done))
        except Exception as err:
            if is_transient(err):
                log.warning("events not archived; retrying the batch", exc_info=True)
                return _sequence(changes[0][0])
            log.exception("events not archived")
        return retry_at

    def _jobs(self, batch: _Batch, sequence: str, events: list[EventEnvelope], *,
              by_reference: bool = False) -> None:
        batch.events += [(sequence, event) for event in events]
        batch.outbox.add(sequence, self._dispatcher.jobs(events, by_reference=by_reference))

    def _set_aside(self, record: dict[str, Any], image: dict[str, Any] | None, reason: str) -> bool:
        """``False`` if it could not be: the record must then be retried."""
        try:
            self._shelf.put(record, image or {}, reason)
        except Exception:
            log.exception("stream record %s could not be set aside", _sequence(record))
            return False
        return True

    def _shelve_rejected(self, changes: list[Change], rejected: dict[str, str], retry_at: str | None) -> str | None:
        """Set aside the records whose jobs SQS refused (those before the retry point:
        the rest are redone); returns the retry point, earlier if one could not be."""
        for record, image in changes:
            sequence = _sequence(record)
            if sequence == retry_at:
                break
            if sequence in rejected and not self._set_aside(record, image, rejected[sequence]):
                return sequence
        return retry_at

    def _one(self, record: dict[str, Any], image: dict[str, Any], sequence: str, batch: _Batch) -> None:
        """Process one record; an exception says why it failed (retried or set aside)."""
        if has_parked_follow_ups(image):  # stored and marked (INSERT or MODIFY, whichever came last)
            tenant_id, (channel, provider_id) = _owned(record, image["tenant_id"]), provider_message_of(image["pk"])
            self._conversations.release(tenant_id, channel, provider_id)
            return
        if is_reply(image):
            self._reply_changed(record, image, sequence, batch)
        if image.get("type") == "survey" and self._workflow is not None:  # answered: CSAT and its follow-up
            _owned(record, image["tenant_id"])
            self._workflow.on_survey(image, _old_image(record))
        if image.get("type") == "agent" and self._workflow is not None:  # online: work finds them
            _owned(record, image["tenant_id"])
            self._workflow.on_agent(image, _old_image(record))
        if image.get("type") == "ticket" and self._metrics is not None:  # SLA targets met or breached
            _owned(record, image["tenant_id"])
            self._metrics.on_ticket(image, _old_image(record))
        if record.get("eventName") != "INSERT":
            return
        if image.get("type") == "inbound":
            inbound = self._conversations.inbound_of(image)
            _owned(record, inbound.tenant_id)
            message = self._conversations.absorb(inbound)
            self._conversations.mark_bounced(inbound)
            if message is not None:
                log_event(log, "conversation.absorbed", tenant=inbound.tenant_id, plugin=inbound.channel,
                          ticket=message.ticket_id, message=message.id)
            return
        if _dispatched(record, image):
            customer = self._customer(batch, _owned(record, image["tenant_id"]), image["customer_id"])
            # a large message's item keeps its text in parts: its event is rebuilt from the table
            events = events_for(image, customer)
            self._jobs(batch, sequence, events, by_reference="parts" in image)
        if self._workflow is not None and image.get("type") == "message":
            _owned(record, image["tenant_id"])
            self._workflow.on_message(image)
        if self._metrics is not None and image.get("type") == "message":  # a reply, for FCR and automation
            _owned(record, image["tenant_id"])
            self._metrics.on_message(image)
        if self._assistant is not None and image.get("type") == "message":  # a customer's: maybe answered
            _owned(record, image["tenant_id"])
            self._assistant.on_message(image)
        if is_history(image):
            tenant_id = _owned(record, image["tenant_id"])
            customer = self._customer(batch, tenant_id, str(image["ticket"].get("customer_id", "")))
            self._jobs(batch, sequence, history_events(image, customer))
            if self._workflow is not None:
                self._workflow.on_history(image)
            if self._metrics is not None:
                self._metrics.on_history(image)

    def _reply_changed(self, record: dict[str, Any], image: dict[str, Any], sequence: str, batch: _Batch) -> None:
        """A reply's send job (new, or retried), or its ``message.failed`` event."""
        job = send_job(record, image)
        if job is not None:
            batch.outbox.add(sequence, [job.entry()])
        kind = announcement(record, image)
        if kind is not None:  # message.sent / message.failed
            customer = self._customer(batch, _owned(record, image["tenant_id"]), image["customer_id"])
            self._jobs(batch, sequence, [status_event(kind, image, customer)])

    def _customer(self, batch: _Batch, tenant_id: str, customer_id: str) -> Customer | None:
        """Who a ticket or message belongs to: the first time a tenant's customer is
        needed, all of that tenant's customers in the batch are read in one call."""
        wanted = batch.wanted.get(tenant_id)
        if wanted:
            try:
                found = self._conversations.customers(tenant_id, wanted)
            except Exception:  # the next record reads without this one's customer, in case it is the cause
                wanted.discard(customer_id)
                raise
            batch.customers |= {(tenant_id, cid): customer for cid, customer in found.items()}
            del batch.wanted[tenant_id]
        return batch.customers.get((tenant_id, customer_id))


def _position(changes: list[Change], sequence: str | None) -> int:
    """The index of the record ``sequence`` names (all of them when ``None``)."""
    return next((i for i, (record, _) in enumerate(changes) if _sequence(record) == sequence), len(changes))


def _owned(record: dict[str, Any], tenant_id: str) -> str:
    """``tenant_id``, if the record's item lives in that tenant's key space: a corrupted
    item must not make the handler write to another tenant's."""
    if tenant_of(record) != tenant_id:
        raise PermissionError("the record names a tenant other than the one whose key space holds it")
    return tenant_id


def _image(record: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return from_item(record.get("dynamodb", {}).get("NewImage") or {})
    except (TypeError, ValueError, ArithmeticError):  # an attribute value DynamoDB JSON cannot hold
        return None


def _old_image(record: dict[str, Any]) -> dict[str, Any] | None:
    old = record.get("dynamodb", {}).get("OldImage")
    return from_item(old) if old else None


def _dispatched(record: dict[str, Any], image: dict[str, Any]) -> bool:
    """A new ticket or message (not an agent's internal note): it announces an event."""
    return record.get("eventName") == "INSERT" and image.get("type") in ("ticket", "message") \
        and not image.get("internal") and not image.get("moved_from")  # a merge's copy was announced before


def _customers_wanted(changes: list[Change]) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for record, image in changes:
        if image is not None and record.get("eventName") == "INSERT" and is_history(image):
            wanted.setdefault(str(image["tenant_id"]), set()).add(str(image["ticket"].get("customer_id", "")))
        announces = image is not None and (_dispatched(record, image) or announcement(record, image) is not None)
        if image is not None and announces and {"tenant_id", "customer_id"} <= image.keys():
            wanted.setdefault(str(image["tenant_id"]), set()).add(str(image["customer_id"]))
    return wanted


def _flush(outbox: Outbox) -> str | None:
    """Queue the jobs held; the first record not fully queued, or ``None``."""
    try:
        outbox.flush()
    except NotQueued as err:
        log.exception("delivery jobs not queued; retrying from record %s", err.owner)
        return err.owner
    return None


def _sequence(record: dict[str, Any]) -> str:
    return str(record.get("dynamodb", {}).get("SequenceNumber", ""))
