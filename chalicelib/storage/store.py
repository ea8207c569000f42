"""The ticket store: one DynamoDB table, every call scoped to one tenant.

:class:`TicketStore` holds the table and hands out one repository per consumer,
bound to one tenant: :meth:`~TicketStore.inbound` (the webhook path's records),
:meth:`~TicketStore.conversations` (what the stream handler reads and writes),
:meth:`~TicketStore.attempts` (the worker's counters and external ids) and
:meth:`~TicketStore.reads` (tickets, messages and customers for the API, the
stream and the worker). Each extends :class:`~chalicelib.storage.table.TenantTable`
and builds keys only through :class:`~chalicelib.storage.keys.TenantKeys`, whose
constructor validates the tenant id, so none can read or write another tenant's
items. Customers' personal fields are sealed, and identities found by blind index,
through the injected crypto (:mod:`.personal`). Layout and access patterns: docs/storage.md.
"""

from __future__ import annotations

from typing import Any

from .attempts import DeliveryAttempts
from .conversations import Conversations
from .documents import MAX_DOCUMENT_BYTES
from .inbound import InboundRecords
from .keys import TenantKeys
from .message_fields import MessageFields
from .personal import PersonalFields
from .reads import EVERYTHING, ReadScope, TicketReads
from .replies import Replies
from .sealing import Sealer
from .tickets import TicketWrites


class TicketStore:
    def __init__(self, client: Any, table_name: str, *, index_shards: int = 4,
                 max_document_bytes: int = MAX_DOCUMENT_BYTES, crypto: Sealer | None = None) -> None:
        self.client = client
        self.crypto = crypto  # hub.crypto: personal fields sealed (None: stored plain, for stores built by hand)
        self.table_name = table_name
        self.index_shards = index_shards
        self.max_document_bytes = max_document_bytes

    def inbound(self, tenant_id: str) -> InboundRecords:
        """The tenant's inbound records and one-time tokens (the webhook path)."""
        return InboundRecords(self.client, self.table_name, TenantKeys(tenant_id),
                              max_document_bytes=self.max_document_bytes, crypto=self.crypto)

    def conversations(self, tenant_id: str) -> Conversations:
        """The tenant's customers, tickets and messages as the stream handler builds them."""
        return Conversations(self.client, self.table_name, TenantKeys(tenant_id), index_shards=self.index_shards,
                             max_document_bytes=self.max_document_bytes, crypto=self.crypto)

    def attempts(self, tenant_id: str) -> DeliveryAttempts:
        """The tenant's failed-attempt counters and connector external ids (the worker)."""
        return DeliveryAttempts(self.client, self.table_name, TenantKeys(tenant_id))

    def replies(self, tenant_id: str) -> Replies:
        """The tenant's replies and notes: written by the API, sent by the worker, updated by callbacks."""
        return Replies(self.client, self.table_name, self.conversations(tenant_id), self.reads(tenant_id))

    def tickets(self, tenant_id: str) -> TicketWrites:
        """The tenant's ticket workflow writes: fields, history, backlog and timers together."""
        return TicketWrites(self.client, self.table_name, TenantKeys(tenant_id), index_shards=self.index_shards,
                            crypto=self.crypto)

    def reads(self, tenant_id: str, scope: ReadScope = EVERYTHING) -> TicketReads:
        """The tenant's tickets, messages and customers, read back — only the tickets
        ``scope`` sees (an agent's role may see only their groups' or their own)."""
        return TicketReads(self.client, self.table_name, TenantKeys(tenant_id), self.personal(tenant_id),
                           index_shards=self.index_shards, scope=scope, crypto=self.crypto)

    def fields(self, tenant_id: str) -> MessageFields:
        """The tenant's message text and ticket subjects, sealed and opened (:mod:`.message_fields`)."""
        return MessageFields(self.crypto, TenantKeys(tenant_id).tenant_id)

    def personal(self, tenant_id: str) -> PersonalFields:
        """The tenant's identity refs (blind indexes) and its customers' sealed fields."""
        return PersonalFields(self.crypto, TenantKeys(tenant_id).tenant_id)
