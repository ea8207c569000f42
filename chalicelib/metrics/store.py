"""The aggregates in the table, per tenant (all keys under ``T#<tenant>#``):

- ``MX#<kind>`` / ``<YYYY-MM-DD>#<value>``: a day's counters for the tenant (kind ``all``,
  value ``-``), a channel, a group or an agent — a date range is one Query per kind;
- ``MXO#<kind>`` / ``<creation day>#<value>``: the open tickets created that day, by minute;
  ``now#<value>``: how many tickets are in each stage now — the whole partition is one Query;
- ``MXT#<ticket>`` / ``MX``: one ticket's state — the ledger last applied (``applied``,
  ``rev``), its replies and the SLA targets it ended (string sets, so adding one twice is
  adding it once).

:meth:`MetricsTable.apply` adds a ticket's difference to the aggregates and records the
new ledger in one ``TransactWriteItems``, conditional on the ``rev`` that was read.
"""

from __future__ import annotations

import json
from typing import Any

from switchboard_sdk import Unavailable

from ..storage.aws import is_condition_failure, write_together
from ..storage.items import from_item, to_item
from ..storage.keys import Key, component
from ..storage.table import TenantTable
from .tally import Ledger, difference

MAX_WRITES = 99  # TransactWriteItems takes 100 actions: the ticket's state is the last
LABELS = ("cat:", "tag:")  # counters named after a category or tag, which an agent may have typed a name into


class LedgerTooLarge(ValueError):
    """A single change would touch more aggregate items than one transaction holds."""


def encode(ledger: Ledger) -> str:
    return json.dumps({f"{p}|{s}": counts for (p, s), counts in sorted(ledger.items())}, sort_keys=True,
                      separators=(",", ":"))


def decode(text: str | None) -> Ledger:
    if not text:
        return {}
    raw = json.loads(text)
    return {tuple(key.split("|", 1)): {k: int(v) for k, v in counts.items()}
            for key, counts in raw.items()}


class TicketState:
    def __init__(self, item: dict[str, Any] | None) -> None:
        item = item or {}
        self.rev = int(item.get("rev", 0))
        self.applied = decode(item.get("applied"))
        self.replies = sorted(str(v) for v in item.get("replies") or ())
        self.sla = sorted(str(v) for v in item.get("sla") or ())


