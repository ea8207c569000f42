"""Delivery jobs and dead letters: the one format dispatch, the worker and replay share.

A job names a connector and an event. The event rides inline while the job's
encoded size (UTF-8 bytes; non-ASCII text is not escaped, so a CJK character
costs 3 bytes, not 6) is at most :data:`INLINE_JOB_BYTES` — nearly every job,
so a typical delivery costs no table read. A larger event (a long mail, a chat
message of 100,000 characters) is replaced by a reference: the event's identity
(id, type, tenant, ticket, time) and the key of the stored item that announced
it; the worker rebuilds the event from the table before calling the connector
(:class:`~chalicelib.pipeline.dispatch.StoredEvents`). Nothing in a job grows without
bound, so every job is far below SQS's message limit and any ten fit one
``SendMessageBatch`` (ten of 24 KiB < 256 KiB); :func:`fitting` still cuts
batches by size, so a batch stays within SQS's classic limits (10 entries,
256 KiB) whatever the jobs are.

Wire format (JSON)::

    {"connector": "webhook", "ref": {"id", "type", "tenant_id", "ticket_id", "occurred_at"},
     "sealed": "sb1.<wrapped key>.<nonce>.<ciphertext>"}                 inline, sealed
    {"connector": "webhook", "ref": {"id", "type", "tenant_id", "ticket_id",
                                     "occurred_at", "message_id"?, "received_at"?}}   by reference
    {"connector": "webhook", "event": {...the EventEnvelope...}}          inline in clear (before sealing)

An inline event is sealed (:func:`seal_event`): the whole envelope (the customer's name
and identities, the message's text) under the tenant's cached data key, bound to the
tenant, the event id and ``"envelope"``, so the same sealed text serves every connector's
job, the delivery log and the dead letter, and opens nowhere else. The ids stay in clear
(``ref``), so routing, retries, replay filters and metrics need no key. A hub without a
crypto (stores built by hand) queues the clear form, which every reader still takes.

A send job (a reply to send through a channel, :class:`SendJob`) names the
stored reply and the send generation it was queued for; it is always small::

    {"send": {"tenant_id", "ticket_id", "message_id", "received_at", "channel", "generation"}}

The clear inline form is the one jobs had before references and sealing existed, so jobs
and dead letters written then still decode; the worker and replay seal them on their way on.
The delivery log keeps a large event as its reference too (:func:`logged`).
A dead letter is its job plus
``{"dead_letter": {"reason", "status_code", "attempts"}}``; one whose body could
not be read keeps the start of it under ``"unreadable"`` instead.

SQS accepts only XML characters in a body: JSON escapes control characters, and
:func:`dumps` escapes the rest SQS refuses (lone surrogates, U+FFFE, U+FFFF).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from switchboard_sdk import BadPayload, EventEnvelope, PayloadTooLarge

from ..storage.aws import SQS_BATCH
from ..storage.conventions import iso
from ..storage.sealing import CUSTOMER_PREFIX, SealedWithoutCrypto, Sealer, is_sealed

INLINE_JOB_BYTES = 24 * 1024  # ten such jobs still fit one batch
SQS_BATCH_BYTES = 256 * 1024  # SQS's classic limit per message and per batch (conservative: 1 MiB since 2025)
UNREADABLE_KEEP_BYTES = 64 * 1024  # of an unreadable body, kept in its dead letter
REASON_CHARS = 2000
STORED = "switchboard:stored"  # the data of a logged event that stayed in the table: its reference
ENVELOPE = "envelope"  # the field a sealed event is bound to (with its tenant and id)

_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


class BadJob(BadPayload):
    """A job body that cannot be understood."""


class EventOfErasedCustomer(BadJob):
    """A sealed event whose customer was erased: their key is gone, so is the event."""


class JobTooLarge(PayloadTooLarge):
    """An event too large to ride inline that names no stored item to refer to."""


class JobRefused(BadPayload):
    """SQS refused jobs for what they carry (not for a passing condition)."""


def dumps(value: Any) -> str:
    """Compact JSON that SQS accepts, non-ASCII kept as it is."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return _NOT_XML.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def utf8_size(text: str) -> int:
    return len(text.encode())


