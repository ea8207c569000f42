"""The ``/widget/{tenant}/…`` routes, behind ``app.py``: the same checks in the same order for all.

1. The tenant is active and has the ``widget`` channel enabled (else 404), and the
   request's ``Origin`` is one it allows (else 403 ``origin_not_allowed``, no CORS
   header). ``OPTIONS`` preflights end here.
2. The visitor's token (``Authorization: Bearer``): genuine, this tenant's, current
   (401). Sessions have none yet.
3. Rate limits (:mod:`chalicelib.tenancy.ratelimit`, 429 with ``Retry-After``): sessions
   per client IP; messages, uploads, CSAT and feedback per visitor *and* per IP. Checked
   after the token, so a forged token spends nobody's budget. Polls are reads (one
   ``GetItem`` most of the time) and are not counted: counting them would cost a write
   each, more than the poll.
4. The route's own work. Messages go through the one door, ``hub.ingestor.handle``,
   as a ``widget`` channel request the hub seals: the channel verifies token, origin
   and seal, and the ingestor does what it does for every channel (the tenant's rate,
   one conditional write per message, quarantine).

Errors are answered here in the API's shape, with CORS headers once the origin is
known to be allowed, so the widget can read why (a 429's ``Retry-After`` too).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from switchboard_sdk import (
    NotFound,
    SwitchboardError,
    Unauthorized,
    WebhookRequest,
    WebhookResponse,
    visitor_tokens,
)
from switchboard_sdk.visitor_tokens import SEAL_HEADER, VisitorClaims

from ..settings import Settings
from ..tenancy.retention import Retention
from ..tenancy.tenants import TenantDirectory
from .actions import CsatRequest, FeedbackRequest, HandOffRequest, VisitorActions
from .conversation import Conversations
from .http import WidgetSettings, answer, body_of, entity_tags, error, preflight
from .sessions import SessionRequest, open_session
from .uploads import UploadRequest, Uploads

CHANNEL = "widget"
Limit = Callable[[str, str, float], None]  # (tenant, bucket, requests/s): RateLimiter.check


class OutgoingMessage(BaseModel):
    """What the widget posts; ``attachments`` are keys the upload step handed out."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    client_message_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    text: str = Field(default="", max_length=10_000)
    attachments: list[Annotated[str, StringConstraints(max_length=512)]] = Field(default_factory=list, max_length=5)
    language: Literal["en", "zh"] | None = None
    page_url: Annotated[str, StringConstraints(max_length=2048)] | None = None


@dataclass(frozen=True)
class Visit:
    """One request, its tenant's widget and (after the token check) who is asking."""

    request: WebhookRequest
    widget: WidgetSettings
    origin: str
    retention: Retention
    claims: VisitorClaims | None = None

    @property
    def visitor(self) -> VisitorClaims:
        assert self.claims is not None  # routes that need a visitor check the token first
        return self.claims


