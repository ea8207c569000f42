"""Correctly signed sample requests for each channel, as each provider sends them.

Used by the ``switchboard demo`` commands (a newcomer sends one of each to the
local runtime) and by ``benchmarks/channels.py``. Every builder signs with the
provider's own algorithm, through the plugin's public signing functions.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlencode

from switchboard_sdk import standard_webhooks


@dataclass(frozen=True)
class Sample:
    """One request: POST ``body`` to ``url`` (query string included) with ``headers``."""

    url: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def query(self) -> dict[str, str]:
        from urllib.parse import parse_qsl, urlsplit

        return dict(parse_qsl(urlsplit(self.url).query))


def web_message(url: str, secret: str, text: str, *, email: str = "ada@example.com",
                phone: str | None = None, client_message_id: str | None = None,
                visitor_id: str = "demo-visitor") -> Sample:
    message = {"visitor_id": visitor_id, "name": "Ada Lovelace", "email": email, "phone": phone,
               "text": text, "client_message_id": client_message_id or f"cli-{uuid.uuid4()}",
               "page_url": "https://shop.example.com/help"}
    body = json.dumps({k: v for k, v in message.items() if v is not None}).encode()
    headers = standard_webhooks.signed_headers(secret, f"msg_{uuid.uuid4().hex}", int(time.time()), body)
    return Sample(url, body, headers | {"Content-Type": "application/json"})


def _twilio(url: str, auth_token: str, params: dict[str, str]) -> Sample:
    from switchboard_plugins.twilio.signing import signature

    signed = signature(auth_token, url, {k: [v] for k, v in params.items()})
    headers = {"X-Twilio-Signature": signed, "Content-Type": "application/x-www-form-urlencoded"}
    return Sample(url, urlencode(params).encode(), headers)


def twilio_sms(url: str, auth_token: str, text: str, *, sender: str, to: str = "+15005550006",
               message_sid: str | None = None) -> Sample:
    sid = message_sid or "SM" + secrets.token_hex(16)
    return _twilio(url, auth_token, {
        "MessageSid": sid, "SmsMessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": to,
        "Body": text, "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01",
    })


def twilio_call(url: str, auth_token: str, *, caller: str, to: str = "+15005550006",
                call_sid: str | None = None) -> Sample:
    return _twilio(url, auth_token, {
        "CallSid": call_sid or "CA" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": caller,
        "To": to, "CallStatus": "ringing", "Direction": "inbound", "ApiVersion": "2010-04-01",
    })


def wechat_text(url: str, *, token: str, aes_key: str, app_id: str, text: str, openid: str = "oDemoUser",
                account: str = "gh_demo", msg_id: str | None = None) -> Sample:
    """A safe-mode (AES) text push, encrypted and signed as WeChat sends it."""
    from switchboard_plugins.wechat.crypto import WeChatCrypto, sign

    timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
    msg_id = msg_id or str(secrets.randbits(63))
    inner = (f"<xml><ToUserName><![CDATA[{account}]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
             f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
             f"<Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>")
    body, msg_signature = WeChatCrypto(token, aes_key, app_id).encrypted_request(
        inner, timestamp=timestamp, nonce=nonce, random16=secrets.token_bytes(16), to_user=account
    )
    query = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
             "openid": openid, "encrypt_type": "aes", "msg_signature": msg_signature}
    return Sample(f"{url}?{urlencode(query)}", body, {"Content-Type": "text/xml"})


def twilio_recording(url: str, auth_token: str, *, call_sid: str, recording_sid: str | None = None) -> Sample:
    """The recording status callback a voicemail triggers (names only its CallSid)."""
    sid = recording_sid or "RE" + secrets.token_hex(16)
    return _twilio(f"{url}?event=recording", auth_token, {
        "AccountSid": "AC" + "0" * 32, "CallSid": call_sid, "RecordingSid": sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Recordings/{sid}",
        "RecordingStatus": "completed", "RecordingDuration": "7", "RecordingChannels": "1",
        "RecordingSource": "RecordVerb",
    })


def email_mime(text: str, *, sender: str, subject: str, to: str = "support@demo.example",
               message_id: str | None = None, in_reply_to: str | None = None) -> tuple[bytes, str]:
    """A plain RFC 5322 message; returns ``(raw bytes, its Message-ID without <>)``."""
    from email.message import EmailMessage
    from email.utils import formatdate

    message_id = message_id or f"{uuid.uuid4().hex}@mail.example.com"
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"], mail["Message-ID"] = formatdate(localtime=False), f"<{message_id}>"
    if in_reply_to:
        mail["In-Reply-To"] = mail["References"] = f"<{in_reply_to}>"
    mail.set_content(text)
    return mail.as_bytes(), message_id


def mailgun_mime(url: str, signing_key: str, raw: bytes, *, recipient: str = "support@demo.example") -> Sample:
    """A Mailgun route POST of the "mime" variant (the URL ends in ``/mime``)."""
    from switchboard_plugins.email.signing import mailgun_signature

    timestamp, token = str(int(time.time())), secrets.token_hex(25)
    form = {"recipient": recipient, "timestamp": timestamp, "token": token,
            "signature": mailgun_signature(signing_key, timestamp, token), "body-mime": raw.decode("utf-8")}
    return Sample(f"{url}/mime", urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"})


def ses_object_key(tenant_id: str) -> str:
    """Where an SES receipt rule for this tenant writes a message."""
    return f"inbound/{tenant_id}/email/{uuid.uuid4().hex}"
