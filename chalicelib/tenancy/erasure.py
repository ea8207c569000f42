"""Erasure: remove one customer's personal data from the table and the bucket.

Entry point: ``CustomerEraser(store, archive, clock).erase(tenant_id, customer_id)``
returns an :class:`ErasureReport` (``as_dict()``: counts per kind), or raises
:class:`~switchboard_sdk.NotFound` when the tenant holds no such customer.

Everything is found from the customer partition, without scanning the tenant:
the customer item (identities, open ticket) and one link per ticket
(``T#<t>#CU#<customer>`` / ``TK#<ticket>``, written by the store when a ticket
is touched). Per ticket, page by page of messages: the S3 objects the messages
and their inbound records reference, the parked follow-ups waiting on them, the
inline raw copy other records of a batched body hold, the inbound records (they
hold the raw message), the provider-message maps, the replies' claimed
``client_message_id`` items (they hold the reply and the subject), then the
messages themselves.
Then the ticket's delivery log (event envelopes carry the message and the
customer) and failed-attempt counters; then the ticket is redacted to a
tombstone (id, status, channel, times — so CRM mappings and audit records still
name something; no subject, tags, category, language or assignee), taken out of
the ticket lists and out of its assignee's load, in one transaction that moves
its version on, so the workflow stops finding it (``TicketWrites.load`` raises
``NotFound``; a timer still due on it does nothing). Then what the workflow kept
of it: the survey and its CSAT record (score, comment), the history (each entry
holds the ticket and a reason), its place in the backlog (found from the
tombstone's group, priority and times). Then the links; the merge records that
name the customer (those into them, each after the customer it merged in — part
of them now — is erased with them; and the record of their own merge into
another), the identities still pointing at the customer, and the customer item
(with its tags, attributes, last agent). Timers (``DUE#…``) are left to their
TTL: they name only ids, and find nothing to do.

Crypto-shredding: the customer's key (``T#<t>#CKEY#<customer>``) is deleted first, so
their name and identities, sealed under it, no longer open wherever a copy of them is
kept without that key; and again just before the customer item, in case a message
sealed under a new key while the erasure ran. Customers merged into them lose theirs
with them. The key is an item of this table, so a restored backup of the table brings it
back: what shredding does and does not reach is in docs/storage.md, "Crypto-shredding".

Each step deletes what the next run would need only after everything found
through it is gone, so a call that fails part-way is finished by calling again;
a call after a complete erasure finds nothing and raises ``NotFound``.
What is *not* reached: docs/storage.md, "Erasure".
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any

from switchboard_sdk import NotFound

from ..logs import log_event
from ..storage.conventions import ERASED
from ..storage.inbound import inbound_document, inbound_part_keys
from ..storage.keys import TenantKeys, key_of
from ..storage.payloads import PayloadArchive
from ..storage.store import TicketStore
from .purge import TenantPurge

log = logging.getLogger(__name__)
CUSTOMER_ID = re.compile(r"cus_[a-z2-7]{26}")  # chalicelib.storage.ids.customer_id_for
KINDS = (
    "customer", "identities", "ticket_links", "tickets_redacted", "messages", "inbound_records",
    "inbound_record_parts", "provider_message_maps", "parked_follow_ups", "shared_raw_bodies", "delivery_log_items",
    "failed_attempt_counters", "objects", "ticket_history_entries", "surveys", "csat_records", "backlog_items",
    "agent_loads_released", "merge_records", "merged_customers", "client_message_claims", "customer_keys_shredded",
)


@dataclass
class ErasureReport:
    customer_id: str
    counts: Counter[str] = field(default_factory=Counter)
    ticket_ids: list[str] = field(default_factory=list)  # the customer's tickets (tombstones now), for the audit
    looked_at: set[str] = field(default_factory=set, repr=False)

    def add(self, kind: str, count: int = 1) -> None:
        self.counts[kind] += count

    def as_dict(self) -> dict[str, Any]:
        """``{"customer_id": ..., "erased": {kind: count}}`` (ids only, no personal data)."""
        return {"customer_id": self.customer_id, "erased": {kind: self.counts[kind] for kind in KINDS}}


class CustomerEraser:
    def __init__(self, store: TicketStore, archive: PayloadArchive, clock: Callable[[], datetime], *,
                 sleep: Callable[[float], None] | None = None,
                 forget_metrics: Callable[[str, str], int] | None = None) -> None:
        self._store = store
        self._archive = archive
        self._clock = clock
        self._sleep = sleep
        self._forget_metrics = forget_metrics  # (tenant, ticket) → its metric state items removed

    def erase(self, tenant_id: str, customer_id: str) -> ErasureReport:
        """Erase one customer of ``tenant_id``; repeatable until it has completed once."""
        purge = self._purge(tenant_id)
        customer = purge.customer(customer_id) if CUSTOMER_ID.fullmatch(customer_id) else None
        links = purge.ticket_links(customer_id) if CUSTOMER_ID.fullmatch(customer_id) else iter(())
        first = next(links, [])
        if customer is None and not first:
            raise NotFound("no such customer")
        report = ErasureReport(customer_id)
        self._shred(tenant_id, customer_id, report)  # first: every copy of their sealed fields is unreadable now
        self._customer(purge, customer_id, customer, chain([first], links), report, "customer")
        log_event(log, "customer.erased", tenant=tenant_id, customer=customer_id,
                  tickets=len(report.ticket_ids), erased=dict(report.counts))
        return report

    def _customer(self, purge: TenantPurge, customer_id: str, customer: dict[str, Any] | None,
                  links: Iterable[list[dict[str, Any]]], report: ErasureReport, kind: str) -> None:
        """One customer's tickets, merges (and the customers merged into them), identities and item."""
        if customer and customer.get("open_ticket_id"):
            self._ticket(purge, str(customer["open_ticket_id"]), customer_id, report)
        for page in links:
            for link in page:
                self._ticket(purge, str(link["ticket_id"]), customer_id, report)
            report.add("ticket_links", purge.delete(key_of(link) for link in page))
        self._merges(purge, customer_id, customer, report)
        if customer:
            self._identities(purge, customer, report)
            # again, last: a key a message sealed under while the erasure ran goes with the item
            self._shred(purge.tenant_id, customer_id, report)
            report.add(kind, purge.delete([purge.keys.customer(customer_id)]))

    def _shred(self, tenant_id: str, customer_id: str, report: ErasureReport) -> None:
        """Crypto-shredding: the customer's key goes, so their name and identities no longer
        open wherever a copy is kept without it (counted once per customer)."""
        self._store.personal(tenant_id).shred(customer_id)
        if f"shredded:{customer_id}" not in report.looked_at:
            report.looked_at.add(f"shredded:{customer_id}")
            report.add("customer_keys_shredded")

    def _purge(self, tenant_id: str) -> TenantPurge:
        keys = TenantKeys(tenant_id)
        if self._sleep is None:
            return TenantPurge(self._store.client, self._store.table_name, keys)
        return TenantPurge(self._store.client, self._store.table_name, keys, sleep=self._sleep)

    def _ticket(self, purge: TenantPurge, ticket_id: str, customer_id: str, report: ErasureReport) -> None:
        if ticket_id in report.looked_at:
            return
        report.looked_at.add(ticket_id)
        ticket = purge.ticket(ticket_id)
        if ticket is not None and ticket.get("customer_id") not in (customer_id, ERASED):
            log_event(log, "erasure.foreign_ticket", level=logging.WARNING, tenant=purge.tenant_id,
                      customer=customer_id, ticket=ticket_id)
            return  # never touch another customer's ticket
        for page in purge.messages(ticket_id):
            self._messages(purge, page, report)
        for page in purge.delivery_log(ticket_id):
            counters = [purge.keys.delivery(str(i["connector"]), str(i["event_id"])) for i in page]
            report.add("failed_attempt_counters", purge.delete_existing(counters))
            report.add("delivery_log_items", purge.delete(key_of(i) for i in page))
        redacted, released = purge.redact_ticket(ticket_id, self._clock())  # the workflow finds no ticket now
        report.add("tickets_redacted", int(redacted))
        report.add("agent_loads_released", int(released is not None))
        survey = purge.survey(ticket_id)
        if survey is not None:
            report.add("csat_records", purge.delete_existing(filter(None, [purge.csat(survey)])))
            report.add("surveys", purge.delete([key_of(survey)]))
        for page in purge.history(ticket_id):
            report.add("ticket_history_entries", purge.delete(key_of(entry) for entry in page))
        if self._forget_metrics is not None:
            report.add("metric_states", self._forget_metrics(purge.tenant_id, ticket_id))
        tombstone = purge.ticket(ticket_id)  # keeps what places it in the backlog: group, priority, times
        if tombstone is not None:
            report.add("backlog_items", purge.delete_existing([purge.backlog(tombstone)]))
            report.ticket_ids.append(ticket_id)

    def _messages(self, purge: TenantPurge, page: list[dict[str, Any]], report: ErasureReport) -> None:
        """One page of a ticket's messages and everything that hangs off them."""
        keys = purge.keys
        sources = [(str(m["channel"]), str(m["provider_message_id"])) for m in page]
        inbound = purge.existing(keys.inbound(channel, pid) for channel, pid in sources)
        crypto = self._store.crypto  # inbound documents are sealed (docs/encryption.md)
        docs = [json.loads(inbound_document(crypto, i)) for i in inbound]
        report.add("objects", self._archive.forget(keys, _refs(page) | _refs(docs)))
        report.add("parked_follow_ups", sum(purge.delete(purge.parked(channel, pid)) for channel, pid in sources))
        # messages parsed from the same body hold a copy of it: theirs goes, their message stays
        batch = [keys.inbound(str(doc["channel"]), str(pid)) for doc, i in zip(docs, inbound, strict=True)
                 for pid in i.get("batch") or ()]
        report.add("shared_raw_bodies", purge.strip_raw(batch))
        report.add("inbound_record_parts", purge.delete(k for i in inbound for k in inbound_part_keys(keys, i, crypto)))
        report.add("inbound_records", purge.delete(key_of(i) for i in inbound))
        maps = [keys.provider_message(channel, pid) for channel, pid in sources]
        report.add("provider_message_maps", purge.delete_existing(maps))
        # a reply's claimed client_message_id keeps the whole reply and the ticket's subject
        claims = [keys.client_message(str(m["client_message_id"])) for m in page if m.get("client_message_id")]
        report.add("client_message_claims", purge.delete_existing(claims))
        report.add("messages", purge.delete(key_of(m) for m in page))

    def _merges(self, purge: TenantPurge, customer_id: str, customer: dict[str, Any] | None,
                report: ErasureReport) -> None:
        """The records of merges that name the customer: those into them (in their
        partition) and the one of their own merge into another customer. A customer
        merged into them (still: not undone) is part of them now — an item with their
        name, tags and attributes (also in the record), ids pointing here — and is
        erased with them, record by record, each before its record goes."""
        report.looked_at.add(f"customer:{customer_id}")
        for page in purge.merge_records(customer_id):
            for record in page:
                source_id = str(record.get("source_id") or "")
                source = purge.customer(source_id) if source_id else None
                if source is not None and source.get("merged_into") == customer_id and \
                        f"customer:{source_id}" not in report.looked_at:
                    self._customer(purge, source_id, source, purge.ticket_links(source_id), report,
                                   "merged_customers")
            # (a merged customer's erasure took its own record already)
            report.add("merge_records", purge.delete_existing(key_of(record) for record in page))
        if customer and customer.get("merged_into"):
            record = purge.keys.customer_merge(str(customer["merged_into"]), customer_id)
            report.add("merge_records", purge.delete_existing([record]))

    def _identities(self, purge: TenantPurge, customer: dict[str, Any], report: ErasureReport) -> None:
        """The customer's identity links, except those another customer holds."""
        candidates = [purge.keys.identity(ref) for ref in customer.get("identity_keys") or ()]
        ours = [i for i in purge.existing(candidates) if i.get("customer_id") == customer["customer_id"]]
        report.add("identities", purge.delete(key_of(i) for i in ours))


def _refs(docs: Iterable[dict[str, Any]]) -> set[str]:
    """Raw payload and attachment references of messages or inbound documents."""
    refs: set[str] = set()
    for doc in docs:
        refs |= {str(doc["raw_payload_ref"])} if doc.get("raw_payload_ref") else set()
        refs |= {str(a["url"]) for a in doc.get("attachments") or () if a.get("url")}
    return refs
