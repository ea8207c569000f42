"""The shared outcome table: HTTP results → :class:`DeliveryOutcome`.

Connectors call :func:`classify` for every response and :func:`unreachable` for
every transport failure, and override only their vendor's quirks (a CRM that
answers 200 with an error body, a 401 that a token refresh fixes). ::

    2xx                                  delivered
    408, 425, 429, 5xx, no response      retry (after Retry-After when given)
    3xx, other 4xx                       failed (a configuration or payload problem)

Reasons are shown to tenants: they carry the status and a short, printable body
excerpt, never request headers; :func:`redact` removes secrets a receiver echoed.

Stopping early: code deep inside a delivery that knows the outcome raises
:class:`OutcomeReached` (``raise OutcomeReached(classify(response, now))``), and the
connector's deliver function returns ``redact(settle(lambda: run(...)), secrets)``;
no other exception, flag or union return carries an outcome. ::

    def deliver(event, config, context):
        outcome = outcomes.settle(lambda: sync(event, Client(config, context)))
        return outcomes.redact(outcome, [config.api_key.get_secret_value()])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from .errors import ConnectorError, OutcomeReached
from .models import DeliveryOutcome
from .transport import HttpResponse

RETRY_STATUSES = frozenset({408, 425, 429})  # plus every 5xx
MAX_RETRY_AFTER_SECONDS = 3600.0
MAX_REASON_DETAIL = 200


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A response header, whatever the case of its name."""
    wanted = name.lower()
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or HTTP-date), capped."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        seconds = float(value) if len(value) <= 10 else MAX_RETRY_AFTER_SECONDS
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = (_aware(when) - _aware(now)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def snippet(body: bytes) -> str:
    """A short printable excerpt of a response body, for tenants debugging a 4xx."""
    text = body[: MAX_REASON_DETAIL * 4].decode("utf-8", "replace")
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text[:MAX_REASON_DETAIL] + ("…" if len(text) > MAX_REASON_DETAIL else "")


def reason(response: HttpResponse, note: str = "") -> str:
    excerpt = snippet(response.body)
    parts = [f"receiver answered {response.status}", note, excerpt and f"body: {excerpt}"]
    return "; ".join(part for part in parts if part)


def classify(response: HttpResponse, now: datetime) -> DeliveryOutcome:
    """The default table above for one HTTP response."""
    status = response.status
    if 200 <= status < 300:
        return DeliveryOutcome.delivered(status)
    if status in RETRY_STATUSES or 500 <= status < 600:
        after = retry_after(header(response.headers, "retry-after"), now)
        return DeliveryOutcome.retry(reason(response), status_code=status, after=after)
    note = "redirects are not followed; configure the final URL" if 300 <= status < 400 else ""
    return DeliveryOutcome.failed(reason(response, note), status_code=status)


def unreachable(err: ConnectorError) -> DeliveryOutcome:
    """No response at all (refused, reset, timed out): retried when it may pass."""
    text = f"receiver unreachable: {err.message}"[: MAX_REASON_DETAIL + 50]
    return DeliveryOutcome.retry(text) if err.retryable else DeliveryOutcome.failed(text)


def settle(run: Callable[[], DeliveryOutcome]) -> DeliveryOutcome:
    """The outcome of one delivery: what ``run`` returns, or what the
    :class:`OutcomeReached` raised inside it carries. Other exceptions pass: they
    are bugs, which the hub logs and retries."""
    try:
        return run()
    except OutcomeReached as stop:
        return stop.outcome


def redact(outcome: DeliveryOutcome, secrets: Iterable[str]) -> DeliveryOutcome:
    """``outcome`` with every secret a receiver may have echoed replaced."""
    text = outcome.reason
    for secret in secrets:
        if secret and len(secret) >= 6 and secret in text:
            text = text.replace(secret, "[redacted]")
    return outcome if text == outcome.reason else outcome.model_copy(update={"reason": text})
