"""Standard Webhooks signatures (https://www.standardwebhooks.com/).

``webhook-signature: v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>``,
where key is the base64-decoded secret after its ``whsec_`` prefix. The header
may carry several space-separated signatures (secret rotation); one match is
enough. Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import datetime

from .errors import PluginConfigError, VerificationFailed

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 5 * 60


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret; missing base64 padding is tolerated."""
    raw = secret.removeprefix(SECRET_PREFIX)
    if not raw:
        raise PluginConfigError("webhook secret is empty")
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=False)
    except (binascii.Error, ValueError) as err:
        raise PluginConfigError("webhook secret is not base64") from err


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<b64>`` signature of one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three headers a sender attaches."""
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id, timestamp, body),
    }


def verify(
    secrets: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """Check a request signed by any of ``secrets``; return its ``webhook-id``.

    ``headers`` must have lower-case keys. Raises :class:`VerificationFailed`
    for a missing header, a timestamp outside the tolerance, or no matching
    signature.
    """
    msg_id = headers.get("webhook-id", "")
    stamp = headers.get("webhook-timestamp", "")
    offered = headers.get("webhook-signature", "")
    if not (msg_id and stamp and offered):
        raise VerificationFailed("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError as err:
        raise VerificationFailed("webhook-timestamp is not an integer") from err
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise VerificationFailed("webhook-timestamp is outside the replay window")
    candidates = [part for part in offered.split(" ") if part.startswith("v1,")]
    for secret in secrets:
        expected = sign(secret, msg_id, timestamp, body).encode()
        # compare against every candidate so timing does not reveal which matched
        matches = [hmac.compare_digest(expected, c.encode()) for c in candidates]
        if any(matches):
            return msg_id
    raise VerificationFailed("no valid signature")
