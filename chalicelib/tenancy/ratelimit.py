"""Per-tenant request rate limits, enforced across every Lambda container.

Each (tenant, bucket) — buckets are ``"webhook"``, ``"api"``, … — has one counter
item per fixed window in the table (``TenantKeys.rate_window``). A container
*leases* a block of tokens from it with one conditional ``UpdateItem``
(``ADD used :n`` only while ``used <= budget - n``) and spends them locally, so a
busy tenant costs one table call per lease, not per request, and all containers
together never admit more than the window's budget.

Lease size follows the container's own demand: it leases what it has already
admitted in this window (at least 1; half of the previous window's count when that
window was the one just before), capped at ``budget / leases_per_window``. A quiet
container leases one token at a time and strands nothing; a busy one doubles up to
the cap. A refused lease answers with the counter (``ReturnValuesOnConditionCheckFailure``):
while tokens remain, the container leases what is left; when none do, it refuses every
further request of that window without asking the table again.

When the table cannot be asked, the limiter fails open: the request is admitted, a
warning is logged once per window, and for the rest of the window this container
enforces the whole budget on its own (docs/limits.md explains why).
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from switchboard_sdk import RateLimited

from ..logs import log_event
from ..storage.aws import error_code, is_condition_failure
from ..storage.items import to_item
from ..storage.keys import Key, TenantKeys

log = logging.getLogger(__name__)

WINDOW_SECONDS = 1  # the shortest window; slower rates than 1 per window get longer ones
LEASES_PER_WINDOW = 20  # a full lease is 1/20 of the window's budget
EXPIRY_SECONDS = 60  # a counter's TTL, past the end of its window
MAX_SLOTS = 4096  # per-container states kept before ended windows are dropped
BUCKET = re.compile(r"[a-z][a-z0-9-]{0,31}")


@dataclass(frozen=True)
class Window:
    """One fixed window of one limit: ``budget`` requests from ``start`` (epoch s)."""

    start: int
    seconds: int
    budget: int

    @property
    def end(self) -> int:
        return self.start + self.seconds


def window_for(per_second: float, now: float, base_seconds: int = WINDOW_SECONDS) -> Window:
    """The window ``now`` falls in, for a limit of ``per_second`` requests/s.

    Windows are ``base_seconds`` long, or ``ceil(1 / per_second)`` when that is
    longer, so every window admits at least one request. The budget is
    ``per_second * seconds`` rounded down: fractional rates never admit more.
    """
    if not (math.isfinite(per_second) and per_second > 0):
        raise ValueError(f"a rate limit must be a positive number of requests/s, got {per_second!r}")
    seconds = max(base_seconds, math.ceil(1 / per_second - 1e-9))
    budget = max(1, math.floor(per_second * seconds + 1e-9))
    return Window(int(now // seconds) * seconds, seconds, budget)


class _Unavailable(Exception):
    """The table could not be asked."""


@dataclass
class _Slot:
    """One container's view of one (tenant, bucket); guarded by ``lock``."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    start: int = -1
    end: int = 0
    tokens: int = 0  # leased here, not yet spent
    spent: int = 0  # admitted here in this window
    previous: int = 0  # admitted here in the window just before
    exhausted: bool = False  # the table has nothing left in this window
    degraded: bool = False  # the table failed in this window: this container limits alone

    def roll(self, window: Window) -> None:
        self.previous = self.spent if self.end == window.start else 0
        self.start, self.end, self.tokens, self.spent = window.start, window.end, 0, 0
        self.exhausted = self.degraded = False


class RateLimiter:
    """Admits requests per (tenant, bucket) within a caller-given rate; thread-safe."""

    def __init__(self, client: Any, table_name: str, clock: Callable[[], datetime], *,
                 window_seconds: int = WINDOW_SECONDS, leases_per_window: int = LEASES_PER_WINDOW) -> None:
        if window_seconds < 1 or leases_per_window < 1:
            raise ValueError("window_seconds and leases_per_window must be at least 1")
        self._db, self._table, self._clock = client, table_name, clock
        self._window_seconds, self._leases = window_seconds, leases_per_window
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._slots_lock = threading.Lock()

    def check(self, tenant_id: str, bucket: str, per_second: float) -> None:
        """Admit one request, or raise :class:`RateLimited` (429, ``Retry-After``:
        seconds until the window ends)."""
        keys = TenantKeys(tenant_id)
        if not BUCKET.fullmatch(bucket):
            raise ValueError("invalid rate-limit bucket")
        now = self._clock().timestamp()
        window = window_for(per_second, now, self._window_seconds)
        slot = self._slot(tenant_id, bucket, now)
        with slot.lock:
            if (slot.start, slot.end) != (window.start, window.end):
                slot.roll(window)
            if slot.tokens == 0 and not slot.exhausted:
                slot.tokens = self._refill(keys.rate_window(bucket, window.start), slot, window)
                slot.exhausted = slot.tokens == 0
            if slot.tokens == 0:
                raise RateLimited(f"over the limit of {per_second:g} {bucket} requests/s",
                                  retry_after_seconds=math.ceil(window.end - now))
            slot.tokens -= 1
            slot.spent += 1

    def _slot(self, tenant_id: str, bucket: str, now: float) -> _Slot:
        with self._slots_lock:
            slot = self._slots.get((tenant_id, bucket))
            if slot is None:
                if len(self._slots) >= MAX_SLOTS:
                    self._slots = {k: s for k, s in self._slots.items() if s.end > now}
                slot = self._slots[(tenant_id, bucket)] = _Slot()
            return slot

    def _refill(self, key: Key, slot: _Slot, window: Window) -> int:
        """Tokens for this container: a lease, what is left when less, or 0."""
        if slot.degraded:  # the whole rest of the budget was handed out when the table failed
            return 0
        cap = max(1, window.budget // self._leases)
        want = min(cap, max(1, slot.spent, slot.previous // 2))
        try:
            # each refusal reports fewer tokens left than the one before: this ends
            while (left := self._lease(key, want, window)) < want:
                if left <= 0:
                    return 0
                want = left
            return want
        except _Unavailable as err:
            return self._fail_open(key, slot, window, str(err))

    def _lease(self, key: Key, n: int, window: Window) -> int:
        """Take ``n`` tokens if the window has them; returns how many it had (taken when ``>= n``)."""
        try:
            result = self._db.update_item(
                TableName=self._table, Key=key,
                UpdateExpression="SET #t = :t, expires_at = :exp ADD used :n",
                ConditionExpression="attribute_not_exists(used) OR used <= :most",
                ExpressionAttributeNames={"#t": "type"},
                ExpressionAttributeValues=to_item({":t": "rate_window", ":exp": window.end + EXPIRY_SECONDS,
                                                   ":n": n, ":most": window.budget - n}),
                ReturnValues="UPDATED_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except Exception as err:
            if not is_condition_failure(err):
                raise _Unavailable(error_code(err) or type(err).__name__) from err
            # ReturnValuesOnConditionCheckFailure: the window as it was
            used = (getattr(err, "response", None) or {}).get("Item", {}).get("used", {}).get("N")
            return 0 if used is None else window.budget - int(used)
        return window.budget - int(result["Attributes"]["used"]["N"]) + n

    def _fail_open(self, key: Key, slot: _Slot, window: Window, reason: str) -> int:
        """Admit the rest of the window's budget from this container alone (logged once a window)."""
        slot.degraded = True
        log_event(log, "ratelimit.unavailable", level=logging.WARNING, key=key["pk"]["S"], reason=reason,
                  action="failing open: this container enforces the limit alone")
        return max(0, window.budget - slot.spent)
