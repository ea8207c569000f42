"""Agents' session tokens: Cognito JWTs, verified by the hub itself on every call.

Only RS256 is accepted (``alg: none``, HS256 — the public key used as a shared
secret — and everything else are refused before any key is looked at). The
signature is checked against the user pool's JWKS, fetched through an injected
function and cached per container; an unknown ``kid`` (Cognito rotated its keys)
fetches the set again, at most once a minute. Then the issuer (the pool), the
expiry (with a small leeway), and the token's use: an ID token's ``aud`` or an
access token's ``client_id`` must be the hub's app client.

Every refusal is :class:`InvalidToken` (401 ``invalid_token``) with one message,
so an answer never tells a forger which check failed; a token that was valid but
has expired is :class:`ExpiredToken` (401 ``token_expired``: refresh it).
PyJWT (with cryptography) is imported on first verification, never by the
webhook path.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from switchboard_sdk import Unauthorized, Unavailable

from ..logs import log_event

log = logging.getLogger(__name__)

ALGORITHM = "RS256"
LEEWAY_SECONDS = 30  # clock skew between Cognito and this container
REFETCH_SECONDS = 60  # an unknown kid fetches the JWKS again at most this often
FETCH_TIMEOUT_SECONDS = 3.0
MAX_TOKEN_CHARS = 8192  # Cognito's tokens are 1-2 KB; a longer one is refused unparsed
# header.payload.signature, each base64url; a JSON header always starts "eyJ" ('{"')
JWT_SHAPE = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class InvalidToken(Unauthorized):
    """Not a token of this hub's user pool and app client (whatever the reason)."""

    code = "invalid_token"

    def __init__(self, message: str = "the session token is not valid; sign in again") -> None:
        super().__init__(message)


class ExpiredToken(InvalidToken):
    """A token this hub issued whose time is up."""

    code = "token_expired"

    def __init__(self) -> None:
        super().__init__("the session has expired: refresh it (POST /v1/session/refresh) or sign in again")


@dataclass(frozen=True)
class AgentClaims:
    """What the hub takes from a verified token."""

    sub: str
    token_use: Literal["id", "access"]
    expires_at: int
    tenant_id: str | None = None  # custom:tenant_id (ID tokens carry it)
    email: str | None = None


def looks_like_jwt(token: str) -> bool:
    """A JWT's shape (three base64url parts), as opposed to an API key (``sbk_...``)."""
    return bool(JWT_SHAPE.fullmatch(token))


def fetch_url(url: str) -> bytes:
    """GET ``url`` (the default JWKS fetch): a short timeout, the body or an error."""
    from urllib.request import Request, urlopen

    if not url.startswith(("https://", "http://")):
        raise ValueError("the JWKS URL must be http(s)")
    # the URL comes from the deployment's settings, never from a caller
    with urlopen(Request(url, headers={"Accept": "application/json"}), timeout=FETCH_TIMEOUT_SECONDS) as answer:  # noqa: S310
        body: bytes = answer.read(1024 * 1024)
    return body


class Jwks:
    """The pool's signing keys by ``kid``, fetched on first use and cached."""

    def __init__(self, url: str, fetch: Callable[[str], bytes], clock: Callable[[], datetime],
                 refetch_seconds: float = REFETCH_SECONDS) -> None:
        self._url = url
        self._fetch = fetch
        self._clock = clock
        self._refetch = refetch_seconds
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0  # how often the set was fetched (tests, benchmarks)

    def key(self, kid: str) -> Any:
        """The public key named ``kid``; :class:`InvalidToken` when the pool has none."""
        with self._lock:
            if kid not in self._keys and self._may_fetch():
                self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise InvalidToken()
        return key

    def _may_fetch(self) -> bool:
        now = self._clock().timestamp()
        return not self._keys or self._fetched_at is None or now - self._fetched_at >= self._refetch

    def _refresh(self) -> None:
        self._fetched_at = self._clock().timestamp()
        self.fetches += 1
        try:
            keys = _parse_jwks(self._fetch(self._url))
        except Exception as err:
            log_event(log, "jwks.unavailable", level=logging.WARNING, error=type(err).__name__)
            if not self._keys:  # nothing to verify with: the caller is not at fault
                raise Unavailable("agent sign-in keys could not be fetched; try again") from err
            return
        self._keys = keys


def _parse_jwks(body: bytes) -> dict[str, Any]:
    """``{kid: public key}`` of the set's RSA signing keys."""
    from jwt.algorithms import RSAAlgorithm

    keys = {}
    for jwk in json.loads(body)["keys"]:
        if jwk.get("kty") == "RSA" and jwk.get("use", "sig") == "sig" and jwk.get("alg", ALGORITHM) == ALGORITHM:
            keys[str(jwk["kid"])] = RSAAlgorithm.from_jwk(json.dumps(jwk))
    if not keys:
        raise ValueError("the JWKS holds no RS256 signing key")
    return keys


class TokenVerifier:
    """Verifies the tokens of one user pool and app client. Unconfigured (no pool
    or client id), it refuses every token."""

    def __init__(self, *, issuer: str, client_id: str, jwks_url: str, clock: Callable[[], datetime],
                 fetch: Callable[[str], bytes] | None = None, leeway_seconds: int = LEEWAY_SECONDS) -> None:
        self._issuer = issuer
        self._client_id = client_id
        self._clock = clock
        self._leeway = leeway_seconds
        self.jwks = Jwks(jwks_url, fetch or fetch_url, clock)

    @property
    def configured(self) -> bool:
        return bool(self._issuer and self._client_id)

    def verify(self, token: str) -> AgentClaims:
        """The claims of a valid token; :class:`InvalidToken` or :class:`ExpiredToken` otherwise."""
        import jwt

        if not self.configured or len(token) > MAX_TOKEN_CHARS or not looks_like_jwt(token):
            raise InvalidToken()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as err:
            raise InvalidToken() from err
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise InvalidToken()
        try:
            claims = jwt.decode(token, self.jwks.key(kid), algorithms=[ALGORITHM], issuer=self._issuer, options={
                # expiry is checked below against the hub's clock; the audience per token use
                "verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False,
                "require": ["exp", "iat", "iss", "sub", "token_use"],
            })
        except jwt.PyJWTError as err:
            raise InvalidToken() from err
        return self._checked(claims)

    def _checked(self, claims: dict[str, Any]) -> AgentClaims:
        now = self._clock().timestamp()
        exp, iat, use = claims["exp"], claims["iat"], claims["token_use"]
        if not _number(exp) or not _number(iat) or iat > now + self._leeway:
            raise InvalidToken()
        audience = claims.get("aud") if use == "id" else claims.get("client_id") if use == "access" else None
        if audience != self._client_id or not isinstance(claims["sub"], str) or not claims["sub"]:
            raise InvalidToken()
        if exp + self._leeway <= now:
            raise ExpiredToken()
        tenant, email = claims.get("custom:tenant_id"), claims.get("email")
        return AgentClaims(sub=claims["sub"], token_use=use, expires_at=int(exp),
                           tenant_id=tenant if isinstance(tenant, str) else None,
                           email=email if isinstance(email, str) else None)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
