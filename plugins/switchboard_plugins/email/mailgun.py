"""Mailgun route POSTs: the signature, the form body, and the message it carries.

Mailgun signs ``timestamp + token`` (HMAC-SHA256, hex) with the account's HTTP
webhook signing key. The signature does **not** cover the body, so the one-time
``token`` (the hub's replay key) is what makes a captured signature useless.
A route whose URL ends in ``mime`` posts the raw message as ``body-mime``;
otherwise Mailgun posts parsed fields (``message-headers``, ``body-plain``,
``body-html``, ``attachment-N``, ``content-id-map``).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote_to_bytes

from python_multipart import MultipartParser, QuerystringParser
from python_multipart.multipart import parse_options_header
from switchboard_sdk.errors import BadPayload, SwitchboardError, VerificationFailed

from . import mime
from .authenticity import mailgun_verdict
from .config import EmailConfig
from .decoding import header_text, unfold
from .mime import Mail, Part
from .text import html_to_text

FUTURE_SKEW_SECONDS = 300  # a timestamp this far ahead of our clock is clock drift, not forgery
MAX_ATTACHMENT_FIELDS = 200
# A route POST has ~25 fields plus its attachments; more is not Mailgun.
MAX_FORM_FIELDS = 2 * MAX_ATTACHMENT_FIELDS
MAX_PART_HEADERS = 8  # Content-Disposition, Content-Type and a few more
MAX_PART_HEADER_BYTES = 8192  # one header line of a part: room for a long file name
MAX_CONTENT_TYPE_CHARS = 1024  # the request's Content-Type: type and boundary (≤ 70 chars per RFC 2046)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
_TOKEN = re.compile(r"[!-~]{1,256}")
_ATTACHMENT_FIELD = re.compile(r"attachment-[0-9]{1,4}")
_REPORT_PARTS = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
# python-multipart logs a warning for every malformed body before raising; we raise
# BadPayload/VerificationFailed instead and the hub logs those, so anyone could
# otherwise add unstructured lines to the hub's logs at will.
_PARSER_LOG = logging.getLogger(__name__ + ".form")
_PARSER_LOG.addHandler(logging.NullHandler())
_PARSER_LOG.propagate = False


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


def _unquote(value: bytes) -> bytes:
    return unquote_to_bytes(value.replace(b"+", b" "))


class _Unreadable(ValueError):
    """Our own refusals inside the parse (some in python-multipart's callbacks),
    reported like the parser's errors: ``unreadable`` in :func:`parse_form`."""


class _FormBuilder:
    """Collects what python-multipart's streaming parsers report. Field values stay
    bytes (``body-mime`` may hold 8-bit MIME); the first value of a name wins."""

    def __init__(self) -> None:
        self.form = Form()
        self.count = 0
        self.name: list[bytes] = []
        self.value: list[bytes] = []
        self.headers: dict[bytes, bytes] = {}

    def begin(self) -> None:
        self.count += 1
        if self.count > MAX_FORM_FIELDS:
            raise _Unreadable(f"more than {MAX_FORM_FIELDS} form fields")
        self.name, self.value, self.headers = [], [], {}

    def name_part(self, data: bytes, start: int, end: int) -> None:
        self.name.append(data[start:end])

    def value_part(self, data: bytes, start: int, end: int) -> None:
        self.value.append(data[start:end])

    # -- urlencoded

    def field_end(self) -> None:
        key = _unquote(b"".join(self.name)).decode("utf-8", errors="replace")
        self.form.fields.setdefault(key, _unquote(b"".join(self.value)))

    # -- multipart

    def header_end(self) -> None:
        self.headers.setdefault(b"".join(self.name).strip().lower(), b"".join(self.value).strip())
        self.name, self.value = [], []

    def part_end(self) -> None:
        disposition = self.headers.get(b"content-disposition", b"").decode("latin-1")
        _, params = parse_options_header(disposition)  # linear, and the header is capped
        name = params.get(b"name")
        if name is None:
            return  # RFC 7578 requires a name; a part without one is nothing we read
        key = name.decode("utf-8", errors="replace")
        content = _transfer_decoded(b"".join(self.value), self.headers.get(b"content-transfer-encoding"))
        filename = params.get(b"filename")
        if filename is not None or _ATTACHMENT_FIELD.fullmatch(key):
            ctype = parse_options_header(self.headers.get(b"content-type", b"").decode("latin-1"))[0]
            upload = Upload(
                content,
                filename.decode("utf-8", errors="replace") if filename is not None else None,
                ctype.decode("latin-1") or "application/octet-stream",
            )
            self.form.files.setdefault(key, upload)
        else:
            self.form.fields.setdefault(key, content)


def _transfer_decoded(data: bytes, encoding: bytes | None) -> bytes:
    """RFC 7578 forbids Content-Transfer-Encoding in form parts; honour the two
    a client could still send rather than store encoded bytes."""
    cte = (encoding or b"").strip().lower()
    try:
        if cte == b"base64":
            return binascii.a2b_base64(data)
        if cte == b"quoted-printable":
            return binascii.a2b_qp(data)
    except (binascii.Error, ValueError):
        return data
    return data


def _urlencoded(body: bytes) -> Form:
    builder = _FormBuilder()
    parser = QuerystringParser(
        callbacks={
            "on_field_start": builder.begin,
            "on_field_name": builder.name_part,
            "on_field_data": builder.value_part,
            "on_field_end": builder.field_end,
        }
    )
    parser.logger = _PARSER_LOG
    parser.write(body)
    parser.finalize()
    return builder.form


def _multipart(body: bytes, content_type: str) -> Form:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise _Unreadable("multipart/form-data without a boundary")
    builder = _FormBuilder()
    parser = MultipartParser(
        boundary,
        callbacks={
            "on_part_begin": builder.begin,
            "on_header_field": builder.name_part,
            "on_header_value": builder.value_part,
            "on_header_end": builder.header_end,
            "on_part_data": builder.value_part,
            "on_part_end": builder.part_end,
        },
        max_header_count=MAX_PART_HEADERS,
        max_header_size=MAX_PART_HEADER_BYTES,
    )
    parser.logger = _PARSER_LOG
    parser.write(body)
    parser.finalize()
    return builder.form


def parse_form(
    body: bytes, content_type: str | None, *, unreadable: type[SwitchboardError] = BadPayload
) -> Form:
    """The POST body as a :class:`Form`; JSON (a tracking webhook, not a route) is refused.
    A body that is no form raises ``unreadable``: :class:`BadPayload` once verified,
    :class:`VerificationFailed` while verifying (no readable signature, nothing proven).

    python-multipart parses both encodings in one pass with bounded part headers, so
    an unsigned request costs time linear in its size before verification refuses
    it (the stdlib's MIME parser, used here before, is super-quadratic in header
    parameters: 60,000 ``;`` in one part's Content-Disposition took 43 s).
    """
    ctype = (content_type or "").strip()[:MAX_CONTENT_TYPE_CHARS]
    if ctype.lower().startswith("application/json"):
        raise BadPayload("JSON body: this URL takes Mailgun route (inbound) POSTs, not tracking webhooks")
    try:
        if ctype.lower().startswith("multipart/form-data"):
            return _multipart(body, ctype)
        return _urlencoded(body)
    except ValueError as err:  # python-multipart's errors are ValueErrors
        raise unreadable("the form body could not be parsed") from err


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


__all__ = ["Form", "Upload", "authenticator", "mail_from_form", "mailgun_signature", "parse_form", "verify"]
