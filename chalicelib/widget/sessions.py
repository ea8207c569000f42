"""``POST /widget/{tenant}/session``: a visitor token, and what the widget needs to draw itself.

Visitor ids are the hub's (``v_`` and 128 random bits), never the browser's choice: the
id is what a poll reads the conversation by. A returning browser sends its previous
token (even expired, up to :data:`RENEW_WITHIN`): when its signature holds and it was
for the same person (anonymous, or the same verified user), the visitor keeps their id
and so their conversation.

A signed-in user is vouched for by the business's backend: ``user_hash`` =
hex HMAC-SHA256(identity_secret, user_id) and, to link their email, ``email_hash`` the
same of the email. A hash that does not match is 401 — never a silent downgrade to an
anonymous visitor, which would hide the business's bug and file the user's messages
under a stranger.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from switchboard_sdk import InvalidInput, Unauthorized, visitor_tokens
from switchboard_sdk.visitor_tokens import VisitorClaims

from .http import WidgetSettings

RENEW_WITHIN = timedelta(days=30)  # a previous token this old (past its expiry) still keeps the visitor's id
LANGUAGES = ("en", "zh")
Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]


class SessionRequest(BaseModel):
    """What the widget sends: its previous token, and the signed-in user the page vouches for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    visitor_token: str | None = Field(default=None, max_length=visitor_tokens.MAX_TOKEN_CHARS)
    user_id: Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,128}$")] | None = None
    user_hash: Hex64 | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=320,
                                            pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    email_hash: Hex64 | None = None
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    language: Literal["en", "zh"] | None = None


def verified_identity(widget: WidgetSettings, asked: SessionRequest) -> tuple[str | None, str | None, str | None]:
    """``(user, email, name)`` the page proved, or ``(None, None, None)`` for an anonymous
    visitor; :class:`Unauthorized` for a hash that does not match, :class:`InvalidInput` for
    an email or name without a user."""
    if asked.user_id is None:
        if asked.user_hash or asked.email or asked.email_hash or asked.name:
            raise InvalidInput("user_hash, email and name come with a user_id",
                               [{"field": "user_id", "message": "missing"}])
        return None, None, None
    secret = widget.identity_secret
    if secret is None:
        raise Unauthorized("identity verification is not set up for this widget (identity_secret)")
    if not asked.user_hash or not visitor_tokens.identity_matches(secret, asked.user_id, asked.user_hash):
        raise Unauthorized("user_hash is not the HMAC of user_id by this widget's identity secret")
    if asked.email is not None and not (
            asked.email_hash and visitor_tokens.identity_matches(secret, asked.email, asked.email_hash)):
        raise Unauthorized("email_hash is not the HMAC of email by this widget's identity secret")
    return asked.user_id, asked.email, asked.name


def visitor_id(widget: WidgetSettings, tenant_id: str, asked: SessionRequest, user: str | None,
               now: datetime) -> str:
    """The previous token's visitor id when it is genuine, recent and the same person's; else a new one."""
    if asked.visitor_token:
        try:
            previous = visitor_tokens.verify(asked.visitor_token, widget.token_secret, tenant_id, now,
                                             grace_seconds=int(RENEW_WITHIN.total_seconds()))
        except Unauthorized:
            previous = None
        if previous is not None and previous.user == user:
            return previous.visitor
    return "v_" + secrets.token_urlsafe(16)


def open_session(widget: WidgetSettings, tenant_id: str, asked: SessionRequest, now: datetime,
                 help_url: Callable[[], str | None]) -> dict[str, Any]:
    """The session's answer: token, visitor id, expiry and the widget's look."""
    user, email, name = verified_identity(widget, asked)
    issued = int(now.timestamp())
    claims = VisitorClaims(tenant=tenant_id, visitor=visitor_id(widget, tenant_id, asked, user, now),
                           issued_at=issued, expires_at=issued + widget.token_ttl_seconds, user=user, email=email,
                           name=name)
    return {
        "token": visitor_tokens.issue(claims, widget.token_secret), "visitor_id": claims.visitor,
        "identity": "user" if user else "visitor",
        "expires_at": datetime.fromtimestamp(claims.expires_at, UTC).isoformat(),
        "config": {"welcome": widget.welcome, "colour": widget.colour, "languages": list(LANGUAGES),
                   "help_centre_url": help_url() if widget.help_centre else None},
    }
