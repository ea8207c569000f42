"""Message text and ticket subjects at rest: sealed on the way into the table, opened on
the way out, in one place for every reader (the API's reads, the stream's images, the
worker's sends). docs/encryption.md, "What is sealed"; docs/storage.md, "Personal data".

- A message item's ``text``, ``subject``, ``metadata`` (JSON, then sealed: providers put
  headers, names and addresses there) and its attachments' ``filename`` are sealed under
  the **customer's** key (``crypto.customers``; the item's ``customer_id``), each bound to
  the message id and the field (``message:<id>:<field>``): a value copied into another
  message does not open (:class:`Undecryptable`), and erasing the customer (shredding
  their key) makes every copy unreadable — table items, stream images, backups. A merge
  moving the message to another ticket keeps its id, so it still opens there. Agents'
  replies and notes are sealed the same way: they are about the ticket's customer, and
  the reply's ``customer_id`` names them.
- A large message's parts (``MSG#…#P<nn>``) hold their chunk of the compressed message
  sealed under the same key (``message:<id>:part:<n>``, base64 inside).
- A ticket's ``subject`` is sealed under the **ticket's customer's** key too, bound to the
  ticket (``ticket:<id>:subject``), and so are its copies — a history entry's
  ``ticket.subject`` (same binding), a message's ``ticket_subject`` and
  ``ticket_state.subject`` (bound to the message, under the message's customer), a reply
  claim's ``ticket_subject`` (bound to the claim): shredding the customer reaches every
  one, backups included. A list page of N customers' tickets loads their keys first with
  one ``BatchGetItem`` on the key table (:meth:`open_tickets`). Subjects sealed before
  under the tenant's key (``sb1.``) still open with it.
- Items written before encryption hold plain values: whatever is not sealed
  (:func:`~.sealing.is_sealed`) reads as it is. A value whose customer's key is shredded
  reads as erased: no text, subject, metadata or file name.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from .keys import Key, TenantKeys
from .sealing import CUSTOMER_PREFIX, SealedWithoutCrypto, Sealer, is_sealed, item_ref

CUSTOMER_TEXT = ("text", "subject")  # a message item's strings sealed under the customer's key
METADATA = "metadata"
TICKET_COPIES = ("ticket_subject",)  # a message item's copies of its ticket's subject (customer's key)
TICKET_STATE = "ticket_state"  # holds the ticket's subject too


def message_field(message_id: str, field: str) -> str:
    """What a message's value is bound to under its customer's key."""
    return f"message:{message_id}:{field}"


def ticket_field(ticket_id: str) -> str:
    """What a ticket's subject (on its item and in its history) is bound to under the
    ticket's customer's key."""
    return f"ticket:{ticket_id}:subject"


def message_ref(message_id: str) -> str:
    """The item a message's tenant-key values (its ticket's subject) are bound to: the
    message, wherever its item lies (a merge moves it to another ticket's partition)."""
    return json.dumps(["message", message_id], separators=(",", ":"))


class MessageFields:
    """One tenant's message and ticket fields, sealed and opened (``crypto=None``: a store
    built by hand; values are stored plain, and a sealed one met raises)."""

    def __init__(self, crypto: Sealer | None, tenant_id: str) -> None:
        self._crypto = crypto
        self.tenant_id = tenant_id
        self._keys = TenantKeys(tenant_id)

    def _needed(self) -> Sealer:
        if self._crypto is None:
            raise SealedWithoutCrypto("a sealed message or subject was read by a store built without a crypto")
        return self._crypto

    # -- messages ----------------------------------------------------------------

    def seal_message(self, values: dict[str, Any]) -> dict[str, Any]:
        """A message item's values (``Message.model_dump(mode="json")`` and what rides with
        it) with the personal ones sealed; sealed ones are left as they are, but for a copy of
        the ticket's subject sealed as the ticket item holds it (a ticket read without opening
        it), which is opened and sealed again for the message."""
        if self._crypto is None:
            return values
        sealed = dict(values)
        customer_id, message_id = str(values["customer_id"]), str(values["id"])
        for name in CUSTOMER_TEXT:
            value = sealed.get(name)
            if isinstance(value, str) and value and not is_sealed(value):
                sealed[name] = self._seal_customer(customer_id, message_id, name, value)
        metadata = sealed.get(METADATA)
        if isinstance(metadata, dict) and metadata:
            sealed[METADATA] = self._seal_customer(customer_id, message_id, METADATA,
                                                   json.dumps(metadata, ensure_ascii=False, sort_keys=True))
        if sealed.get("attachments"):
            sealed["attachments"] = [
                a | {"filename": self._seal_customer(customer_id, message_id, f"attachment:{n}:filename",
                                                     a["filename"])}
                if isinstance(a.get("filename"), str) and a["filename"] and not is_sealed(a["filename"]) else a
                for n, a in enumerate(sealed["attachments"])]
        ticket_id = str(values.get("ticket_id", ""))
        for name in TICKET_COPIES:  # the ticket's customer is the message's
            if isinstance(sealed.get(name), str):
                subject = self.open_subject(ticket_id, customer_id, sealed[name])  # a ticket's own: opened
                sealed[name] = self._seal_customer(customer_id, message_id, name, subject)
        state = sealed.get(TICKET_STATE)
        if isinstance(state, dict) and isinstance(state.get("subject"), str):
            subject = self.open_subject(ticket_id, customer_id, state["subject"])
            sealed[TICKET_STATE] = state | {"subject": self._seal_customer(
                customer_id, message_id, "ticket_state.subject", subject)}
        return sealed

    def open_message(self, item: dict[str, Any]) -> dict[str, Any]:
        """A message item (deserialised: read, or a stream image) with its sealed values
        opened; a shredded customer's read as erased (empty)."""
        if item.get("type") not in (None, "message"):
            return item
        opened = dict(item)
        customer_id, message_id = str(item.get("customer_id", "")), str(item.get("id", ""))
        for name in CUSTOMER_TEXT:
            value = item.get(name)
            if isinstance(value, str) and is_sealed(value):
                found = self._open_customer(customer_id, message_id, name, value)
                opened[name] = found if found is not None else ("" if name == "text" else None)
        metadata = item.get(METADATA)
        if isinstance(metadata, str) and is_sealed(metadata):
            found = self._open_customer(customer_id, message_id, METADATA, metadata)
            opened[METADATA] = {} if found is None else json.loads(found)
        if item.get("attachments"):
            opened["attachments"] = [
                a | {"filename": self._open_customer(customer_id, message_id, f"attachment:{n}:filename",
                                                     a["filename"])}
                if isinstance(a, dict) and isinstance(a.get("filename"), str) and is_sealed(a["filename"]) else a
                for n, a in enumerate(item["attachments"])]
        for name in TICKET_COPIES:
            value = item.get(name)
            if isinstance(value, str) and is_sealed(value):
                opened[name] = self._open_copy(customer_id, message_id, name, value)
        state = item.get(TICKET_STATE)
        if isinstance(state, dict) and isinstance(state.get("subject"), str) and is_sealed(state["subject"]):
            opened[TICKET_STATE] = state | {"subject": self._open_copy(
                customer_id, message_id, "ticket_state.subject", state["subject"])}
        return opened

    def seal_part(self, customer_id: str, message_id: str, number: int, chunk: bytes) -> str | bytes:
        """A large message's part as stored: its chunk sealed under the customer's key."""
        if self._crypto is None:
            return chunk
        encoded = base64.b64encode(chunk).decode("ascii")
        return self._seal_customer(customer_id, message_id, f"part:{number}", encoded)

    def open_part(self, customer_id: str, message_id: str, number: int, stored: Any) -> bytes | None:
        """A part's chunk (``None``: missing, or its customer's key is shredded)."""
        if stored is None:
            return None
        if isinstance(stored, str):
            if not is_sealed(stored):
                raise ValueError("a message part holds text that is not sealed")
            found = self._open_customer(customer_id, message_id, f"part:{number}", stored)
            return None if found is None else base64.b64decode(found)
        return bytes(getattr(stored, "value", stored))  # written before encryption: the chunk itself

    def _seal_customer(self, customer_id: str, message_id: str, field: str, value: str) -> str:
        return self._needed().customers.seal(self.tenant_id, customer_id, message_field(message_id, field), value)

    def _open_customer(self, customer_id: str, message_id: str, field: str, value: str) -> str | None:
        return self._needed().customers.open(self.tenant_id, customer_id, message_field(message_id, field), value)

    def _open_copy(self, customer_id: str, message_id: str, field: str, value: str) -> str:
        """A message's copy of its ticket's subject: under the customer's key (``""`` once
        shredded), or, sealed before, under the tenant's (bound to the message)."""
        return self._open_subject_copy(customer_id, message_field(message_id, field),
                                       message_ref(message_id), field, value)

    def _open_subject_copy(self, customer_id: str, customer_field: str, tenant_item: str, tenant_field: str,
                           value: str) -> str:
        """A ticket's subject or a copy of it: as it is when in clear, under the customer's key
        (``""`` once shredded) as ``customer_field``, or sealed before under the tenant's key
        for ``tenant_field`` of ``tenant_item``."""
        if not is_sealed(value):
            return value
        if value.startswith(CUSTOMER_PREFIX):
            return self._needed().customers.open(self.tenant_id, customer_id, customer_field, value) or ""
        return self._needed().open(self.tenant_id, tenant_item, tenant_field, value)

    # -- a reply's claimed client_message_id (``CM#``) ------------------------------

    def seal_claim(self, key: Key, ticket_id: str, customer_id: str, doc: str, ticket_subject: str) -> dict[str, Any]:
        """What a claim item holds of the reply: its JSON and its ticket's subject, both under
        the customer's key and bound to the claim item."""
        if self._crypto is None:
            return {"doc": doc, "ticket_subject": ticket_subject}
        ticket_subject = self.open_subject(ticket_id, customer_id, ticket_subject)  # as the ticket holds it: opened
        ref = item_ref(key)
        customers = self._crypto.customers
        return {"customer_id": customer_id,
                "doc": customers.seal(self.tenant_id, customer_id, f"claim:{ref}:doc", doc),
                "ticket_subject": customers.seal(self.tenant_id, customer_id, f"claim:{ref}:ticket_subject",
                                                 ticket_subject)}

    def open_claim(self, key: Key, item: dict[str, Any]) -> tuple[str | None, str]:
        """A claim item's reply JSON (``None``: its customer's key is shredded) and ticket
        subject (``""`` then)."""
        doc, subject = str(item["doc"]), str(item.get("ticket_subject", ""))
        ref, customer_id = item_ref(key), str(item.get("customer_id", ""))
        if is_sealed(doc):
            opened = self._needed().customers.open(self.tenant_id, customer_id, f"claim:{ref}:doc", doc)
        else:
            opened = doc
        subject = self._open_subject_copy(customer_id, f"claim:{ref}:ticket_subject", ref, "ticket_subject", subject)
        return opened, subject

    # -- tickets -----------------------------------------------------------------

    def seal_subject(self, ticket_id: str, customer_id: str, subject: str) -> str:
        """A ticket's subject as its item (and its history's copies) hold it: under the ticket's
        customer's key, bound to the ticket (``ticket:<id>:subject``), so erasing the customer
        makes every copy unreadable."""
        if self._crypto is None or is_sealed(subject):
            return subject
        return self._crypto.customers.seal(self.tenant_id, customer_id, ticket_field(ticket_id), subject)

    def open_subject(self, ticket_id: str, customer_id: str, stored: str) -> str:
        """A ticket's subject: ``""`` when its customer's key is shredded; one sealed before
        under the tenant's key (``sb1.``) opens as it did."""
        return self._open_subject_copy(customer_id, ticket_field(ticket_id), item_ref(self._keys.ticket(ticket_id)),
                                       "subject", stored)

    def open_ticket(self, item: dict[str, Any]) -> dict[str, Any]:
        """A ticket item (or a ticket as a history entry keeps it) with its subject opened."""
        subject = item.get("subject")
        if not isinstance(subject, str) or not is_sealed(subject):
            return item
        return item | {"subject": self.open_subject(str(item.get("ticket_id") or item.get("id")),
                                                    str(item.get("customer_id", "")), subject)}

    def open_tickets(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """:meth:`open_ticket` for a page of tickets: their customers' keys loaded first, with
        one ``BatchGetItem`` on the key table (:meth:`CustomerKeys.prefetch`)."""
        customers = [str(i.get("customer_id", "")) for i in items
                     if isinstance(i.get("subject"), str) and str(i["subject"]).startswith(CUSTOMER_PREFIX)]
        if customers and self._crypto is not None:
            self._crypto.customers.prefetch(self.tenant_id, customers)
        return [self.open_ticket(i) for i in items]

    def seal_ticket(self, values: dict[str, Any]) -> dict[str, Any]:
        """A ticket as a history entry keeps it (``Ticket.model_dump``), its subject sealed."""
        subject = values.get("subject")
        if not isinstance(subject, str) or self._crypto is None or is_sealed(subject):
            return values
        return values | {"subject": self.seal_subject(str(values.get("ticket_id") or values.get("id")),
                                                      str(values.get("customer_id", "")), subject)}

    def open_item(self, item: dict[str, Any]) -> dict[str, Any]:
        """Any item this module seals (a message, a ticket, a history entry), opened; others as they are."""
        kind = item.get("type")
        if kind == "message":
            return self.open_message(item)
        if kind == "ticket":
            return self.open_ticket(item)
        if kind == "ticket_history" and isinstance(item.get("ticket"), dict):
            return item | {"ticket": self.open_ticket(item["ticket"])}
        return item