def envelope_item(event_id: str) -> str:
    """What a sealed event is bound to, as associated data: ``["event","<event id>"]`` (no
    table item's ref starts so: theirs are ``["T#…",…]``)."""
    return dumps(["event", event_id])


def customer_of(event: EventEnvelope) -> str | None:
    """The customer an event is about (its ``customer``, or its ticket's or message's), or
    ``None``: an event of no customer, or of a ticket whose customer was erased."""
    for part, name in (("customer", "id"), ("ticket", "customer_id"), ("message", "customer_id")):
        found = event.data.get(part)
        customer = found.get(name) if isinstance(found, dict) else None
        if isinstance(customer, str) and customer.startswith("cus_"):  # not ERASED
            return customer
    return None


def envelope_field(event_id: str) -> str:
    """The field an event sealed under its customer's key is bound to: ``envelope:<event id>``."""
    return f"{ENVELOPE}:{event_id}"


def seal_event(crypto: Sealer, event: EventEnvelope) -> str:
    """``event`` sealed under its customer's key (:func:`customer_of`; erasing them shreds
    every copy: jobs, dead letters, the log) bound to its tenant, customer and id; an event
    of no customer under its tenant's data key, bound to its tenant, id and ``"envelope"``."""
    text, customer = dumps(event.model_dump(mode="json")), customer_of(event)
    if customer is None:
        return crypto.seal(event.tenant_id, envelope_item(event.id), ENVELOPE, text)
    return crypto.customers.seal(event.tenant_id, customer, envelope_field(event.id), text)


def open_event(crypto: Sealer | None, tenant_id: str, event_id: str, sealed: str,
               customer_id: str | None = None) -> EventEnvelope:
    """The event :func:`seal_event` sealed for exactly this tenant, id (and ``customer_id``,
    the customer its reference names); ``Undecryptable`` otherwise, ``EventOfErasedCustomer``
    when the customer's key was shredded, ``KeyServiceUnavailable`` when KMS does not answer."""
    if crypto is None:
        raise SealedWithoutCrypto("a sealed event was read without a crypto")
    if not sealed.startswith(CUSTOMER_PREFIX):
        text = crypto.open(tenant_id, envelope_item(event_id), ENVELOPE, sealed)
    elif not customer_id:
        raise BadJob(f"sealed event {event_id} names no customer to open it with")
    elif (opened := crypto.customers.open(tenant_id, customer_id, envelope_field(event_id), sealed)) is None:
        raise EventOfErasedCustomer(f"event {event_id}: its customer was erased")
    else:
        text = opened
    event = EventEnvelope.model_validate_json(text)
    if (event.tenant_id, event.id) != (tenant_id, event_id):  # bound by the AAD already; never in practice
        raise BadJob(f"sealed event {event_id} opened to another event")
    return event


