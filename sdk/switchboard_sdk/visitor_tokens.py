"""Visitor tokens of the web chat widget, and the identity hashes businesses compute.

A **visitor token** is what a browser holds instead of a password: the hub issues it
(``POST /widget/{tenant}/session``) and the ``widget`` channel verifies it on every
message. It is compact and self-contained — ``sbv1.<claims>.<mac>``, the claims as
base64url JSON and the MAC an HMAC-SHA256 of ``sbv1.<claims>`` — so checking one
costs no table read. The MAC key is derived from the widget channel's
``token_secret`` *and the tenant id*: a token of tenant A never verifies for tenant
B, even if both chose the same secret.

An **identity hash** is how a business vouches for a signed-in user without putting a
secret in the browser (as Intercom's identity verification): its backend computes
``hex(HMAC-SHA256(identity_secret, user_id))`` and hands it to the page with the
user id. :func:`identity_hash` is that computation, :func:`identity_matches` checks
one in constant time.

The **seal** is the hub's word to the channel that a widget request came through the
hub's widget routes (rate limits, upload checks): an HMAC over the token and the
body, under the same derived key. A request posted straight to
``/hooks/{tenant}/widget`` has none and is refused.

Every failure is :class:`~.errors.Unauthorized` (401) with a message that says what was
wrong (malformed, forged, expired, another tenant's) and never echoes the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from datetime import datetime

from .errors import Unauthorized

__all__ = ["MAX_TOKEN_CHARS", "PREFIX", "SEAL_HEADER", "VisitorClaims", "check_seal", "identity_hash",
           "identity_matches", "issue", "seal", "verify"]

PREFIX = "sbv1"
SEAL_HEADER = "x-switchboard-widget-seal"  # where the hub puts its seal on a forwarded widget message
MAX_TOKEN_CHARS = 2048
_KEY_LABEL = b"switchboard/widget-visitor/v1/"
_SEAL_LABEL = b"seal\x1f"


@dataclass(frozen=True)
class VisitorClaims:
    """Who a token speaks for. ``visitor`` is the hub-issued visitor id (``v_…``);
    ``user`` the business's user id when the page proved it with an identity hash, and
    then ``email`` too when the hash covered it. Times are Unix seconds."""

    tenant: str
    visitor: str
    issued_at: int
    expires_at: int
    user: str | None = None
    email: str | None = None
    name: str | None = None

    @property
    def identity_value(self) -> str:
        """The ``visitor`` identity the hub files messages under: the user's when verified."""
        return f"user:{self.user}" if self.user else self.visitor

    @property
    def folder(self) -> str:
        """The visitor's own folder for uploads (a digest: object keys name no user id)."""
        return hashlib.sha256(f"{self.tenant}\x1f{self.identity_value}".encode()).hexdigest()[:32]


def _key(secret: str, tenant: str) -> bytes:
    if len(secret) < 16:
        raise ValueError("a widget token secret has at least 16 characters")
    return hmac.new(secret.encode(), _KEY_LABEL + tenant.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if not text or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(claims: VisitorClaims, secret: str) -> str:
    """The signed token of ``claims`` under the tenant's ``secret``."""
    body = {k: v for k, v in asdict(claims).items() if v is not None}
    payload = _b64(json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode())
    signed = f"{PREFIX}.{payload}"
    mac = hmac.new(_key(secret, claims.tenant), signed.encode(), hashlib.sha256).digest()
    return f"{signed}.{_b64(mac)}"


def verify(token: str, secret: str, tenant: str, now: datetime, *, grace_seconds: int = 0) -> VisitorClaims:
    """The claims of a token this tenant's secret signed, unexpired (or expired less than
    ``grace_seconds`` ago: the hub renews a returning visitor's session with it).
    :class:`Unauthorized` otherwise; the signature is checked before anything it says."""
    parts = token.split(".") if len(token) <= MAX_TOKEN_CHARS else []
    if len(parts) != 3 or parts[0] != PREFIX:
        raise Unauthorized("the visitor token is malformed")
    try:
        mac = _unb64(parts[2])
    except ValueError:
        raise Unauthorized("the visitor token is malformed") from None
    expected = hmac.new(_key(secret, tenant), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise Unauthorized("the visitor token was not issued for this tenant (forged, or another tenant's)")
    claims = _claims(parts[1])
    if claims.tenant != tenant:  # only a shared secret and a tampered label could get here
        raise Unauthorized("the visitor token belongs to another tenant")
    if now.timestamp() >= claims.expires_at + grace_seconds:
        raise Unauthorized("the visitor token has expired: start a new session")
    return claims


def _claims(encoded: str) -> VisitorClaims:
    try:
        data = json.loads(_unb64(encoded))
        claims = VisitorClaims(**data)
    except (ValueError, TypeError):  # signed by us, so never expected: fail closed all the same
        raise Unauthorized("the visitor token is malformed") from None
    if not (isinstance(claims.expires_at, int) and isinstance(claims.issued_at, int)):
        raise Unauthorized("the visitor token is malformed")
    return claims


def identity_hash(identity_secret: str, value: str) -> str:
    """``hex(HMAC-SHA256(identity_secret, value))``: what a business's backend computes for a
    user id (or email) so the widget may act as that user."""
    return hmac.new(identity_secret.encode(), value.encode(), hashlib.sha256).hexdigest()


def identity_matches(identity_secret: str, value: str, given: str) -> bool:
    """Whether ``given`` is the identity hash of ``value`` (constant time; case-insensitive hex)."""
    expected = identity_hash(identity_secret, value)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode("ascii", "replace"))


def seal(secret: str, tenant: str, token: str, body: bytes) -> str:
    """The hub's seal over one widget request (token and body)."""
    digest = hashlib.sha256(body).digest()
    mac = hmac.new(_key(secret, tenant), _SEAL_LABEL + token.encode() + b"\x1f" + digest, hashlib.sha256)
    return _b64(mac.digest())


def check_seal(secret: str, tenant: str, token: str, body: bytes, given: str | None) -> bool:
    """Whether ``given`` is the hub's seal of this request (constant time)."""
    if not given:
        return False
    return hmac.compare_digest(seal(secret, tenant, token, body).encode(), given.encode("ascii", "replace"))
