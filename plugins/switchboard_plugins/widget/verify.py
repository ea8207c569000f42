"""The ``widget`` channel's verification: the visitor's token, the page's origin, the hub's seal."""

from __future__ import annotations

from switchboard_sdk import visitor_tokens
from switchboard_sdk.errors import Unauthorized, VerificationFailed
from switchboard_sdk.visitor_tokens import SEAL_HEADER
from switchboard_sdk.webhooks import WebhookRequest

from .config import WidgetConfig

__all__ = ["SEAL_HEADER", "bearer", "claims_of", "verify_request"]


def bearer(request: WebhookRequest) -> str:
    """The token of ``Authorization: Bearer …``; :class:`VerificationFailed` without one."""
    scheme, _, token = (request.header("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise VerificationFailed("a visitor token is required (Authorization: Bearer …)")
    return token.strip()


def claims_of(request: WebhookRequest, config: WidgetConfig) -> visitor_tokens.VisitorClaims:
    """The verified claims of the request's token (signature, tenant, expiry)."""
    try:
        return visitor_tokens.verify(bearer(request), config.token_secret.get_secret_value(),
                                     request.tenant_id, request.received_at)
    except Unauthorized as err:
        raise VerificationFailed(err.message) from None


def verify_request(request: WebhookRequest, config: WidgetConfig) -> None:
    """Raise :class:`VerificationFailed` unless the token is genuine and current, the page's
    origin is allowed, and the hub sealed the request (it came through the widget routes)."""
    claims_of(request, config)
    if not config.allows(request.header("origin")):
        raise VerificationFailed("this site's origin is not allowed to use the widget")
    secret = config.token_secret.get_secret_value()
    if not visitor_tokens.check_seal(secret, request.tenant_id, bearer(request), request.body,
                                     request.header(SEAL_HEADER)):
        raise VerificationFailed("widget messages come through the hub's /widget routes")
