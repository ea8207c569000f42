"""Mailgun route POSTs: the signature, the form body, and the message it carries.

Mailgun signs ``timestamp + token`` (HMAC-SHA256, hex) with the account's HTTP
webhook signing key. The signature does **not** cover the body, so the one-time
``token`` (the hub's replay key) is what makes a captured signature useless.
A route whose URL ends in ``mime`` posts the raw message as ``body-mime``;
otherwise Mailgun posts parsed fields (``message-headers``, ``body-plain``,
``body-html``, ``attachment-N``, ``content-id-map``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import Message
from email.parser import BytesParser
from typing import Any
from urllib.parse import unquote_to_bytes

from switchboard_sdk.errors import BadPayload, VerificationFailed

from . import mime
from .config import EmailConfig
from .decoding import header_text, unfold
from .mime import Mail, Part
from .text import html_to_text

FUTURE_SKEW_SECONDS = 300  # a timestamp this far ahead of our clock is clock drift, not forgery
MAX_ATTACHMENT_FIELDS = 200
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
_TOKEN = re.compile(r"[!-~]{1,256}")
_ATTACHMENT_FIELD = re.compile(r"attachment-[0-9]{1,4}")
_REPORT_PARTS = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")


def mailgun_signature(signing_key: str, timestamp: str, token: str) -> str:
    """Mailgun's signature: hex HMAC-SHA256 of ``timestamp + token`` under the signing key."""
    return hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()


# -- the form ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    content: bytes
    filename: str | None
    content_type: str


@dataclass
class Form:
    """A route POST's fields (raw bytes: ``body-mime`` may hold 8-bit MIME) and files."""

    fields: dict[str, bytes] = field(default_factory=dict)
    files: dict[str, Upload] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        value = self.fields.get(name)
        return None if value is None else value.decode("utf-8", errors="replace")


def _urlencoded(body: bytes) -> Form:
    # by hand: urllib.parse.parse_qs decodes to str and would mangle 8-bit body-mime bytes
    form = Form()
    for pair in body.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        key = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8", errors="replace")
        form.fields.setdefault(key, unquote_to_bytes(value.replace(b"+", b" ")))
    return form


def _part_payload(part: Message) -> bytes:
    if part.is_multipart():  # an uploaded .eml was parsed into a sub-message: serialise it back
        inner = part.get_payload()
        try:
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return inner[0].as_bytes(policy=policy.compat32)
            return part.as_bytes(policy=policy.compat32).split(b"\n\n", 1)[-1]
        except mime.PARSER_ERRORS:
            return b""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _multipart(body: bytes, content_type: str) -> Form:
    """multipart/form-data through the stdlib MIME parser, with the request's
    Content-Type prepended as the container's header."""
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1", errors="replace")
    try:
        root = BytesParser(policy=policy.default).parsebytes(head + body)
        parts = [p for p in root.get_payload() if isinstance(p, Message)] if root.is_multipart() else []
    except mime.PARSER_ERRORS:
        raise BadPayload("the multipart/form-data body could not be parsed") from None
    form = Form()
    for part in parts:
        try:
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
        except mime.PARSER_ERRORS:
            continue
        if not isinstance(name, str):
            continue
        if filename is not None or _ATTACHMENT_FIELD.fullmatch(name):
            form.files.setdefault(name, Upload(_part_payload(part), filename, part.get_content_type()))
        else:
            form.fields.setdefault(name, _part_payload(part))
    return form


def parse_form(body: bytes, content_type: str | None) -> Form:
    """The POST body as a :class:`Form`; JSON (a tracking webhook, not a route) is refused."""
    ctype = (content_type or "").strip()
    if ctype.lower().startswith("multipart/form-data"):
        return _multipart(body, ctype)
    if ctype.lower().startswith("application/json"):
        raise BadPayload("JSON body: this URL takes Mailgun route (inbound) POSTs, not tracking webhooks")
    return _urlencoded(body)


# -- verification ------------------------------------------------------------------------


def _field(form: Form, name: str, shape: re.Pattern[str]) -> str:
    value = form.text(name)
    if value is None or not shape.fullmatch(value):
        raise VerificationFailed(f"missing or malformed {name}")
    return value


