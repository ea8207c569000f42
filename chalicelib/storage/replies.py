"""Replies: what agents write on tickets, and how far each has got.

A reply (or an internal note) is a message item in its ticket's partition,
``direction = "outbound"``, written by the API before anything is sent; the
table's stream then queues its send job. Its delivery status only moves forward
(:data:`~switchboard_sdk.sending.STATUS_RANK`): every status write is one
conditional update on the item, so a repeated job, a late callback or two
callbacks racing change nothing they should not.

``send_generation`` counts sends an agent asked for: the first is 0, each retry
of a failed reply adds one. A send job names its generation, and the worker
sends only while the item is ``queued`` at that generation, so a job delivered
twice, or one overtaken by a retry, sends nothing.

A ``client_message_id`` is claimed in its own item (``CM#``) holding the whole
reply, before the message item is written: the same request again finds the
claim and (re)writes the same message, so a crash between the two writes loses
nothing and a retry never makes a second reply.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from switchboard_sdk import Message, NotFound, StatusUpdate
from switchboard_sdk.sending import STATUS_RANK

from .conventions import iso
from .conversations import Conversations
from .ids import unsent_provider_id
from .items import from_item, to_item
from .keys import Key
from .reads import TicketReads
from .table import TenantTable

DELIVERED_RANK = STATUS_RANK["delivered"]


class Replies(TenantTable):
    def __init__(self, client: Any, table_name: str, conversations: Conversations, reads: TicketReads) -> None:
        super().__init__(client, table_name, conversations.keys)
        self._conversations = conversations
        self._reads = reads  # a long reply's text is in parts: read back whole, like any message

    def add(self, message: Message, *, ticket_subject: str, expires_at: int | None = None) -> Message:
        """Store a new reply or note; with a ``client_message_id`` already claimed,
        the reply that claimed it (as it is now) instead."""
        self._check_tenant(message.tenant_id)
        if message.client_message_id is not None:
            key = self.keys.client_message(message.client_message_id)
            sealed = self._conversations.fields.seal_claim(key, message.ticket_id, message.customer_id,
                                                            message.model_dump_json(), ticket_subject)
            claim = key | to_item({"type": "client_message", "tenant_id": self.tenant_id, **sealed,
                                   "expires_at": expires_at})
            if not self._put_new(claim):
                return self._claimed(message.client_message_id, expires_at)
        self._write(message, ticket_subject, expires_at)
        return message

    def _claimed(self, client_message_id: str, expires_at: int | None) -> Message:
        key = self.keys.client_message(client_message_id)
        item = self._get(key)
        if item is None:  # claimed and expired between two reads: vanishingly rare, never silent
            raise NotFound("the reply with this client_message_id is no longer stored")
        doc, subject = self._conversations.fields.open_claim(key, item)
        if doc is None:  # its customer was erased since
            raise NotFound("the reply with this client_message_id is no longer stored")
        first = Message.model_validate_json(doc)
        self._write(first, subject, expires_at)  # the first request may have stopped
        return self.get(first.ticket_id, first.received_at, first.id)

    def _write(self, message: Message, ticket_subject: str, expires_at: int | None) -> None:
        bookkeeping = {} if message.status is None else {"status_rank": STATUS_RANK[message.status],
                                                         "send_generation": 0}
        self._conversations.add_message(message, ticket_subject=ticket_subject, expires_at=expires_at,
                                        extra=bookkeeping)

    def get(self, ticket_id: str, received_at: datetime | str, message_id: str) -> Message:
        """One reply as stored now, text in full (:class:`NotFound` if absent)."""
        return self._reads.get_message(ticket_id, received_at, message_id)

    def get_item(self, ticket_id: str, received_at: datetime | str, message_id: str) -> dict[str, Any] | None:
        """The reply's item with its send bookkeeping and its text in full, or ``None``."""
        try:
            return self._reads.get_message_item(ticket_id, received_at, message_id)
        except NotFound:
            return None

    def find(self, ticket_id: str, message_id: str) -> Message:
        """A message of a ticket by id alone (one Query over the ticket's messages)."""
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :p AND begins_with(sk, :m)",
            "FilterExpression": "id = :id", "ConsistentRead": True,
            "ExpressionAttributeValues": to_item({":p": self.keys.ticket_partition(ticket_id), ":m": "MSG#",
                                                  ":id": message_id}),
        }
        while True:
            result = self._db.query(**kwargs)
            for item in result.get("Items", []):
                found = self._conversations.fields.open_message(from_item(item))
                if found.get("type") == "message":
                    return Message.model_validate({k: v for k, v in found.items() if k in Message.model_fields})
            if "LastEvaluatedKey" not in result:
                raise NotFound("no such message on this ticket")
            kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]

    def mark_sent(self, message: Message, generation: int, provider_message_id: str, *, delivered: bool,
                  at: datetime, expires_at: int | None = None) -> bool:
        """``queued`` → ``sent`` (or ``delivered``) at ``generation``, with the provider's id;
        ``False`` when the reply was no longer queued at that generation (sent already).

        The provider id is mapped to the reply first (status callbacks, customers'
        answers threading back), so a callback that overtakes this write finds the
        reply; if it already moved the status on, only the provider id is written."""
        sent = message.model_copy(update={"provider_message_id": provider_message_id})
        self._conversations.remember_provider_message(sent, expires_at=expires_at)
        status = "delivered" if delivered else "sent"
        if self._update_if(
            self._key(message), "SET #s = :s, status_rank = :r, status_at = :at, provider_message_id = :pid",
            "#s = :queued AND send_generation = :g",
            {":s": status, ":r": STATUS_RANK[status], ":at": iso(at), ":pid": provider_message_id,
             ":queued": "queued", ":g": generation}, {"#s": "status"},
        ):
            return True
        return self._update_if(  # a status callback came first
            self._key(message), "SET provider_message_id = :pid",
            "send_generation = :g AND provider_message_id = :unsent AND status_rank > :queued",
            {":pid": provider_message_id, ":g": generation, ":unsent": unsent_provider_id(message.id), ":queued": 0})

    def mark_failed(self, message: Message, generation: int, code: str | None, reason: str, *, at: datetime) -> bool:
        """``queued`` → ``failed`` at ``generation`` (the send gave up); ``False`` when it was not queued."""
        failure, values = _failure(code, reason)
        return self._update_if(
            self._key(message), f"SET #s = :s, status_rank = :r, status_at = :at{failure}",
            "#s = :queued AND send_generation = :g",
            values | {":s": "failed", ":r": STATUS_RANK["failed"], ":at": iso(at), ":queued": "queued",
                      ":g": generation}, {"#s": "status"})

    def retry(self, message: Message, *, at: datetime) -> bool:
        """``failed`` → ``queued`` at the next generation (its stream record queues the send);
        ``False`` when the reply was not failed."""
        return self._update_if(
            self._key(message),
            "SET #s = :queued, status_rank = :r, status_at = :at, send_generation = send_generation + :one,"
            " provider_message_id = :unsent REMOVE error_code, error_reason",
            "#s = :failed AND direction = :out",
            {":queued": "queued", ":r": 0, ":at": iso(at), ":one": 1, ":failed": "failed", ":out": "outbound",
             ":unsent": unsent_provider_id(message.id)},
            {"#s": "status"})

    def apply(self, channel: str, update: StatusUpdate, *, at: datetime) -> bool:
        """A provider's status callback, applied when it moves the reply forward;
        ``False`` when the id is unknown or the update is late, repeated or backwards."""
        link = self._get(self.keys.provider_message(channel, update.provider_message_id))
        if link is None or "received_at" not in link:
            return False
        key = self.keys.message(str(link["ticket_id"]), str(link["received_at"]), str(link["message_id"]))
        rank = STATUS_RANK[update.status]
        condition = "direction = :out AND status_rank < :r" + (" AND status_rank < :d" if update.status == "failed"
                                                               else "")
        values: dict[str, Any] = {":s": update.status, ":r": rank, ":at": iso(update.occurred_at or at),
                                  ":out": "outbound"}
        failure = ""
        if update.status == "failed":
            failure, extra = _failure(update.code, update.reason or "the provider could not deliver it")
            values |= extra | {":d": DELIVERED_RANK}
        return self._update_if(key, f"SET #s = :s, status_rank = :r, status_at = :at{failure}", condition,
                               values, {"#s": "status"})

    def _key(self, message: Message) -> Key:
        return self.keys.message(message.ticket_id, iso(message.received_at), message.id)


def _failure(code: str | None, reason: str) -> tuple[str, dict[str, Any]]:
    """The ``SET`` clauses and values of a failure (no code: none is written)."""
    if code is None:
        return ", error_reason = :why", {":why": reason}
    return ", error_code = :c, error_reason = :why", {":c": code, ":why": reason}
