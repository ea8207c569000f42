"""Circuit breakers per (tenant, connector): stop burning attempts on a dead endpoint.

Closed: deliveries flow; each transient failure (retry outcome) adds one to a
consecutive-failure count in the table, a success resets it. At ``threshold``
the breaker opens for a cooldown that doubles with each re-opening (up to 8x);
jobs that meet an open breaker wait it out without spending an attempt. When
the cooldown ends, one delivery claims the probe (a conditional write, so one
container wins); its success closes the breaker, its failure re-opens it.

State is read through a short per-container cache, so a healthy endpoint costs
no table call per delivery.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..storage.aws import is_condition_failure
from ..storage.conventions import iso
from ..storage.items import from_item, to_item
from ..storage.keys import Key, TenantKeys

# defaults; Settings.breaker_threshold / breaker_cooldown_seconds override them
THRESHOLD = 10  # consecutive transient failures: a 35%-flaky endpoint almost never trips it
BASE_COOLDOWN = timedelta(seconds=30)
MAX_DOUBLINGS = 3  # a failed probe doubles the rest, up to 8x: a flaky endpoint is not a dead one
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class BreakerState:
    failures: int = 0
    opens: int = 0
    open_until: str = ""  # iso timestamp, "" when closed
    probe_at: str = ""


class CircuitBreakers:
    def __init__(self, client: Any, table_name: str, clock: Callable[[], datetime], *,
                 monotonic: Callable[[], float] = time.monotonic, threshold: int = THRESHOLD,
                 cooldown: timedelta = BASE_COOLDOWN) -> None:
        self._db, self._table, self._clock, self._monotonic = client, table_name, clock, monotonic
        self._threshold, self._cooldown = threshold, cooldown
        self._cache: dict[tuple[str, str], tuple[float, BreakerState]] = {}

    def wait_seconds(self, tenant_id: str, connector: str) -> float:
        """How long a job must wait before this endpoint may be tried (0: go ahead)."""
        state, now = self._state(tenant_id, connector), self._clock()
        if not state.open_until:
            return 0.0
        remaining = (datetime.fromisoformat(state.open_until.replace("Z", "+00:00")) - now).total_seconds()
        if remaining > 0:
            return remaining
        # the others wait one more cooldown for the probe's verdict
        return 0.0 if self._claim_probe(tenant_id, connector, state, now) else self._cooldown.total_seconds()

    def record(self, tenant_id: str, connector: str, transient_failure: bool) -> None:
        """Count a transient failure, or close the breaker after a success."""
        key = _key(tenant_id, connector)
        if not transient_failure:
            if self._state(tenant_id, connector) != BreakerState():
                self._db.delete_item(TableName=self._table, Key=key)
                self._remember(tenant_id, connector, BreakerState())
            return
        state = self._count_failure(key)
        if state.failures >= self._threshold:
            state = self._open(key, state)
        self._remember(tenant_id, connector, state)

    def _count_failure(self, key: Key) -> BreakerState:
        result = self._db.update_item(
            TableName=self._table, Key=key, UpdateExpression="SET #t = :t ADD failures :one",
            ExpressionAttributeNames={"#t": "type"}, ExpressionAttributeValues=to_item({":t": "breaker", ":one": 1}),
            ReturnValues="ALL_NEW",
        )
        return _state(from_item(result["Attributes"]))

    def _open(self, key: Key, state: BreakerState) -> BreakerState:
        """Open (or re-open after a failed probe); failures of jobs already in
        flight while it is open do not extend it."""
        now = self._clock()
        until = iso(now + self._cooldown * 2 ** min(state.opens, MAX_DOUBLINGS))
        try:
            self._db.update_item(
                TableName=self._table, Key=key, UpdateExpression="SET open_until = :until ADD opens :one",
                ConditionExpression="attribute_not_exists(open_until) OR open_until <= :now",
                ExpressionAttributeValues=to_item({":until": until, ":one": 1, ":now": iso(now)}),
            )
        except Exception as err:
            if not is_condition_failure(err):
                raise
            return state
        return BreakerState(state.failures, state.opens + 1, until, state.probe_at)

    def _claim_probe(self, tenant_id: str, connector: str, state: BreakerState, now: datetime) -> bool:
        try:
            self._db.update_item(
                TableName=self._table, Key=_key(tenant_id, connector), UpdateExpression="SET probe_at = :now",
                ConditionExpression="attribute_not_exists(probe_at) OR probe_at < open_until",
                ExpressionAttributeValues=to_item({":now": iso(now)}),
            )
        except Exception as err:
            if is_condition_failure(err):
                return False
            raise
        self._remember(tenant_id, connector, BreakerState(state.failures, state.opens, state.open_until, iso(now)))
        return True

    def _state(self, tenant_id: str, connector: str) -> BreakerState:
        cached = self._cache.get((tenant_id, connector))
        if cached is not None and self._monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
        item = self._db.get_item(TableName=self._table, Key=_key(tenant_id, connector)).get("Item")
        state = BreakerState() if item is None else _state(from_item(item))
        self._remember(tenant_id, connector, state)
        return state

    def _remember(self, tenant_id: str, connector: str, state: BreakerState) -> None:
        self._cache[(tenant_id, connector)] = (self._monotonic(), state)


def _key(tenant_id: str, connector: str) -> Key:
    return TenantKeys(tenant_id).breaker(connector)


def _state(item: dict[str, Any]) -> BreakerState:
    return BreakerState(int(item.get("failures", 0)), int(item.get("opens", 0)),
                        str(item.get("open_until", "")), str(item.get("probe_at", "")))
