"""How many open tickets each agent holds, kept exact by the ticket's own transaction.

An agent's load item (``LOAD#<agent>``, :meth:`~chalicelib.storage.keys.TenantKeys.agent_load`)
counts ``open_tickets``: the agent's tickets in status new/open/pending/on_hold (not
solved, closed or merged). Every change of a ticket that makes an agent start or stop
holding it carries ``ADD open_tickets ±1`` in the same ``TransactWriteItems`` as the
ticket's versioned update (:meth:`~chalicelib.storage.tickets.TicketWrites.save`), so the
count moves exactly once per transition: a stale or duplicate save writes nothing.

Automatic assignment adds a capacity condition to the increment
(``open_tickets < capacity``): two Lambdas filling the same agent cannot both pass it.
A supervisor's manual assignment does not (it may exceed capacity, as in Zendesk).

The same transaction remembers the customer's last agent (``last_agent_id`` on the
customer item), so a returning customer's next ticket can go back to them for one
GetItem. The customer item exists while the ticket does: erasure deletes a
customer's tickets before the customer, and the ticket's own condition
(``attribute_exists``) fails the whole transaction once the ticket is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from switchboard_sdk import Ticket

from ..storage.items import to_item
from ..storage.keys import TenantKeys
from .changes import OPEN_STATUSES


def holder(ticket: Ticket) -> str | None:
    """The agent whose load ``ticket`` counts in, or ``None``."""
    if ticket.assignee_id and ticket.status in OPEN_STATUSES and not ticket.merged_into:
        return ticket.assignee_id
    return None


def load_writes(table_name: str, keys: TenantKeys, before: Ticket, after: Ticket, *,
                enforce_capacity: bool, capacity: int | None = None) -> list[dict[str, Any]]:
    """``TransactWriteItems`` elements moving the loads of the agents who start or stop
    holding the ticket; with ``enforce_capacity`` the increment holds only while the new
    holder has fewer than ``capacity`` open tickets."""
    was, now = holder(before), holder(after)
    if was == now:
        return []
    writes = []
    if was is not None:
        writes.append(_load_update(table_name, keys, was, -1, None))
    if now is not None:
        if enforce_capacity and capacity is None:
            raise ValueError("enforcing capacity needs the capacity")
        writes.append(_load_update(table_name, keys, now, 1, capacity if enforce_capacity else None))
    return writes


def last_agent_writes(table_name: str, keys: TenantKeys, before: Ticket, after: Ticket) -> list[dict[str, Any]]:
    """Remember on the customer item who took their ticket last (when the assignee changes to someone)."""
    if not after.assignee_id or after.assignee_id == before.assignee_id:
        return []
    return [{"Update": {"TableName": table_name, "Key": keys.customer(after.customer_id),
                        "UpdateExpression": "SET last_agent_id = :a",
                        "ExpressionAttributeValues": to_item({":a": after.assignee_id})}}]


def accounting_writes(table_name: str, keys: TenantKeys, before: Ticket, after: Ticket,
                      extra: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """What EVERY change of a ticket must write besides ``extra`` (the caller's own writes):
    the load moves (no capacity condition) and the customer's last agent — except for
    items ``extra`` already writes (assignment's load increment with its capacity
    condition), since a transaction may touch each item only once."""
    taken = {_key_of(write) for write in extra}
    ours = load_writes(table_name, keys, before, after, enforce_capacity=False)
    ours += last_agent_writes(table_name, keys, before, after)
    return [write for write in ours if _key_of(write) not in taken]


def read_loads(client: Any, table_name: str, keys: TenantKeys, agent_ids: Sequence[str]) -> dict[str, int]:
    """``open_tickets`` of each agent (0 without a load item): consistent BatchGets, 100 keys a call."""
    wanted = list(dict.fromkeys(agent_ids))
    loads = dict.fromkeys(wanted, 0)
    for start in range(0, len(wanted), 100):
        request: dict[str, Any] = {table_name: {"Keys": [keys.agent_load(a) for a in wanted[start:start + 100]],
                                                "ConsistentRead": True,
                                                "ProjectionExpression": "agent_id, open_tickets"}}
        while request:
            result = client.batch_get_item(RequestItems=request)
            for item in result.get("Responses", {}).get(table_name, []):
                loads[item["agent_id"]["S"]] = max(0, int(item.get("open_tickets", {}).get("N", "0")))
            request = result.get("UnprocessedKeys") or {}
    return loads


def _load_update(table_name: str, keys: TenantKeys, agent_id: str, delta: int,
                 capacity: int | None) -> dict[str, Any]:
    values: dict[str, Any] = {":d": delta, ":type": "agent_load", ":tenant": keys.tenant_id, ":agent": agent_id}
    update: dict[str, Any] = {
        "TableName": table_name, "Key": keys.agent_load(agent_id),
        "UpdateExpression": "ADD open_tickets :d SET #t = :type, tenant_id = :tenant, agent_id = :agent",
        "ExpressionAttributeNames": {"#t": "type"}}
    if capacity is not None:
        update["ConditionExpression"] = \
            "(attribute_not_exists(open_tickets) AND :zero < :capacity) OR open_tickets < :capacity"
        values |= {":capacity": capacity, ":zero": 0}
    update["ExpressionAttributeValues"] = to_item(values)
    return {"Update": update}


def _key_of(write: dict[str, Any]) -> tuple[str, str] | None:
    request = next(iter(write.values()))
    item = request.get("Item", {})
    key = request.get("Key") or {name: item[name] for name in ("pk", "sk") if name in item}
    if "pk" not in key or "sk" not in key:
        return None
    return key["pk"]["S"], key["sk"]["S"]
