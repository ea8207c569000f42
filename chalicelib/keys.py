"""Every DynamoDB key the hub writes, in one place (see docs/storage.md).

Tenant-scoped keys can only be built through :class:`TenantKeys`, whose
constructor takes the tenant id and validates it; every key it builds starts
with ``T#<tenant>#``. Tenant ids cannot contain ``#``, so no value placed after
the prefix can reach into another tenant's key space.
"""

from __future__ import annotations

import hashlib
import re

from switchboard_sdk import Identity

TENANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")  # always fullmatch: "$" would admit a trailing newline
KEY_ID = re.compile(r"[A-Za-z0-9]{8,32}")

CUSTOMER_TICKET = "TK#"  # sort-key prefix of the ticket links in a customer partition
MESSAGE = "MSG#"  # sort-key prefix of the messages in a ticket partition

# Key shape: {"pk": {"S": ...}, "sk": {"S": ...}} for the low-level client.
Key = dict[str, dict[str, str]]


def _key(pk: str, sk: str) -> Key:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def valid_tenant_id(tenant_id: str) -> bool:
    return bool(TENANT_ID.fullmatch(tenant_id))


def tenant_record_key(tenant_id: str) -> Key:
    if not valid_tenant_id(tenant_id):
        raise ValueError("invalid tenant id")
    return _key(f"TENANT#{tenant_id}", "TENANT")


def api_key_record_key(key_id: str) -> Key:
    if not KEY_ID.fullmatch(key_id):
        raise ValueError("invalid API key id")
    return _key(f"APIKEY#{key_id}", "APIKEY")


PLATFORM_KEY_INDEX = "PLATFORM#APIKEYS"  # GSI1 partition: platform-admin keys
PLATFORM_AUDIT = "PLATFORM#AUDIT"  # platform actions that concern no single tenant


def tenants_index() -> str:
    """GSI1 partition listing every tenant record (operators only)."""
    return "TENANTS"


def shard_of(ticket_id: str, shards: int) -> int:
    """A stable shard for a ticket, spreading one tenant's index writes."""
    return int.from_bytes(hashlib.sha256(ticket_id.encode()).digest()[:4], "big") % shards


class TenantKeys:
    """Key builder bound to one tenant."""

    def __init__(self, tenant_id: str) -> None:
        if not valid_tenant_id(tenant_id):
            raise ValueError("invalid tenant id")
        self.tenant_id = tenant_id
        self.prefix = f"T#{tenant_id}#"

    def inbound(self, channel: str, provider_message_id: str) -> Key:
        """The de-duplication record: one per (tenant, channel, provider id)."""
        return _key(f"{self.prefix}IN#{channel}#{provider_message_id}", "IN")

    def replay(self, channel: str, replay_key: str) -> Key:
        """A one-time token a provider signed (Mailgun's ``token``), once seen."""
        return _key(f"{self.prefix}RP#{channel}#{replay_key}", "RP")

    def identity(self, identity: Identity) -> Key:
        return _key(f"{self.prefix}ID#{identity.key}", "ID")

    def provider_message(self, channel: str, provider_message_id: str) -> Key:
        """Where a provider message landed (threading by In-Reply-To, CallSid, ...)."""
        return _key(f"{self.prefix}PM#{channel}#{provider_message_id}", "PM")

    def waiting_partition(self, channel: str, provider_message_id: str) -> str:
        """Follow-ups parked until the message they follow is stored."""
        return f"{self.prefix}WAIT#{channel}#{provider_message_id}"

    def waiting(self, channel: str, awaited_id: str, follow_up_id: str) -> Key:
        return _key(self.waiting_partition(channel, awaited_id), f"IN#{follow_up_id}")

    def customer(self, customer_id: str) -> Key:
        return _key(self.customer_partition(customer_id), "CUSTOMER")

    def customer_partition(self, customer_id: str) -> str:
        """The customer item and one link per ticket of theirs (erasure starts here)."""
        return f"{self.prefix}CU#{customer_id}"

    def customer_ticket(self, customer_id: str, ticket_id: str) -> Key:
        """A customer's ticket, listed under the customer without scanning the tenant."""
        return _key(self.customer_partition(customer_id), f"{CUSTOMER_TICKET}{ticket_id}")

    def ticket(self, ticket_id: str) -> Key:
        return _key(f"{self.prefix}TK#{ticket_id}", "TICKET")

    def ticket_partition(self, ticket_id: str) -> str:
        """Ticket and its messages share a partition: one Query reads both."""
        return f"{self.prefix}TK#{ticket_id}"

    def message(self, ticket_id: str, received_at: str, message_id: str) -> Key:
        return _key(self.ticket_partition(ticket_id), f"{MESSAGE}{received_at}#{message_id}")

    def delivery(self, connector: str, event_id: str) -> Key:
        """Failed-attempt count of one event at one connector."""
        return _key(f"{self.prefix}DL#{connector}#{event_id}", "DELIVERY")

    def external_id(self, connector: str, kind: str, local_id: str) -> Key:
        """The id a connector's receiver gave one of our records."""
        return _key(f"{self.prefix}MAP#{connector}#{kind}#{local_id}", "MAP")

    def delivery_log(self, ticket_id: str, sort_key: str) -> Key:
        """One delivery attempt, under its ticket."""
        return _key(f"{self.prefix}DLOG#TK#{ticket_id}", sort_key)

    def delivery_log_partition(self, ticket_id: str) -> str:
        return f"{self.prefix}DLOG#TK#{ticket_id}"

    def connector_log_index(self, connector: str, shard: int) -> str:
        """GSI1 partition: a connector's delivery attempts, newest first, sharded."""
        return f"{self.prefix}DLOG#CN#{connector}#{shard}"

    def api_key_index(self) -> str:
        """GSI1 partition: this tenant's API keys, oldest first."""
        return f"{self.prefix}APIKEYS"

    def audit_partition(self) -> str:
        """The tenant's audit log: one partition, append-only, newest last."""
        return f"{self.prefix}AUDIT"

    def breaker(self, connector: str) -> Key:
        """The circuit breaker of this tenant's connector endpoint."""
        return _key(f"{self.prefix}CB#{connector}", "BREAKER")

    def activity_index(self, shard: int) -> str:
        """GSI1 partition: all tickets, newest activity first, sharded."""
        return f"{self.prefix}TICKETS#{shard}"

    def status_index(self, status: str, shard: int) -> str:
        """GSI2 partition: tickets of one status, newest activity first, sharded."""
        return f"{self.prefix}TICKETS#{status}#{shard}"

    def rate_window(self, bucket: str, window_start: int) -> Key:
        """Requests admitted in one rate-limit window (``window_start``: epoch seconds)."""
        return _key(f"{self.prefix}RL#{bucket}#{window_start}", "RATE")
