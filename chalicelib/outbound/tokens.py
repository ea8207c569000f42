"""Provider access tokens shared by every container (:class:`~switchboard_sdk.SharedTokens`).

WeChat allows an account a few thousand token fetches a day, and a fetch makes
the previous token expire soon after: if every Lambda container fetched its own,
they would keep invalidating one another. One item per (tenant, plugin, name)
holds the current token; a container that finds none, an expired one, or the
one the provider just refused claims the refresh in one conditional write
(a lease of :data:`LEASE_SECONDS`; times in the item are epoch milliseconds), fetches, and writes the new token. Others
that find the lease taken read again after a short pause instead of fetching,
until the new token appears or the lease runs out (its holder died: they may
claim it then). So one fetch serves every container for the token's lifetime.

The token is kept until :data:`EARLY_SECONDS` before the provider's expiry (or
half its lifetime, if that is shorter), so no container uses one that expires on
the way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from switchboard_sdk import IssuedToken, Unavailable

from ..storage.keys import TenantKeys
from ..storage.table import TenantTable

LEASE_SECONDS = 10.0
EARLY_SECONDS = 300.0
WAIT_STEP_SECONDS = 0.1


class TableTokens(TenantTable):
    """One tenant's and plugin's shared tokens."""

    def __init__(self, client: Any, table_name: str, keys: TenantKeys, plugin: str,
                 clock: Callable[[], datetime], *, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(client, table_name, keys)
        self._plugin = plugin
        self._clock = clock
        self._sleep = sleep
        self.fetches = 0  # by this instance (benchmarks count them)

    def get(self, key: str, fetch: Callable[[], IssuedToken], *, rejected: str | None = None) -> str:
        item_key = self.keys.shared_token(self._plugin, key)
        waited = 0.0
        while True:
            now = int(self._clock().timestamp() * 1000)  # milliseconds: DynamoDB numbers are not floats
            item = self._get(item_key) or {}
            value = item.get("value")
            if value is not None and float(item.get("valid_until", 0)) > now and value != rejected:
                return str(value)
            if self._claim(item_key, item, now):
                return self._refresh(item_key, fetch, now)
            if waited > LEASE_SECONDS + 1.0:  # past a dead holder's lease, and nobody took over
                raise Unavailable("the provider token is being refreshed elsewhere and did not arrive in time")
            self._sleep(WAIT_STEP_SECONDS)
            waited += WAIT_STEP_SECONDS

    def _claim(self, item_key: dict[str, dict[str, str]], seen: dict[str, Any], now: int) -> bool:
        """The refresh lease, if nobody holds it; conditional on the token we saw, so a
        container that read a stale token cannot refresh one another just wrote."""
        condition = "(attribute_not_exists(lease_until) OR lease_until < :now)"
        values: dict[str, Any] = {":now": now, ":until": now + int(LEASE_SECONDS * 1000)}
        if "value" in seen:
            condition += " AND #v = :seen"
            values[":seen"] = seen["value"]
        else:
            condition += " AND attribute_not_exists(#v)"
        return self._update_if(item_key, "SET lease_until = :until", condition, values, {"#v": "value"})

    def _refresh(self, item_key: dict[str, dict[str, str]], fetch: Callable[[], IssuedToken], now: int) -> str:
        try:
            issued = fetch()
        except BaseException:
            self._update_if(item_key, "REMOVE lease_until", "attribute_exists(pk)", {})  # let the next one try
            raise
        self.fetches += 1
        # early, but never by more than half its life: a token handed out again near its end
        # (WeChat's stable_token) must not look expired at once and be fetched on every send
        lifetime = max(0.0, issued.expires_in - EARLY_SECONDS, issued.expires_in / 2)
        valid_until = now + int(lifetime * 1000)
        self._db.update_item(
            TableName=self._table, Key=item_key,
            UpdateExpression="SET #v = :v, valid_until = :until, tenant_id = :t, #ty = :ty, expires_at = :exp"
                             " REMOVE lease_until",
            ExpressionAttributeNames={"#v": "value", "#ty": "type"},
            ExpressionAttributeValues={":v": {"S": issued.value}, ":until": {"N": str(valid_until)},
                                       ":t": {"S": self.tenant_id}, ":ty": {"S": "shared_token"},
                                       ":exp": {"N": str(now // 1000 + int(issued.expires_in) + 86400)}},
        )
        return issued.value
