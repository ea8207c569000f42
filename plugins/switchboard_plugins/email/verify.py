"""The ``email`` channel's verification: Mailgun's signature (:mod:`.signing`) over
``timestamp + token``, a replay window, and the one-time token as the replay key.

Route POSTs carry the three values as form fields; event webhooks (JSON, see
:mod:`.events`) in the body's ``signature`` object. Both are signed with the same
HTTP webhook signing key and checked the same way."""

from __future__ import annotations

import hmac
import re
from datetime import datetime

from switchboard_sdk.errors import VerificationFailed
from switchboard_sdk.webhooks import WebhookRequest

from . import events
from .config import EmailConfig
from .form import Form, read_form
from .signing import mailgun_signature

FUTURE_SKEW_SECONDS = 300  # a timestamp this far ahead of our clock is clock drift, not forgery
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
_TOKEN = re.compile(r"[!-~]{1,256}")


def _field(value: str | None, name: str, shape: re.Pattern[str]) -> str:
    if value is None or not shape.fullmatch(value):
        raise VerificationFailed(f"missing or malformed {name}")
    return value


def check(fields: tuple[str | None, str | None, str | None], config: EmailConfig, now: datetime) -> None:
    """Raise :class:`VerificationFailed` unless ``(timestamp, token, signature)`` were
    signed with the configured key within ``[-FUTURE_SKEW_SECONDS, tolerance_seconds]`` of ``now``."""
    if config.mailgun_signing_key is None:
        raise VerificationFailed("no Mailgun signing key is configured for this tenant")
    timestamp = _field(fields[0], "timestamp", _TIMESTAMP)
    token = _field(fields[1], "token", _TOKEN)
    signature = _field(fields[2], "signature", _SIGNATURE)
    expected = mailgun_signature(config.mailgun_signing_key.get_secret_value(), timestamp, token)
    if not hmac.compare_digest(expected, signature.lower()):
        raise VerificationFailed("signature mismatch")
    age = now.timestamp() - int(timestamp)
    if age > config.tolerance_seconds or age < -FUTURE_SKEW_SECONDS:
        raise VerificationFailed("timestamp outside the replay window")


def verify(form: Form, config: EmailConfig, now: datetime) -> None:
    """Raise :class:`VerificationFailed` unless the configured key signed ``form``
    within the replay window (see :func:`check`)."""
    check((form.text("timestamp"), form.text("token"), form.text("signature")), config, now)


def verify_request(request: WebhookRequest, config: EmailConfig) -> None:
    """Raise :class:`VerificationFailed` unless ``request`` is a signed, fresh route
    POST or event webhook."""
    if events.is_json(request):
        check(events.signature_fields(events.read_body(request, verifying=True)), config, request.received_at)
        return
    verify(read_form(request, verifying=True), config, request.received_at)


def replay_key(request: WebhookRequest) -> str | None:
    """Mailgun's one-time ``token``, which the hub must never accept twice."""
    if events.is_json(request):
        return events.signature_fields(events.read_body(request))[1] or None
    return read_form(request).text("token") or None
