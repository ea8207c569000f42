"""HTTP to HubSpot's CRM v3 API: bearer auth, one time budget per delivery, JSON,
and HubSpot's failure quirks on top of the shared outcome table.

A call that does not succeed raises :class:`~switchboard_sdk.errors.OutcomeReached`
carrying the classified :class:`DeliveryOutcome`; ``deliver.deliver`` settles it,
so the record logic reads as the happy path. Quirks over :mod:`switchboard_sdk.outcomes`::

    401   failed: the private-app token was rejected (never retried: it will not heal)
    403   failed, hinting at the private app's scopes
    400   failed; PROPERTY_DOESNT_EXIST hints at the switchboard_* custom properties
    429   retry after Retry-After, else after the X-HubSpot-RateLimit interval
    409   returned to the caller on create ("already exists": look it up)
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from switchboard_sdk import outcomes
from switchboard_sdk.errors import ConnectorError, OutcomeReached
from switchboard_sdk.models import DeliveryOutcome
from switchboard_sdk.transport import DeliveryContext, HttpResponse

from .config import HubSpotConfig

USER_AGENT = "Switchboard-HubSpot/0.1"


@dataclass(frozen=True)
class Reply:
    status: int
    data: dict[str, Any]


@dataclass
class HubSpotClient:
    """One delivery's view of HubSpot: every call shares ``context.timeout_seconds``."""

    config: HubSpotConfig
    context: DeliveryContext
    deadline: float = 0.0
    last_status: int | None = field(default=None, init=False)

    @classmethod
    def start(cls, config: HubSpotConfig, context: DeliveryContext) -> HubSpotClient:
        # the worker's timeout bounds the whole delivery (several calls), not each call
        return cls(config, context, time.monotonic() + context.timeout_seconds)

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, *, allow: tuple[int, ...] = ()) -> Reply:
        """One JSON request; a status in ``allow`` is returned instead of raised."""
        response = self._send(method, path, body)
        self.last_status = response.status
        if 200 <= response.status < 300 or response.status in allow:
            return Reply(response.status, _json_object(response))
        raise OutcomeReached(failure(response, self.context.clock()))

    def _send(self, method: str, path: str, body: dict[str, Any] | None) -> HttpResponse:
        # rounded: the transport quotes the timeout in its reason ("no response within 0.2s")
        timeout = round(min(self.config.timeout_seconds, self.deadline - time.monotonic()), 2)
        if timeout <= 0:
            budget = f"{self.context.timeout_seconds:g}s"
            raise OutcomeReached(DeliveryOutcome.retry(f"HubSpot calls did not finish within {budget}"))
        payload = None if body is None else json.dumps(body, separators=(",", ":")).encode()
        try:
            return self.context.http.request(
                method, self.config.api_root + path, headers=self._headers(), body=payload, timeout=timeout
            )
        except ConnectorError as err:  # TransportError: refused, reset, timed out
            raise OutcomeReached(outcomes.unreachable(err)) from err

    def _headers(self) -> dict[str, str]:
        return {
            "authorization": f"Bearer {self.config.access_token.get_secret_value()}",
            "content-type": "application/json",
            "accept": "application/json",
            "user-agent": USER_AGENT,
        }


def _json_object(response: HttpResponse) -> dict[str, Any]:
    try:
        data = json.loads(response.body or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        # a proxy's HTML page on a 2xx: nothing to act on, but nothing proves it permanent
        note = outcomes.reason(response, "not a JSON object")
        raise OutcomeReached(DeliveryOutcome.retry(note, status_code=response.status))
    return data


# -- classification ---------------------------------------------------------------------

AUTH_REJECTED = "HubSpot rejected the access token (401); check the private app's token"
SCOPES_HINT = "the private app lacks a scope listed in docs/connectors/hubspot.md"
PROPERTIES_HINT = "create the switchboard_* custom properties listed in docs/connectors/hubspot.md"


def failure(response: HttpResponse, now: datetime) -> DeliveryOutcome:
    """A non-2xx HubSpot answer, classified."""
    status = response.status
    if status == 401:
        # no body excerpt: nothing in it helps, and a proxy might echo the Authorization header
        return DeliveryOutcome.failed(AUTH_REJECTED, status_code=401)
    if status == 429:
        note = "rate limited" + (" (daily limit reached)" if _daily_limit_reached(response) else "")
        after = rate_limit_wait(response, now)
        return DeliveryOutcome.retry(outcomes.reason(response, note), status_code=429, after=after)
    if status == 403:
        return DeliveryOutcome.failed(outcomes.reason(response, SCOPES_HINT), status_code=403)
    if status == 400 and b"PROPERTY_DOESNT_EXIST" in response.body:
        return DeliveryOutcome.failed(outcomes.reason(response, PROPERTIES_HINT), status_code=400)
    return outcomes.classify(response, now)


def rate_limit_wait(response: HttpResponse, now: datetime) -> float | None:
    """Seconds to wait after a 429: ``Retry-After`` when sent, else the rolling window."""
    after = outcomes.retry_after(outcomes.header(response.headers, "retry-after"), now)
    if after is not None:
        return after
    remaining = outcomes.header(response.headers, "x-hubspot-ratelimit-remaining")
    interval = outcomes.header(response.headers, "x-hubspot-ratelimit-interval-milliseconds") or ""
    if remaining is not None and remaining.strip() == "0" and interval.strip().isdigit():
        # the burst window (10 s for private apps) is the longest it can take to free up
        return min(int(interval) / 1000, outcomes.MAX_RETRY_AFTER_SECONDS)
    return None


def _daily_limit_reached(response: HttpResponse) -> bool:
    return (outcomes.header(response.headers, "x-hubspot-ratelimit-daily-remaining") or "").strip() == "0"