class EventRef(BaseModel):
    """What identifies an event without its data, and where its stored item is:
    ``message_id`` and ``received_at`` (the message's sort-key time) for
    ``message.created``; the ticket id alone for ``ticket.created``."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    tenant_id: str
    ticket_id: str
    occurred_at: datetime
    message_id: str | None = None
    received_at: str | None = None
    customer_id: str | None = None  # whose key seals the event (:func:`seal_event`)

    @classmethod
    def of(cls, event: EventEnvelope) -> EventRef:
        return cls(id=event.id, type=event.type, tenant_id=event.tenant_id, ticket_id=event.ticket_id,
                   occurred_at=event.occurred_at, customer_id=customer_of(event))

    @classmethod
    def to_stored(cls, event: EventEnvelope) -> EventRef:
        """A reference the worker can follow back to the table; :class:`JobTooLarge` if there is none."""
        if event.type == "ticket.created":
            return cls.of(event)
        message = event.data.get("message")
        if event.type == "message.created" and isinstance(message, dict):
            received = datetime.fromisoformat(str(message["received_at"]))
            return cls.of(event).model_copy(update={"message_id": str(message["id"]),
                                                    "received_at": iso(received)})
        raise JobTooLarge(f"event {event.id} ({event.type}) is too large to queue and names no stored item")


@dataclass(frozen=True)
class Job:
    """One delivery job: ``sealed`` (and, where it was known or opened, ``event``) when
    the event rides inline, else only ``ref``. The wire carries ``sealed`` when there
    is one, ``event`` in clear only when there is not (no crypto, or a job queued before)."""

    connector: str
    ref: EventRef
    event: EventEnvelope | None = None
    sealed: str | None = None

    @functools.cached_property
    def body(self) -> str:
        return dumps(self._wire())

    @property
    def inline(self) -> bool:
        """The event rides in the job (sealed or in clear), not only its reference."""
        return self.sealed is not None or self.event is not None

    def sealing(self, crypto: Sealer | None) -> Job:
        """This job with its clear event sealed (a job queued before sealing); as it is
        when sealed already, a reference, or without a crypto."""
        if crypto is None or self.sealed is not None or self.event is None:
            return self
        return dataclasses.replace(self, sealed=seal_event(crypto, self.event))

    def opened(self, crypto: Sealer | None) -> Job:
        """This job with its sealed event opened (``event``); the wire stays sealed."""
        if self.sealed is None or self.event is not None:
            return self
        event = open_event(crypto, self.ref.tenant_id, self.ref.id, self.sealed, self.ref.customer_id)
        return dataclasses.replace(self, event=event)

    def _wire(self) -> dict[str, Any]:
        ref = self.ref.model_dump(mode="json", exclude_none=True)
        if self.sealed is not None:
            return {"connector": self.connector, "ref": ref, "sealed": self.sealed}
        if self.event is not None:
            return {"connector": self.connector, "event": self.event.model_dump(mode="json")}
        return {"connector": self.connector, "ref": ref}

    @property
    def group_id(self) -> str:
        """The FIFO group: one ticket at one connector, delivered in order."""
        return f"{self.ref.tenant_id}:{self.ref.ticket_id}:{self.connector}"

    def entry(self, salt: str = "") -> dict[str, str]:
        """A ``SendMessageBatch`` entry without ``Id``. The de-duplication id is the
        event's and connector's, so a repeat is dropped; ``salt`` makes a fresh one
        (replay: the original may still be inside SQS's five-minute window)."""
        dedup = f"{self.ref.id}|{self.connector}" + (f"|{salt}" if salt else "")
        return {"MessageBody": self.body, "MessageGroupId": self.group_id,
                "MessageDeduplicationId": hashlib.sha256(dedup.encode()).hexdigest()}

    def dead_letter(self, reason: str, status_code: int | None, attempts: int) -> str:
        return dumps(self._wire() | _verdict(reason, status_code, attempts))


class SendJob(BaseModel):
    """Send one stored reply through its ticket's channel. Its FIFO group is the
    ticket's replies alone (a slow CRM never holds back a customer's answer), and
    its de-duplication id the reply's and generation's (a retry is a new send)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: str
    ticket_id: str
    message_id: str
    received_at: str
    channel: str
    generation: int = 0

    @property
    def group_id(self) -> str:
        return f"{self.tenant_id}:{self.ticket_id}:send"

    @property
    def body(self) -> str:
        return dumps({"send": self.model_dump(mode="json")})

    def entry(self, salt: str = "") -> dict[str, str]:
        dedup = f"send|{self.tenant_id}|{self.message_id}|{self.generation}" + (f"|{salt}" if salt else "")
        return {"MessageBody": self.body, "MessageGroupId": self.group_id,
                "MessageDeduplicationId": hashlib.sha256(dedup.encode()).hexdigest()}

    def dead_letter(self, reason: str, status_code: int | None, attempts: int) -> str:
        return dumps({"send": self.model_dump(mode="json")} | _verdict(reason, status_code, attempts))


def job_for(connector: str, event: EventEnvelope, *, by_reference: bool = False, sealed: str | None = None) -> Job:
    """The job delivering ``event`` to ``connector``: inline when small, else (or when
    ``by_reference``: the event is not all there, its item keeps the rest apart) a reference.
    ``sealed``: the event as :func:`seal_event` sealed it (the job carries that, not the event)."""
    inline = Job(connector, EventRef.of(event), event, sealed)
    if not by_reference and utf8_size(inline.body) <= INLINE_JOB_BYTES:
        return inline
    referenced = Job(connector, EventRef.to_stored(event))
    if utf8_size(referenced.body) > INLINE_JOB_BYTES:  # only ids in it: never in practice
        raise JobTooLarge(f"the reference to event {event.id} is too large to queue")
    return referenced


def logged(job: Job, event: EventEnvelope) -> str:
    """What the delivery log keeps of a delivered event (its ``event`` attribute): the
    event sealed as its job carried it; in clear only from a hub without a crypto; or,
    for a job that carried only a reference, the envelope with the reference as its data
    (under :data:`STORED`; ids only): a large event would not fit a log item (DynamoDB's
    400 KB), and the table holds it anyway."""
    if job.sealed is not None:
        return job.sealed
    if job.event is not None:
        return event.model_dump_json()
    return event.model_copy(update={"data": {STORED: job.ref.model_dump(mode="json", exclude_none=True)}}
                            ).model_dump_json()


def logged_event(crypto: Sealer | None, item: Mapping[str, Any]) -> EventEnvelope:
    """The event a delivery-log item keeps (:func:`logged`), opened when sealed."""
    stored = str(item["event"])
    if is_sealed(stored):
        customer = item.get("customer_id")
        return open_event(crypto, str(item["tenant_id"]), str(item["event_id"]), stored,
                          str(customer) if customer else None)
    return EventEnvelope.model_validate_json(stored)


def job_from_log(connector: str, event: EventEnvelope, sealed: str | None = None) -> Job:
    """The job replaying a logged event (:func:`logged`, :func:`logged_event`): its
    reference when the log kept only that, else the event inline (``sealed``: as sealed)."""
    stored = event.data.get(STORED)
    if isinstance(stored, dict):
        return Job(connector, EventRef.model_validate(stored))
    return job_for(connector, event, sealed=sealed)


def decode(body: str) -> Job | SendJob:
    """A job, or a dead letter's job, from its body; :class:`BadJob` if unreadable."""
    try:
        wire = json.loads(body)
        if isinstance(wire, dict) and "send" in wire:
            return SendJob.model_validate(wire["send"])
        connector = wire["connector"]
        if not isinstance(connector, str):
            raise TypeError("connector is not a string")
        if "event" in wire:
            event = EventEnvelope.model_validate(wire["event"])
            return Job(connector, EventRef.of(event), event)
        ref = EventRef.model_validate(wire["ref"])
        if "sealed" in wire:
            sealed = wire["sealed"]
            if not isinstance(sealed, str) or not is_sealed(sealed):
                raise TypeError("sealed is not a sealed value")
            return Job(connector, ref, sealed=sealed)
        return Job(connector, ref)
    except (ValueError, KeyError, TypeError) as err:  # pydantic's ValidationError is a ValueError
        raise BadJob(f"unreadable job: {type(err).__name__}") from err


def unreadable_dead_letter(body: str, reason: str) -> str:
    """The dead letter of a body :func:`decode` refused: its start, and why."""
    kept = body.encode()[:UNREADABLE_KEEP_BYTES].decode(errors="ignore")
    return dumps({"unreadable": kept} | _verdict(reason, None, 0))


def _verdict(reason: str, status_code: int | None, attempts: int) -> dict[str, Any]:
    return {"dead_letter": {"reason": reason[:REASON_CHARS], "status_code": status_code, "attempts": attempts}}


def entry_size(entry: Mapping[str, Any]) -> int:
    """What an entry counts towards SQS's batch limit: its body (no attributes are sent)."""
    return utf8_size(str(entry["MessageBody"]))


def fitting(sizes: Sequence[int]) -> int:
    """How many of the leading entries (their sizes) one ``SendMessageBatch`` takes:
    at most :data:`~chalicelib.storage.aws.SQS_BATCH` and :data:`SQS_BATCH_BYTES` in all; at least one
    (an entry too large alone is then refused by SQS, not silently held)."""
    count, total = 0, 0
    for size in sizes[:SQS_BATCH]:
        if count and total + size > SQS_BATCH_BYTES:
            break
        count, total = count + 1, total + size
    return count


def batches(entries: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """Positions of ``entries`` grouped into ``SendMessageBatch`` calls, in order."""
    sizes = [entry_size(e) for e in entries]
    groups, start = [], 0
    while start < len(entries):
        count = fitting(sizes[start:])
        groups.append(list(range(start, start + count)))
        start += count
    return groups
