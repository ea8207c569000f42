"""Replies through WeChat's customer-service message API (客服消息).

``POST /cgi-bin/message/custom/send?access_token=…`` with ``{"touser": <OpenID>,
"msgtype": "text", "text": {"content": …}}`` or ``"image": {"media_id": …}``. WeChat
lets an account message a follower only within 48 hours of the follower's last
message, and only ``reply_budget`` times per message (5 by WeChat's rules): both are
checked before calling, so a reply that cannot go costs no API call.

The access token comes from ``/cgi-bin/stable_token`` through ``context.tokens`` (one
token per AppID shared by every container) and is refreshed at most once per send,
when WeChat refuses it (40001, 40014, 42001). The API answers no message id and sends
no delivery receipts, so an accepted reply is ``sent`` as ``wx:<message id>``.

A reply with images takes several messages: the images are uploaded first, then the
text and each image are sent in order. When a later message fails after an earlier
one was accepted the reply is failed, not retried, since a retry would send the
accepted messages again; the reason says what the customer already has.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from switchboard_sdk.sending import IssuedToken, OutboundMessage, SendContext, SendOutcome, SharedTokens

from . import media
from .api import BUDGET_USED, NOT_CONFIGURED, SEND_PATH, Stop, TokenRejected, WeChatClient
from .config import WeChatConfig

WINDOW = timedelta(hours=48)
WINDOW_CLOSED = "WeChat: the 48-hour reply window has closed; it opens again when the customer writes"
PROVIDER_ID_PREFIX = "wx:"


def provider_message_id(message: OutboundMessage) -> str:
    """WeChat answers no id: the hub's own, stable across attempts."""
    return PROVIDER_ID_PREFIX + message.id


def send(message: OutboundMessage, config: WeChatConfig, context: SendContext) -> SendOutcome:
    """One reply, classified; never raises for WeChat's refusal or absence."""
    session: _Session | None = None
    try:
        refusal = precheck(message, config, context.clock())
        if refusal is not None:
            return refusal
        reply = media.plan(message)
        _check_parts(message, config, reply)
        session = _Session.open(WeChatClient.start(config, context), context.tokens)
        return _deliver(session, message, reply)
    except Stop as stop:
        # WeChat's answers were scrubbed already; this also covers texts built from elsewhere
        held = [config.app_secret, config.token, config.encoding_aes_key]
        secrets = [secret.get_secret_value() for secret in held if secret is not None]
        return _redact(stop.outcome, secrets + (session.used if session else []))


def precheck(message: OutboundMessage, config: WeChatConfig, now: datetime) -> SendOutcome | None:
    """Why the reply cannot go, known without calling WeChat; ``None`` when it may."""
    if config.app_secret is None:
        return SendOutcome.failed(NOT_CONFIGURED)
    if message.to.kind != "wechat_openid":
        return SendOutcome.failed("WeChat: the customer has no WeChat OpenID to reply to")
    last = message.last_inbound_at
    # unknown: WeChat decides (45015 maps to the same outcome)
    if last is not None and now - _aware(last) >= WINDOW:
        return SendOutcome.window_closed(WINDOW_CLOSED, code="45015")
    if message.replies_since_inbound >= config.reply_budget:
        return SendOutcome.failed(f"{BUDGET_USED} ({config.reply_budget} replies per message)", code="45047")
    return None


def _check_parts(message: OutboundMessage, config: WeChatConfig, reply: media.Plan) -> None:
    if reply.parts == 0:
        raise Stop(SendOutcome.failed("WeChat: the reply is empty: nothing to send"))
    left = config.reply_budget - message.replies_since_inbound
    if reply.parts > left:
        raise Stop(SendOutcome.failed(
            f"WeChat: the reply takes {reply.parts} messages (text and each image) but only {left} of the "
            f"{config.reply_budget} allowed per customer message remain; send fewer images", code="45047",
        ))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _redact(outcome: SendOutcome, secrets: list[str]) -> SendOutcome:
    text = outcome.reason
    for secret in secrets:
        if secret and len(secret) >= 6:
            text = text.replace(secret, "[redacted]")
    return outcome if text == outcome.reason else outcome.model_copy(update={"reason": text})


