"""Bulk reads and deletes of one tenant's items, for erasure (chalicelib/tenancy/erasure.py).

Like the ticket store's repositories, a :class:`TenantPurge` is bound to
one tenant's :class:`~chalicelib.storage.keys.TenantKeys`: it queries only partitions
those keys name and refuses to delete any key outside the tenant's prefix.
Queries are paged (:data:`PAGE` items a call); batch calls are chunked to
DynamoDB's limits (25 writes, 100 reads) and retry what DynamoDB left
unprocessed with exponential backoff, then give up loudly, so a later call can
finish the job.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from switchboard_sdk import Unavailable

from ..storage.aws import write_together
from ..storage.conventions import ERASED, iso
from ..storage.items import from_item, to_item
from ..storage.keys import CUSTOMER_TICKET, MESSAGE, Key, TenantKeys, component, key_of
from ..storage.table import TenantTable
from ..storage.tickets import PRIORITY_RANK, ticket_of

PAGE = 100
WRITE_BATCH = 25  # BatchWriteItem's limit
READ_BATCH = 100  # BatchGetItem's limit
ATTEMPTS = 8
BASE_DELAY = 0.05  # seconds; doubles per attempt (0.05 ... 6.4 s)
MERGED = "MERGED#"  # sort-key prefix of the merge records in a customer partition (keys.customer_merge)
# statuses in which an assignee holds the ticket in their load (chalicelib.workflow.changes.OPEN_STATUSES,
# read by chalicelib.workflow.loads.holder; tenancy may not import the workflow)
HELD_STATUSES = frozenset({"new", "open", "pending", "on_hold"})
REDACT_ATTEMPTS = 5
# what a tombstone drops besides its customer and subject: the list indexes, the link's
# expiry, free text agents and rules gave it, and who held it
REDACTED = ("gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "link_expires_at", "tags", "category", "language",
            "assignee_id")


class BatchIncomplete(Unavailable):
    """DynamoDB kept leaving items unprocessed; calling again finishes the work."""


class TenantPurge(TenantTable):
    def __init__(self, client: Any, table_name: str, keys: TenantKeys, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(client, table_name, keys)
        self._sleep = sleep

    # -- reads ---------------------------------------------------------------

    def customer(self, customer_id: str) -> dict[str, Any] | None:
        return self._get(self.keys.customer(customer_id))

    def ticket(self, ticket_id: str) -> dict[str, Any] | None:
        return self._get(self.keys.ticket(ticket_id))

    def ticket_links(self, customer_id: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of the customer's ticket links (``ticket_id`` on each)."""
        return self._pages(self.keys.customer_partition(customer_id), CUSTOMER_TICKET)

    def messages(self, ticket_id: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of a ticket's messages, oldest first."""
        return self._pages(self.keys.ticket_partition(ticket_id), MESSAGE)

    def delivery_log(self, ticket_id: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of a ticket's delivery attempts (each with ``connector`` and ``event_id``)."""
        return self._pages(self.keys.delivery_log_partition(ticket_id), "")

    def history(self, ticket_id: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of a ticket's history entries (each holds the ticket as it was, and a reason)."""
        return self._pages(self.keys.ticket_history_partition(ticket_id), "")

    def merge_records(self, customer_id: str) -> Iterator[list[dict[str, Any]]]:
        """Pages of the records of the merges into this customer (``MERGED#<source>``)."""
        return self._pages(self.keys.customer_partition(customer_id), MERGED)

    def survey(self, ticket_id: str) -> dict[str, Any] | None:
        return self._get(self.keys.survey(ticket_id))

    def csat(self, survey: dict[str, Any]) -> Key | None:
        """The key of an answered survey's copy in the tenant's CSAT partition (``None``: not answered)."""
        answered_at = survey.get("answered_at")
        if not answered_at:
            return None
        sort_key = f"{answered_at}#{component(str(survey['ticket_id']))}"  # workflow.surveys.Surveys._csat_key
        return {"pk": {"S": self.keys.csat_partition()}, "sk": {"S": sort_key}}

    def backlog(self, ticket: dict[str, Any]) -> Key:
        """Where a ticket item waits (or would wait) in its group's backlog
        (storage.tickets: group, priority rank, waiting since, ticket)."""
        held = ticket_of(ticket)
        return self.keys.backlog(held.group_id, PRIORITY_RANK[held.priority],
                                 iso(held.awaiting_since or held.created_at), held.id)

    def parked(self, channel: str, provider_message_id: str) -> list[Key]:
        """Keys of the follow-ups parked until this message was stored."""
        partition = self.keys.waiting_partition(channel, provider_message_id)
        return [key_of(item) for page in self._pages(partition, "") for item in page]

    def existing(self, keys: Iterable[Key]) -> list[dict[str, Any]]:
        """The items behind ``keys`` that exist (consistent reads, 100 keys a call)."""
        wanted = _distinct(keys)
        found: list[dict[str, Any]] = []
        for start in range(0, len(wanted), READ_BATCH):
            request = {self._table: {"Keys": wanted[start : start + READ_BATCH], "ConsistentRead": True}}
            for attempt in range(ATTEMPTS):
                result = self._db.batch_get_item(RequestItems=request)
                found += [from_item(i) for i in result.get("Responses", {}).get(self._table, [])]
                request = result.get("UnprocessedKeys") or {}
                if not request:
                    break
                self._sleep(BASE_DELAY * 2**attempt)
            else:
                raise BatchIncomplete("DynamoDB left keys unread; call again")
        return found

    def _pages(self, partition: str, sort_prefix: str) -> Iterator[list[dict[str, Any]]]:
        condition = "pk = :p" + (" AND begins_with(sk, :s)" if sort_prefix else "")
        values = to_item({":p": partition} | ({":s": sort_prefix} if sort_prefix else {}))
        kwargs: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": condition,
                                  "ExpressionAttributeValues": values, "ConsistentRead": True, "Limit": PAGE}
        while True:
            result = self._db.query(**kwargs)
            items = [from_item(i) for i in result.get("Items", [])]
            if items:
                yield items
            if "LastEvaluatedKey" not in result:
                return
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]

    # -- writes --------------------------------------------------------------

    def delete(self, keys: Iterable[Key]) -> int:
        """Delete ``keys`` (absent ones are no-ops) in batches of 25; returns how many."""
        wanted = _distinct(keys)
        for key in wanted:
            if not self.keys.owns(key["pk"]["S"]):
                raise PermissionError("key belongs to another tenant")
        for start in range(0, len(wanted), WRITE_BATCH):
            chunk = wanted[start : start + WRITE_BATCH]
            self._write({self._table: [{"DeleteRequest": {"Key": key}} for key in chunk]})
        return len(wanted)

    def delete_existing(self, keys: Iterable[Key]) -> int:
        """Delete those of ``keys`` that exist; returns how many did."""
        return self.delete(key_of(item) for item in self.existing(keys))

    def strip_raw(self, keys: Iterable[Key]) -> int:
        """Drop the inline raw body from these inbound records; returns how many had one."""
        return sum(self._update_if(key, "REMOVE #raw", "attribute_exists(#raw)", {}, {"#raw": "raw"})
                   for key in _distinct(keys))

    def redact_ticket(self, ticket_id: str, at: datetime) -> tuple[bool, str | None]:
        """Strip a ticket to its id, status, channel and times, out of the ticket lists
        and out of its assignee's load. Returns whether it was redacted now (``False``
        when there is no such ticket or it already was) and the agent whose load it left.

        One transaction, conditional on the ticket's ``version`` as read, which it moves
        on: a workflow change under way is stale and, read again, finds no ticket; so the
        load goes down exactly once (a repeat finds the ticket erased already)."""
        key = self.keys.ticket(ticket_id)
        for _ in range(REDACT_ATTEMPTS):
            ticket = self._get(key)
            if ticket is None or ticket.get("customer_id") == ERASED:
                return False, None
            version = int(ticket.get("version") or 0)
            holder = str(ticket["assignee_id"]) if ticket.get("assignee_id") and \
                ticket.get("status") in HELD_STATUSES and not ticket.get("merged_into") else None
            condition = "attribute_exists(pk) AND customer_id <> :erased AND " + (
                "(attribute_not_exists(version) OR version = :was)" if version == 0 else "version = :was")
            writes = [{"Update": {
                "TableName": self._table, "Key": key,
                "UpdateExpression": "SET customer_id = :erased, subject = :empty, erased_at = :at, version = :next"
                                    " REMOVE " + ", ".join(f"#r{n}" for n in range(len(REDACTED))),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": {f"#r{n}": name for n, name in enumerate(REDACTED)},  # language: reserved
                "ExpressionAttributeValues": to_item({":erased": ERASED, ":empty": "", ":at": iso(at),
                                                      ":was": version, ":next": version + 1})}}]
            if holder is not None:  # as chalicelib.workflow.loads moves it when an agent stops holding a ticket
                writes.append({"Update": {
                    "TableName": self._table, "Key": self.keys.agent_load(holder),
                    "UpdateExpression": "ADD open_tickets :d SET #t = :type, tenant_id = :tenant, agent_id = :agent",
                    "ExpressionAttributeNames": {"#t": "type"},
                    "ExpressionAttributeValues": to_item({":d": -1, ":type": "agent_load", ":tenant": self.tenant_id,
                                                          ":agent": holder})}})
            if all(write_together(self._db, writes)):
                return True, holder
        raise BatchIncomplete("the ticket kept changing while it was being redacted; call again")

    def _write(self, request: dict[str, Any]) -> None:
        for attempt in range(ATTEMPTS):
            request = self._db.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
            if not request:
                return
            self._sleep(BASE_DELAY * 2**attempt)
        raise BatchIncomplete("DynamoDB left items unprocessed; call again")


def _distinct(keys: Iterable[Key]) -> list[Key]:
    """Keys once each (a batch refuses duplicates), in a stable order."""
    unique = {(k["pk"]["S"], k["sk"]["S"]): k for k in keys}
    return [unique[pair] for pair in sorted(unique)]
