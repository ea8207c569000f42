"""The ``web`` channel's verification: a Standard Webhooks signature by one of the tenant's secrets."""

from __future__ import annotations

from switchboard_sdk import standard_webhooks
from switchboard_sdk.errors import VerificationFailed
from switchboard_sdk.webhooks import WebhookRequest

from .config import WebConfig


def _check_timestamp_header(request: WebhookRequest) -> None:
    # a huge integer would overflow the float comparison inside the SDK's verify
    stamp = request.header("webhook-timestamp")
    if stamp is not None and not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise VerificationFailed("webhook-timestamp is not a Unix timestamp")


def verify_request(request: WebhookRequest, config: WebConfig) -> None:
    """Raise :class:`VerificationFailed` unless one configured secret signed ``request``."""
    _check_timestamp_header(request)
    standard_webhooks.verify(
        [secret.get_secret_value() for secret in config.secrets],
        request.headers,
        request.body,
        now=request.received_at,
        tolerance_seconds=config.tolerance_seconds,
    )
