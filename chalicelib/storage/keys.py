"""Every DynamoDB key the hub writes, in one place (see docs/storage.md).

Tenant-scoped keys can only be built through :class:`TenantKeys`, whose
constructor takes the tenant id and validates it; every key it builds starts
with ``T#<tenant>#``. Tenant ids cannot contain ``#``, so no value placed after
the prefix can reach into another tenant's key space.

Every value placed in a key passes through :func:`component`, which keeps it
short: a value over :data:`MAX_COMPONENT_BYTES` UTF-8 bytes (a 512-emoji
Message-ID, a hostile In-Reply-To) becomes ``h:<sha256 hex>``. No key the hub
builds can therefore pass DynamoDB's limits (2,048 bytes of partition key,
1,024 of sort key), whatever a provider sends; the full value stays in the
item's attributes. The digest form is itself short, so applying
:func:`component` to a key read back from the table (the stream handler parses
provider ids out of ``PM#`` keys) gives the same key again.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

TENANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")  # always fullmatch: "$" would admit a trailing newline
KEY_ID = re.compile(r"[A-Za-z0-9]{8,32}")

CUSTOMER_TICKET = "TK#"  # sort-key prefix of the ticket links in a customer partition
MESSAGE = "MSG#"  # sort-key prefix of the messages in a ticket partition

# Key shape: {"pk": {"S": ...}, "sk": {"S": ...}} for the low-level client.
Key = dict[str, dict[str, str]]

# A key holds at most three variable components (external_id): 3 x 512 plus the
# prefixes stays far below the 2,048-byte partition-key limit, and a sort key
# (one component) below 1,024.
MAX_COMPONENT_BYTES = 512
SORT_KEY_BYTES = 1024  # DynamoDB's sort-key limit (a delivery-log sort key is built whole elsewhere)
HASHED = "h:"  # prefix of a component replaced by its digest
PART = "#P"  # a message part's sort key: the message's, then #P<nn>
# key kinds whose component was personal data: identity keys written before blind indexes
# (``ID#email:<address>``); a ref (``ID#email:<blind index>``) is withheld the same way
PERSONAL_KINDS = ("ID#",)
IDENTITY_REF = re.compile(r"[a-z_]{1,32}:[A-Za-z0-9_-]{43}")  # <kind>:<HMAC-SHA256, base64url unpadded>
WITHHELD = "(withheld)"


def component(value: str, limit: int = MAX_COMPONENT_BYTES) -> str:
    """``value`` as it may appear in a key: unchanged when it is at most
    :data:`MAX_COMPONENT_BYTES` UTF-8 bytes, else ``h:`` + its SHA-256 (hex).

    Idempotent (the digest form is short), so a component parsed back out of a
    stored key maps to the same key again. A value that cannot be encoded as
    UTF-8 (a lone surrogate) is hashed too: DynamoDB would refuse it as it is.
    """
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        size = limit + 1
    if size <= limit:
        return value
    return HASHED + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


_c = component


def _key(pk: str, sk: str) -> Key:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def key_of(item: dict[str, Any]) -> Key:
    """The key of an item as read (deserialised): its ``pk`` and ``sk``."""
    return _key(str(item["pk"]), str(item["sk"]))


def tenant_in(pk: str) -> str | None:
    """The tenant whose key space a partition key lies in (``T#<tenant>#...``), if any."""
    prefix, _, rest = pk.partition("#")
    tenant_id = rest.partition("#")[0]
    return tenant_id if prefix == "T" and valid_tenant_id(tenant_id) else None


def provider_message_of(pk: str) -> tuple[str, str]:
    """``(channel, provider message id)`` from ``T#<t>#PM#<channel>#<id>`` (:meth:`TenantKeys.provider_message`)."""
    _, _, rest = pk.partition("#PM#")
    channel, _, provider_id = rest.partition("#")
    return channel, provider_id


def withhold_personal(key: str) -> str:
    """``key`` without personal data: an identity's key (its blind index; an address in
    keys written before blind indexes, ``T#<t>#ID#email:ada@example.com``) becomes
    ``T#<t>#ID#(withheld)``; any other key is returned as it is."""
    tenant, _, rest = key.partition("#")[2].partition("#")
    kind = next((k for k in PERSONAL_KINDS if rest.startswith(k)), None)
    return f"T#{tenant}#{kind}{WITHHELD}" if key.startswith("T#") and kind is not None else key


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


def activity_sort_key(activity: str, ticket_id: str) -> str:
    """A ticket's sort key in the activity and status indexes: newest activity sorts last."""
    return f"{activity}#{ticket_id}"


def parts_prefix(sort_key: str) -> str:
    """The sort-key prefix of a large message's parts (they sort right after it)."""
    return f"{sort_key}{PART}"


def api_key_sort_key(created_at: str, key_id: str) -> str:
    """An API key's sort key in its owner's GSI1 partition: oldest first."""
    return f"{created_at}#{key_id}"


def audit_sort_key(at: str, record_id: str) -> str:
    """An audit record's sort key in its partition (and the cursor of the page it ends)."""
    return f"{at}#{record_id}"


def delivery_log_sort_key(at: str, connector: str, event_id: str, attempt: int) -> str:
    """A delivery attempt's sort key, under its ticket and in its connector's GSI1 partition."""
    return f"{at}#{connector}#{event_id}#{attempt:03d}"


def due_partition(hour: str, shard: int) -> str:
    """The timers due in one hour (``hour``: ``YYYY-MM-DDTHH`` UTC), all tenants, sharded:
    the scheduler Queries these partitions by due time, never scans. Each timer item
    names its tenant; what it acts on is read through that tenant's keys."""
    return f"DUE#{hour}#{shard}"


def due_sort_key(due_at: str, tenant_id: str, ticket_id: str, timer: str) -> str:
    """One timer of one ticket, sorted by when it is due (``timer``: e.g.
    ``sla:first_response:warn``, ``close``), so a tick reads a time range."""
    return f"{due_at}#{tenant_id}#{_c(ticket_id)}#{_c(timer)}"


SCHEDULER_STATE = {"pk": {"S": "SCHEDULER"}, "sk": {"S": "SCHEDULER"}}  # how far the scheduler got


def split_part(sort_key: str) -> tuple[str, int]:
    """``(owner sort key, part number)`` of a message part's sort key (:meth:`TenantKeys.message_part`)."""
    owner, _, number = sort_key.rpartition(PART)
    return owner, int(number)


class TenantKeys:
    """Key builder bound to one tenant."""

    def __init__(self, tenant_id: str) -> None:
        if not valid_tenant_id(tenant_id):
            raise ValueError("invalid tenant id")
        self.tenant_id = tenant_id
        self.prefix = f"T#{tenant_id}#"

    def owns(self, pk: str) -> bool:
        """Whether a partition key lies in this tenant's key space."""
        return pk.startswith(self.prefix)

    def inbound(self, channel: str, provider_message_id: str) -> Key:
        """The de-duplication record: one per (tenant, channel, provider id)."""
        return _key(f"{self.prefix}IN#{_c(channel)}#{_c(provider_message_id)}", "IN")

    def replay(self, channel: str, replay_key: str) -> Key:
        """A one-time token a provider signed (Mailgun's ``token``), once seen."""
        return _key(f"{self.prefix}RP#{_c(channel)}#{_c(replay_key)}", "RP")

    def identity(self, ref: str) -> Key:
        """Identity → customer, by the identity's ref: ``<kind>:<blind index>``
        (:meth:`chalicelib.storage.personal.PersonalFields.ref`), never the address itself.
        :class:`ValueError` for anything else (a clear ``kind:value`` must not reach a key)."""
        if not IDENTITY_REF.fullmatch(ref):
            raise ValueError("an identity's key takes its blind-index ref, not its value")
        return _key(f"{self.prefix}ID#{ref}", "ID")

    def provider_message(self, channel: str, provider_message_id: str) -> Key:
        """Where a provider message landed (threading by In-Reply-To, CallSid, ...)."""
        return _key(f"{self.prefix}PM#{_c(channel)}#{_c(provider_message_id)}", "PM")

    def waiting_partition(self, channel: str, provider_message_id: str) -> str:
        """Follow-ups parked until the message they follow is stored."""
        return f"{self.prefix}WAIT#{_c(channel)}#{_c(provider_message_id)}"

    def waiting(self, channel: str, awaited_id: str, follow_up_id: str) -> Key:
        return _key(self.waiting_partition(channel, awaited_id), f"IN#{_c(follow_up_id)}")

    def customer(self, customer_id: str) -> Key:
        return _key(self.customer_partition(customer_id), "CUSTOMER")

    def customer_partition(self, customer_id: str) -> str:
        """The customer item and one link per ticket of theirs (erasure starts here)."""
        return f"{self.prefix}CU#{_c(customer_id)}"

    def customer_ticket(self, customer_id: str, ticket_id: str) -> Key:
        """A customer's ticket, listed under the customer without scanning the tenant."""
        return _key(self.customer_partition(customer_id), f"{CUSTOMER_TICKET}{_c(ticket_id)}")

    def ticket(self, ticket_id: str) -> Key:
        return _key(self.ticket_partition(ticket_id), "TICKET")

    def ticket_partition(self, ticket_id: str) -> str:
        """Ticket and its messages share a partition: one Query reads both."""
        return f"{self.prefix}TK#{_c(ticket_id)}"

    def message(self, ticket_id: str, received_at: str, message_id: str) -> Key:
        return _key(self.ticket_partition(ticket_id), self.message_sort_key(received_at, message_id))

    def message_sort_key(self, received_at: str, message_id: str) -> str:
        """A message's sort key; its parts (a large message, see the store) sort right after it."""
        return f"{MESSAGE}{_c(received_at)}#{_c(message_id)}"

    def message_part(self, ticket_id: str, received_at: str, message_id: str, number: int) -> Key:
        """Part ``number`` of a large message's document, beside the message: erasure's
        ``MSG#`` query finds it, and one Query reads the message with its parts."""
        sort_key = f"{self.message_sort_key(received_at, message_id)}{PART}{number:02d}"
        return _key(self.ticket_partition(ticket_id), sort_key)

    def inbound_part(self, channel: str, provider_message_id: str, number: int) -> Key:
        """Part ``number`` of a large inbound message's document. Each part has a
        partition of its own, so one message's parts never crowd one partition."""
        return _key(f"{self.prefix}INP#{_c(channel)}#{_c(provider_message_id)}#{number}", "PART")

    def delivery(self, connector: str, event_id: str) -> Key:
        """Failed-attempt count of one event at one connector."""
        return _key(f"{self.prefix}DL#{_c(connector)}#{_c(event_id)}", "DELIVERY")

    def external_id(self, connector: str, kind: str, local_id: str) -> Key:
        """The id a connector's receiver gave one of our records."""
        return _key(f"{self.prefix}MAP#{_c(connector)}#{_c(kind)}#{_c(local_id)}", "MAP")

    def delivery_log(self, ticket_id: str, sort_key: str) -> Key:
        """One delivery attempt, under its ticket."""
        return _key(self.delivery_log_partition(ticket_id), component(sort_key, SORT_KEY_BYTES))

    def delivery_log_partition(self, ticket_id: str) -> str:
        return f"{self.prefix}DLOG#TK#{_c(ticket_id)}"

    def connector_log_index(self, connector: str, shard: int) -> str:
        """GSI1 partition: a connector's delivery attempts, newest first, sharded."""
        return f"{self.prefix}DLOG#CN#{_c(connector)}#{shard}"

    def api_key_index(self) -> str:
        """GSI1 partition: this tenant's API keys, oldest first."""
        return f"{self.prefix}APIKEYS"

    def audit_partition(self) -> str:
        """The tenant's audit log: one partition, append-only, newest last."""
        return f"{self.prefix}AUDIT"

    def agents_partition(self) -> str:
        """The tenant's agents (human users), one item each: one Query lists them all."""
        return f"{self.prefix}AGENTS"

    def agent(self, agent_id: str) -> Key:
        """One agent, by its Cognito ``sub`` (kept after removal: replies name their author)."""
        return _key(self.agents_partition(), f"AG#{_c(agent_id)}")

    def groups_partition(self) -> str:
        """The tenant's agent groups: one Query lists them all."""
        return f"{self.prefix}GROUPS"

    def group(self, group_id: str) -> Key:
        return _key(self.groups_partition(), f"GR#{_c(group_id)}")

    def breaker(self, connector: str) -> Key:
        """The circuit breaker of this tenant's connector endpoint."""
        return _key(f"{self.prefix}CB#{_c(connector)}", "BREAKER")

    def set_aside_partition(self) -> str:
        """Stream records and stored objects the hub could not process, set aside
        to be listed and replayed (chalicelib/pipeline/setaside.py): one partition per tenant."""
        return f"{self.prefix}ASIDE"

    def set_aside(self, entry_id: str) -> Key:
        """One set-aside entry (ids are short digests; a longer one is hashed like any component)."""
        return _key(self.set_aside_partition(), component(entry_id, SORT_KEY_BYTES))

    def activity_index(self, shard: int) -> str:
        """GSI1 partition: all tickets, newest activity first, sharded."""
        return f"{self.prefix}TICKETS#{shard}"

    def status_index(self, status: str, shard: int) -> str:
        """GSI2 partition: tickets of one status, newest activity first, sharded."""
        return f"{self.prefix}TICKETS#{_c(status)}#{shard}"

    def client_message(self, client_message_id: str) -> Key:
        """A reply's ``client_message_id``, claimed once: a repeated request finds the first reply."""
        return _key(f"{self.prefix}CM#{_c(client_message_id)}", "CM")

    def shared_token(self, plugin: str, name: str) -> Key:
        """A provider access token a channel plugin shares across containers (chalicelib/outbound/tokens.py)."""
        return _key(f"{self.prefix}TOK#{_c(plugin)}#{_c(name)}", "TOKEN")

    def ticket_history_partition(self, ticket_id: str) -> str:
        """A ticket's transitions (status, priority, assignee, …), oldest first: who, when, why."""
        return f"{self.prefix}TKH#{_c(ticket_id)}"

    def ticket_history(self, ticket_id: str, at: str, cause: str) -> Key:
        """One change of a ticket at ``at``, made in answer to ``cause`` (a message id, a
        timer, an API request's id): written once per cause, so a repeated cause changes nothing."""
        return _key(self.ticket_history_partition(ticket_id), f"{_c(at)}#{_c(cause)}")

    def backlog_partition(self, group_id: str | None) -> str:
        """Unassigned open tickets of a group (``-``: no group), in the order they are
        worked: priority rank, then how long they have waited."""
        return f"{self.prefix}BACKLOG#{_c(group_id or '-')}"

    def backlog(self, group_id: str | None, priority_rank: int, waiting_since: str, ticket_id: str) -> Key:
        return _key(self.backlog_partition(group_id), f"{priority_rank}#{_c(waiting_since)}#{_c(ticket_id)}")

    def agent_load(self, agent_id: str) -> Key:
        """How many open tickets an agent holds (``open_tickets``), beside its record: assignment
        moves it in the same transaction as the ticket, conditional on the agent's capacity."""
        return _key(f"{self.prefix}LOAD#{_c(agent_id)}", "LOAD")

    def assignment_cursor(self, group_id: str) -> Key:
        """A group's round-robin position (the agent who got the last ticket)."""
        return _key(f"{self.prefix}RR#{_c(group_id)}", "RR")

    def rules_partition(self) -> str:
        """The tenant's rules (current versions), one Query lists them in order."""
        return f"{self.prefix}RULES"

    def rule(self, rule_id: str) -> Key:
        return _key(self.rules_partition(), f"RULE#{_c(rule_id)}")

    def rule_version(self, rule_id: str, version: int) -> Key:
        """Every saved version of a rule, kept (the rule's history)."""
        return _key(f"{self.prefix}RULEV#{_c(rule_id)}", f"{version:08d}")

    def workflow_config_partition(self) -> str:
        """SLA policies and business-hours calendars."""
        return f"{self.prefix}WORKFLOW"

    def sla_policy(self, policy_id: str) -> Key:
        return _key(self.workflow_config_partition(), f"SLA#{_c(policy_id)}")

    def calendar(self, calendar_id: str) -> Key:
        return _key(self.workflow_config_partition(), f"CAL#{_c(calendar_id)}")

    def templates_partition(self) -> str:
        """Reply templates (话术库) and macros: one Query lists them."""
        return f"{self.prefix}TEMPLATES"

    def template(self, code: str) -> Key:
        return _key(self.templates_partition(), f"TPL#{_c(code)}")

    def macro(self, macro_id: str) -> Key:
        return _key(self.templates_partition(), f"MAC#{_c(macro_id)}")

    def survey(self, ticket_id: str) -> Key:
        """A ticket's satisfaction survey (回访) and its answer, beside its messages."""
        return _key(self.ticket_partition(ticket_id), "SURVEY")

    def survey_token(self, token_id: str) -> Key:
        """A one-click survey link's id → its ticket (the link itself is signed)."""
        return _key(f"{self.prefix}SVT#{_c(token_id)}", "SVT")

    def csat_partition(self) -> str:
        """Every answered survey of the tenant, by time (reports read this)."""
        return f"{self.prefix}CSAT"

    def customer_merge(self, customer_id: str, merged_id: str) -> Key:
        """``merged_id`` was merged into ``customer_id``: what moved, to undo it."""
        return _key(self.customer_partition(customer_id), f"MERGED#{_c(merged_id)}")

    def rate_window(self, bucket: str, window_start: int) -> Key:
        """Requests admitted in one rate-limit window (``window_start``: epoch seconds)."""
        return _key(f"{self.prefix}RL#{_c(bucket)}#{window_start}", "RATE")