class MetricsTable(TenantTable):
    """One tenant's aggregates and per-ticket metric states."""

    def partition(self, name: str) -> str:
        """``D:<kind>`` → ``T#<t>#MX#<kind>``; ``O:<kind>`` → ``T#<t>#MXO#<kind>``."""
        area, kind = name.split(":", 1)
        return f"{self.keys.prefix}{'MX' if area == 'D' else 'MXO'}#{component(kind)}"

    def state_key(self, ticket_id: str) -> Key:
        return {"pk": {"S": f"{self.keys.prefix}MXT#{component(ticket_id)}"}, "sk": {"S": "MX"}}

    def state(self, ticket_id: str) -> TicketState:
        return TicketState(self._get(self.state_key(ticket_id)))

    def remember(self, ticket_id: str, field: str, elements: list[str]) -> None:
        """Add ``elements`` to one of the ticket's sets (``replies``, ``sla``); a repeat adds nothing."""
        self._db.update_item(TableName=self._table, Key=self.state_key(ticket_id),
                             UpdateExpression="ADD #f :e SET tenant_id = :t, #ty = :ty",
                             ExpressionAttributeNames={"#f": field, "#ty": "type"},
                             ExpressionAttributeValues={":e": {"SS": elements}, ":t": {"S": self.tenant_id},
                                                        ":ty": {"S": "metrics_ticket"}})

    def apply(self, ticket_id: str, diff: Ledger, ledger: Ledger, rev: int) -> bool:
        """Add ``diff`` to the aggregates and record ``ledger`` as applied, if the ticket's
        state is still at ``rev``; ``False`` when it moved (read again and redo)."""
        if len(diff) > MAX_WRITES:
            raise LedgerTooLarge(f"one change of ticket {ticket_id} touches {len(diff)} aggregate items")
        writes = [self._add(partition, sort_key, counts) for (partition, sort_key), counts in sorted(diff.items())]
        writes.append({"Update": {
            "TableName": self._table, "Key": self.state_key(ticket_id),
            "UpdateExpression": "SET applied = :a, rev = :next, tenant_id = :t, #ty = :ty",
            "ConditionExpression": "attribute_not_exists(rev) OR rev = :rev",
            "ExpressionAttributeNames": {"#ty": "type"},
            "ExpressionAttributeValues": to_item({":a": encode(ledger), ":next": rev + 1, ":rev": rev,
                                                  ":t": self.tenant_id, ":ty": "metrics_ticket"})}})
        return all(write_together(self._db, writes))

    def forget(self, ticket_id: str) -> int:
        """Erasure: the ticket's category and tag names leave the aggregates (its anonymous
        counts stay) and its state item, which names it, goes. Repeatable: a run stopped
        half-way finds the labels already taken out and finishes the rest. 1 if it had a state."""
        state = self.state(ticket_id)
        kept = {key: {name: n for name, n in counts.items() if not name.startswith(LABELS)}
                for key, counts in state.applied.items()}
        kept = {key: counts for key, counts in kept.items() if counts}
        diff = difference(kept, state.applied)
        if diff and not self.apply(ticket_id, diff, kept, state.rev):
            raise Unavailable(f"the metrics of ticket {ticket_id} changed while it was erased; try again")
        for (partition, sort_key), counts in diff.items():
            for name in counts:
                self._drop_if_zero(partition, sort_key, name)
        answer = self._db.delete_item(TableName=self._table, Key=self.state_key(ticket_id), ReturnValues="ALL_OLD")
        return int("Attributes" in answer)

    def _drop_if_zero(self, partition: str, sort_key: str, name: str) -> None:
        """A label counter back at 0 goes, so its name is nowhere in the table."""
        try:
            self._db.update_item(TableName=self._table, Key={"pk": {"S": self.partition(partition)},
                                                             "sk": {"S": sort_key}},
                                 UpdateExpression="REMOVE #n", ConditionExpression="#n = :zero",
                                 ExpressionAttributeNames={"#n": name}, ExpressionAttributeValues={":zero": {"N": "0"}})
        except Exception as err:
            if not is_condition_failure(err):  # others still count this label: it stays
                raise

    def _add(self, partition: str, sort_key: str, counts: dict[str, int]) -> dict[str, Any]:
        names = {f"#a{n}": name for n, name in enumerate(sorted(counts))}
        values = {f":a{n}": counts[name] for n, name in enumerate(sorted(counts))}
        adds = ", ".join(f"#a{n} :a{n}" for n in range(len(names)))
        kind, value = partition.split(":", 1)[1], sort_key.split("#", 1)[1]
        return {"Update": {
            "TableName": self._table, "Key": {"pk": {"S": self.partition(partition)}, "sk": {"S": sort_key}},
            "UpdateExpression": f"ADD {adds} SET tenant_id = :t, dim = :d, dim_kind = :k, #ty = :ty",
            "ExpressionAttributeNames": names | {"#ty": "type"},
            "ExpressionAttributeValues": to_item(values | {":t": self.tenant_id, ":d": value, ":k": kind,
                                                          ":ty": "metrics"})}}

    def days(self, kind: str, first: str, last: str) -> list[dict[str, Any]]:
        """The day items of ``kind`` from ``first`` to ``last`` (dates, inclusive), every value."""
        return self._query(self.partition(f"D:{kind}"), "pk = :p AND sk BETWEEN :a AND :b",
                           {":a": first, ":b": f"{last}#\uffff"})

    def open_now(self, kind: str) -> list[dict[str, Any]]:
        """Every open-ticket and stage item of ``kind``."""
        return self._query(self.partition(f"O:{kind}"), "pk = :p", {})

    def _query(self, pk: str, condition: str, values: dict[str, Any]) -> list[dict[str, Any]]:
        request: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": condition,
                                   "ExpressionAttributeValues": to_item(values | {":p": pk})}
        items: list[dict[str, Any]] = []
        while True:
            result = self._db.query(**request)
            items += [from_item(item) for item in result.get("Items", [])]
            if "LastEvaluatedKey" not in result:
                return items
            request["ExclusiveStartKey"] = result["LastEvaluatedKey"]
