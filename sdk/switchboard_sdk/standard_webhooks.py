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
from typing import Annotated

from pydantic import AfterValidator, SecretStr

from .errors import PluginConfigError, VerificationFailed

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
DEFAULT_TOLERANCE_SECONDS = 5 * 60
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64  # the specification's recommendation
MAX_TIMESTAMP_DIGITS = 12  # far beyond any real clock; keeps int→float safe


def decode_secret(secret: str) -> bytes:
    """The HMAC key of a secret (``whsec_`` prefix optional, padding optional).

    Strict base64: a stray character is an error, not silently skipped, since
    skipping it would change the key.
    """
    raw = secret.removeprefix(SECRET_PREFIX)
    if not raw:
        raise PluginConfigError("webhook secret is empty")
    try:
        return base64.b64decode(raw + "=" * (-len(raw) % 4), validate=True)
    except (binascii.Error, ValueError) as err:
        raise PluginConfigError("webhook secret is not base64") from err


def _check_config_secret(secret: SecretStr) -> SecretStr:
    value = secret.get_secret_value()
    if not value.startswith(SECRET_PREFIX):
        raise ValueError("secret must start with 'whsec_'")
    try:
        key = decode_secret(value)
    except PluginConfigError:
        raise ValueError("secret is not valid base64 after 'whsec_'") from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValueError(f"secret must decode to {MIN_KEY_BYTES}..{MAX_KEY_BYTES} bytes")
    return secret


WhsecSecret = Annotated[SecretStr, AfterValidator(_check_config_secret)]
"""A config field holding a ``whsec_`` secret, validated and never echoed."""


def sign(secret: str, msg_id: str, timestamp: int | str, body: bytes) -> str:
    """The ``v1,<b64>`` signature of one message (timestamp signed as sent)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    secret: str, msg_id: str, timestamp: int, body: bytes, *, previous: Iterable[str] = ()
) -> dict[str, str]:
    """The three headers a sender attaches. With ``previous`` secrets (a rotation)
    the signature header carries one space-separated signature per secret, so a
    receiver verifying with either the new or an old secret accepts it."""
    signatures = [sign(key, msg_id, timestamp, body) for key in (secret, *previous)]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
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
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= MAX_TIMESTAMP_DIGITS):
        raise VerificationFailed("webhook-timestamp is not a Unix time in seconds")
    if abs(now.timestamp() - int(stamp)) > tolerance_seconds:
        raise VerificationFailed("webhook-timestamp is outside the replay window")
    candidates = [part for part in offered.split(" ") if part.startswith("v1,")]
    for secret in secrets:
        # sign the header exactly as received: "01614265330" is not "1614265330"
        expected = sign(secret, msg_id, stamp, body).encode()
        # compare against every candidate so timing does not reveal which matched
        matches = [hmac.compare_digest(expected, c.encode()) for c in candidates]
        if any(matches):
            return msg_id
    raise VerificationFailed("no valid signature")
