"""Mailgun route POSTs: the message a verified form (:mod:`.form`) carries, and
Mailgun's verdict on its sender.

``body-mime`` (a route whose URL ends in ``mime``) is parsed as raw MIME; otherwise
the parsed fields (``message-headers``, ``body-plain``, ``body-html``,
``attachment-N``, ``content-id-map``) are assembled into the same :class:`~.mime.Mail`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from switchboard_sdk.errors import BadPayload

from . import mime
from .authenticity import mailgun_verdict
from .decoding import header_text, unfold
from .form import MAX_ATTACHMENT_FIELDS, Form, Upload
from .mime import Mail, Part
from .text import html_to_text

_REPORT_PARTS = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")


def _recipients(form: Form) -> list[str]:
    value = form.text("recipient") or ""
    return [r.strip() for r in value.split(",") if "@" in r]


def _json(raw: str, name: str) -> Any:
    """A JSON field, or :class:`BadPayload`. RecursionError too: the C decoder
    recurses per nesting level, so 100,000 ``[`` would otherwise escape as a crash."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise BadPayload(f"{name} is not JSON (or nested too deeply)") from err


def _headers(form: Form) -> mime.Headers:
    raw = form.text("message-headers")
    if raw is None:  # not seen from Mailgun, but the plain fields say enough
        names = (("From", "from"), ("To", "recipient"), ("Subject", "subject"))
        return [(h, unfold(v)) for h, key in names if (v := form.text(key)) is not None]
    pairs = _json(raw, "message-headers")
    if not isinstance(pairs, list):
        raise BadPayload("message-headers is not a JSON list")
    return [
        (p[0], unfold(p[1]))
        for p in pairs
        if isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], str)
    ]


def _content_ids(form: Form) -> dict[str, str]:
    """``content-id-map`` inverted: ``attachment-N`` → Content-ID."""
    mapping = _json(form.text("content-id-map") or "{}", "content-id-map")
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


def authenticator(form: Form) -> Callable[[Mail, str], bool | None]:
    """Mailgun's verdict on a From address, from this POST's verdict fields."""
    spf, dkim, sender = form.text("X-Mailgun-Spf"), form.text("X-Mailgun-Dkim-Check-Result"), form.text("sender")

    def verdict(mail: Mail, from_address: str) -> bool | None:
        return mailgun_verdict(mail, from_address, spf=spf, dkim=dkim, envelope_sender=sender)

    return verdict


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


__all__ = ["authenticator", "mail_from_form"]