T = TypeVar("T")


@dataclass
class _Session:
    """One send's token: fetched (or shared) once, refreshed at most once."""

    client: WeChatClient
    tokens: SharedTokens
    token: str = ""
    refreshed: bool = False
    used: list[str] = field(default_factory=list)  # every token seen, kept out of reasons

    @classmethod
    def open(cls, client: WeChatClient, tokens: SharedTokens) -> _Session:
        session = cls(client, tokens)
        session.token = session._get(client.fetch_token)
        return session

    def _get(self, fetch: Callable[[], IssuedToken], rejected: str | None = None) -> str:
        # keyed by AppID: every tenant container replying from this account shares one token
        token = self.tokens.get(self.client.config.app_id, fetch, rejected=rejected)
        self.used.append(token)
        return token

    def call(self, request: Callable[[str], T]) -> T:
        """``request(token)``; on a refused token, once per send, again with a fresh one."""
        try:
            return request(self.token)
        except TokenRejected as first:
            if self.refreshed:
                raise Stop(_refused_again(first)) from None
            self.refreshed = True
            rejected = self.token
            self.token = self._get(lambda: self._renew(rejected), rejected)
        try:
            return request(self.token)
        except TokenRejected as again:
            raise Stop(_refused_again(again)) from None

    def _renew(self, rejected: str) -> IssuedToken:
        issued = self.client.fetch_token()
        if issued.value == rejected:
            # WeChat still hands out the token it refused: only a forced refresh replaces it
            # (limited to 20 a day, hence only here)
            issued = self.client.fetch_token(force=True)
        return issued


def _refused_again(err: TokenRejected) -> SendOutcome:
    # another container (or another system sharing the AppSecret) may have just forced a refresh
    return SendOutcome.retry(f"WeChat refused a freshly issued access token (errcode {err.errcode})",
                             code=str(err.errcode))


def _deliver(session: _Session, message: OutboundMessage, reply: media.Plan) -> SendOutcome:
    # every upload before the first message: a failed upload then leaves the customer nothing half-sent
    media_ids = [_upload(session, image, index) for index, image in enumerate(reply.images, start=1)]
    payloads: list[dict[str, Any]] = []
    if reply.text:
        payloads.append({"touser": message.to.value, "msgtype": "text", "text": {"content": reply.text}})
    payloads += [{"touser": message.to.value, "msgtype": "image", "image": {"media_id": media_id}}
                 for media_id in media_ids]
    for index, payload in enumerate(payloads):
        try:
            _post(session, payload)
        except Stop as stop:
            raise Stop(stop.outcome if index == 0 else _partial(stop.outcome, index, len(payloads))) from None
    return SendOutcome.sent(provider_message_id(message))


def _upload(session: _Session, image: media.Image, index: int) -> str:
    data = media.image_bytes(image, session.client)
    return session.call(lambda token: media.upload(session.client, token, image, data, index))


def _post(session: _Session, payload: dict[str, Any]) -> None:
    client = session.client
    session.call(lambda token: client.post_json(SEND_PATH, {"access_token": token}, payload))


def _partial(outcome: SendOutcome, accepted: int, total: int) -> SendOutcome:
    """A failure after ``accepted`` of ``total`` messages went: final, never retried."""
    note = (f"{outcome.reason}; the customer already received {accepted} of the reply's {total} messages "
            "(text first, then images), and retrying sends them again")
    kind = "failed" if outcome.kind == "retry" else outcome.kind
    return outcome.model_copy(update={"kind": kind, "reason": note[:2000], "retry_after_seconds": None})
