"""The ``wechat`` channel's answers: ``success``, or a passive text reply.

WeChat waits 5 s for an answer and then retries (three attempts in all), so the
answer is immediate and the same for stored, duplicate and quarantined pushes.
The optional auto-acknowledgement is a passive reply to a user message; it is
deterministic so that a retry gets byte for byte the reply the first try got.
"""

from __future__ import annotations

import hashlib
import hmac

from switchboard_sdk.webhooks import IngestReport, WebhookRequest, WebhookResponse

from .config import WeChatConfig
from .parse import Push
from .verify import crypto_for, is_encrypted
from .xmltools import cdata

SUCCESS = WebhookResponse(status_code=200, body="success", headers={"Content-Type": "text/plain"})
_XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}


def success() -> WebhookResponse:
    return WebhookResponse(status_code=SUCCESS.status_code, body=SUCCESS.body, headers=dict(SUCCESS.headers))


def wants_auto_ack(config: WeChatConfig, report: IngestReport, push: Push) -> bool:
    """Only user messages that the hub holds (new or already) are acknowledged;
    events are not conversations, and a quarantined push held nothing."""
    held = report.stored + report.duplicates > 0 and not report.quarantined
    return bool(config.auto_ack_text) and held and push.is_user_message


def text_reply_xml(push: Push, text: str, create_time: str) -> str:
    """A passive text reply: back to the sender (its OpenID), from the account."""
    return (
        f"<xml><ToUserName>{cdata(push.get('FromUserName'))}</ToUserName>"
        f"<FromUserName>{cdata(push.get('ToUserName'))}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(text)}</Content></xml>"
    )


def reply_random16(aes_key: bytes, msg_id: str) -> bytes:
    """The 16 "random" bytes of an encrypted reply, derived from the MsgId.

    They only vary the ciphertext; WeChat never checks them. Deriving them under
    the secret key keeps them unpredictable to outsiders while a retry of the
    same message gets an identical reply.
    """
    return hmac.new(aes_key, msg_id.encode("utf-8"), hashlib.sha256).digest()[:16]


def auto_ack(request: WebhookRequest, config: WeChatConfig, push: Push) -> WebhookResponse:
    """The acknowledgement reply, encrypted when the push was.

    ``CreateTime``, ``TimeStamp`` and ``Nonce`` reuse the request's ``timestamp``
    and ``nonce`` rather than the clock, again so a duplicate is answered alike.
    """
    timestamp, nonce = request.query.get("timestamp", ""), request.query.get("nonce", "")
    xml = text_reply_xml(push, config.auto_ack_text or "", timestamp)
    if config.encrypted and is_encrypted(request):
        crypto = crypto_for(config)
        random16 = reply_random16(crypto.key, push.get("MsgId"))
        xml = crypto.encrypted_reply(xml, timestamp=timestamp, nonce=nonce, random16=random16)
    return WebhookResponse(status_code=200, body=xml, headers=dict(_XML_HEADERS))