@dataclass
class WidgetApi:
    settings: Settings
    tenants: TenantDirectory
    limit: Limit
    clock: Callable[[], datetime]
    ingest: Callable[[WebhookRequest], WebhookResponse]
    conversations: Conversations
    uploads: Uploads
    actions: VisitorActions

    def handle(self, route: str, request: WebhookRequest) -> WebhookResponse:
        """Answer one widget request (``route``: ``session``, ``messages``, ``uploads``, ``csat``,
        ``feedback``, ``handoff``); ``OPTIONS`` is the preflight of any of them."""
        origin: str | None = None
        try:
            visit = self._visit(request)
            origin = visit.origin
            if request.method == "OPTIONS":
                return preflight(origin)
            return self._route(route, request.method, visit)
        except SwitchboardError as err:
            return error(err, origin)

    def _visit(self, request: WebhookRequest) -> Visit:
        tenant = self.tenants.get(request.tenant_id)
        if tenant.status != "active" or not tenant.enabled(CHANNEL):
            raise NotFound("this tenant has no web chat widget")
        widget = WidgetSettings.of(self.tenants.plugin_config(tenant, CHANNEL))
        return Visit(request, widget, widget.check_origin(request), Retention.of(tenant.settings))

    def _route(self, route: str, method: str, visit: Visit) -> WebhookResponse:
        if (route, method) == ("session", "POST"):
            return self._session(visit)
        visit = replace(visit, claims=self._claims(visit))
        if (route, method) == ("messages", "GET"):
            return self._poll(visit)
        self._spend(visit)
        work: dict[str, Callable[[Visit], WebhookResponse]] = {
            "messages": self._post, "uploads": self._upload, "csat": self._csat, "feedback": self._feedback,
            "handoff": self._hand_off}
        if route not in work or method != "POST":
            raise NotFound("no such widget route")
        return work[route](visit)

    def _claims(self, visit: Visit) -> VisitorClaims:
        scheme, _, token = (visit.request.header("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("a visitor token is required (Authorization: Bearer …): start a session first")
        return visitor_tokens.verify(token.strip(), visit.widget.token_secret, visit.request.tenant_id, self.clock())

    def _spend(self, visit: Visit, *, per_visitor: bool = True) -> None:
        tenant = visit.request.tenant_id
        if per_visitor:
            self.limit(tenant, _bucket("wv", visit.visitor.identity_value), self.settings.widget_visitor_rate)
        self.limit(tenant, _bucket("wi", visit.request.source_ip or "unknown"), self.settings.widget_ip_rate)

    # -- the routes -------------------------------------------------------------------

    def _session(self, visit: Visit) -> WebhookResponse:
        self._spend(visit, per_visitor=False)
        asked = body_of(visit.request, SessionRequest) if visit.request.body else SessionRequest()
        base = visit.request.public_url.split("/widget/", 1)[0]
        body = open_session(visit.widget, visit.request.tenant_id, asked, self.clock(),
                            lambda: f"{base}/help/{visit.request.tenant_id}")
        return answer(body, visit.origin)

    def _post(self, visit: Visit) -> WebhookResponse:
        asked = body_of(visit.request, OutgoingMessage)
        document = asked.model_dump(exclude_none=True) | {
            "attachments": self.uploads.checked(visit.visitor, asked.attachments)}
        body = json.dumps(document, ensure_ascii=False).encode()
        token = (visit.request.header("authorization") or "").partition(" ")[2].strip()
        headers = {"authorization": f"Bearer {token}", "origin": visit.origin, "content-type": "application/json",
                   SEAL_HEADER: visitor_tokens.seal(visit.widget.token_secret, visit.request.tenant_id, token, body)}
        forwarded = replace(visit.request, channel=CHANNEL, method="POST", headers=headers, query={}, body=body)
        stored = self.ingest(forwarded)
        return WebhookResponse(stored.status_code, stored.body, stored.headers | answer(None, visit.origin).headers)

    def _poll(self, visit: Visit) -> WebhookResponse:
        query = visit.request.query
        entity_tags(visit.request.header("if-none-match"))  # 400 for an over-long one, cursor or not
        poll = self.conversations.poll(visit.visitor, visit.widget.token_secret, query.get("after"),
                                       visit.request.header("if-none-match"), pending=query.get("pending") == "1",
                                       shown=query.get("open") == "1")
        return answer(poll.body, visit.origin, 200 if poll.body is not None else 304, {"ETag": poll.etag})

    def _upload(self, visit: Visit) -> WebhookResponse:
        asked = body_of(visit.request, UploadRequest)
        return answer(self.uploads.presign(visit.visitor, asked, visit.retention.message_days), visit.origin, 201)

    def _csat(self, visit: Visit) -> WebhookResponse:
        return answer(self.actions.csat(visit.visitor, body_of(visit.request, CsatRequest)), visit.origin)

    def _feedback(self, visit: Visit) -> WebhookResponse:
        return answer(self.actions.feedback(visit.visitor, body_of(visit.request, FeedbackRequest)), visit.origin)

    def _hand_off(self, visit: Visit) -> WebhookResponse:
        return answer(self.actions.hand_off(visit.visitor, body_of(visit.request, HandOffRequest)), visit.origin)


def _bucket(kind: str, value: str) -> str:
    """A rate-limit bucket per visitor or IP: a digest, so no address or id is stored."""
    return f"{kind}-{hashlib.sha256(value.encode()).hexdigest()[:24]}"