def verify(form: Form, config: EmailConfig, now: datetime) -> None:
    """Raise :class:`VerificationFailed` unless the configured key signed ``form``
    within ``[-FUTURE_SKEW_SECONDS, tolerance_seconds]`` of ``now``."""
    if config.mailgun_signing_key is None:
        raise VerificationFailed("no Mailgun signing key is configured for this tenant")
    timestamp = _field(form, "timestamp", _TIMESTAMP)
    token = _field(form, "token", _TOKEN)
    signature = _field(form, "signature", _SIGNATURE)
    expected = mailgun_signature(config.mailgun_signing_key.get_secret_value(), timestamp, token)
    if not hmac.compare_digest(expected, signature.lower()):
        raise VerificationFailed("signature mismatch")
    age = now.timestamp() - int(timestamp)
    if age > config.tolerance_seconds or age < -FUTURE_SKEW_SECONDS:
        raise VerificationFailed("timestamp outside the replay window")


# -- the message -------------------------------------------------------------------------


def _recipients(form: Form) -> list[str]:
    value = form.text("recipient") or ""
    return [r.strip() for r in value.split(",") if "@" in r]


def _headers(form: Form) -> mime.Headers:
    raw = form.text("message-headers")
    if raw is None:  # not seen from Mailgun, but the plain fields say enough
        names = (("From", "from"), ("To", "recipient"), ("Subject", "subject"))
        return [(h, unfold(v)) for h, key in names if (v := form.text(key)) is not None]
    try:
        pairs: Any = json.loads(raw)
    except ValueError:
        raise BadPayload("message-headers is not JSON") from None
    if not isinstance(pairs, list):
        raise BadPayload("message-headers is not a JSON list")
    return [
        (p[0], unfold(p[1]))
        for p in pairs
        if isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], str)
    ]


def _content_ids(form: Form) -> dict[str, str]:
    """``content-id-map`` inverted: ``attachment-N`` → Content-ID."""
    try:
        mapping: Any = json.loads(form.text("content-id-map") or "{}")
    except ValueError:
        return {}
    if not isinstance(mapping, dict):
        return {}
    return {str(field): str(cid).strip("<>") for cid, field in mapping.items()}


def _attachment_names(form: Form) -> list[str]:
    try:
        count = int(form.text("attachment-count") or "0")
    except ValueError:
        count = 0
    named = [f"attachment-{n}" for n in range(1, min(count, MAX_ATTACHMENT_FIELDS) + 1)]
    return named + sorted(name for name in form.files if name not in named)


def _body_texts(form: Form, mail: Mail) -> list[str]:
    """body-plain, except for an HTML-only original (Mailgun then made body-plain
    itself; converting body-html ourselves matches the raw MIME path)."""
    plain, html = form.text("body-plain"), form.text("body-html")
    if html and (mail.content_type == "text/html" or not (plain or "").strip()):
        return [html_to_text(html)]
    return [plain.replace("\r\n", "\n")] if plain else []


def _content_type(headers: mime.Headers) -> tuple[str, str | None]:
    value = next((v for k, v in headers if k.lower() == "content-type"), "text/plain")
    ctype = value.split(";", 1)[0].strip().lower()
    report = re.search(r"report-type\s*=\s*\"?([\w-]+)", value, re.IGNORECASE)
    return ctype, report.group(1).lower() if report else None


def _add_upload(mail: Mail, upload: Upload, content_id: str | None) -> None:
    if upload.content_type == "message/delivery-status":
        mail.status_blocks.extend(mime.status_blocks(upload.content))
    elif mail.content_type == "multipart/report" and upload.content_type in _REPORT_PARTS:
        mail.original_headers = mime.header_block(upload.content)
    else:
        name = header_text(upload.filename) if upload.filename else None
        mail.attachments.append(Part(upload.content, upload.content_type, name, content_id is not None, content_id))


def _parsed_mail(form: Form) -> Mail:
    headers = _headers(form)
    content_type, report_type = _content_type(headers)
    mail = Mail(headers=headers, content_type=content_type, report_type=report_type)
    mail.envelope_recipients = _recipients(form)
    mail.texts = _body_texts(form, mail)
    content_ids = _content_ids(form)
    for name in _attachment_names(form):
        if (upload := form.files.get(name)) is not None:
            _add_upload(mail, upload, content_ids.get(name))
    return mail


def mail_from_form(form: Form) -> Mail:
    """The message a route POST carries: ``body-mime`` when present, else the parsed fields."""
    raw = form.fields.get("body-mime")
    if raw is None and "body-mime" in form.files:
        raw = form.files["body-mime"].content
    if raw is not None:
        return mime.parse_bytes(raw, envelope_recipients=_recipients(form))
    if "message-headers" not in form.fields and "from" not in form.fields:
        raise BadPayload("neither body-mime nor message-headers: not a Mailgun route POST")
    return _parsed_mail(form)


__all__ = ["Form", "Upload", "mail_from_form", "mailgun_signature", "parse_form", "verify"]
