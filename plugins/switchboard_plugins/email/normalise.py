"""A decoded :class:`Mail` as the hub's :class:`InboundMessage`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from pydantic import ValidationError
from switchboard_sdk.errors import BadPayload, describe_validation_error
from switchboard_sdk.models import AttachmentRef, CustomerProfile, Identity, InboundMessage, ThreadHints

from . import loops, threading
from .config import CHANNEL, DEFAULT_MAX_ATTACHMENT_BYTES
from .decoding import header_text
from .mime import Mail, Part
from .text import split_reply

MAX_TEXT_CHARS = 100_000
MAX_SUBJECT_CHARS = 1000
MAX_NAME_CHARS = 200
MAX_FILENAME_CHARS = 512
MAX_METADATA_VALUE_CHARS = 2000
MAX_ATTACHMENTS = 100
OMITTED_TOO_LARGE = "omitted:too-large"
OMITTED_VIRUS = "omitted:virus-verdict-fail"

# Verdicts the receiving service adds (SES prepends X-SES-*, Mailgun X-Mailgun-*); the
# first occurrence is the receiver's, later ones could have been written by the sender.
_VERDICT_HEADERS = {
    "x-ses-spam-verdict": "ses_spam_verdict",
    "x-ses-virus-verdict": "ses_virus_verdict",
    "x-mailgun-sflag": "mailgun_spam_flag",
    "x-mailgun-spf": "mailgun_spf",
    "x-mailgun-dkim-check-result": "mailgun_dkim",
}
_DMARC = re.compile(r"\bdmarc\s*=\s*([a-z]+)", re.IGNORECASE)
_WHITESPACE = re.compile(r"\s+")


# The ingress path's reading of its provider's verdict on the From address (see .authenticity)
Authenticator = Callable[[Mail, str], bool | None]


@dataclass(frozen=True)
class Options:
    """The config values normalisation needs (so benchmarks can call it without a config)."""

    support_address: str | None = None
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES


# -- identity and ids ------------------------------------------------------------------


def _normalised(value: str) -> str:
    return _WHITESPACE.sub(" ", value).strip()


def fallback_message_id(mail: Mail) -> str:
    """``sha256:`` of From/To/Date/Subject and the body, whitespace-normalised, so a
    message without a Message-ID still de-duplicates on every redelivery."""
    digest = hashlib.sha256()
    for name in ("from", "to", "date", "subject"):
        digest.update(f"{name}:{_normalised(mail.first(name) or '')}\n".encode("utf-8", "surrogatepass"))
    digest.update(_normalised(mail.body).encode("utf-8", "surrogatepass"))
    return "sha256:" + digest.hexdigest()


def provider_message_id(mail: Mail) -> str:
    ids = threading.message_ids(mail.first("message-id"))
    return ids[0] if ids else fallback_message_id(mail)


def customer(mail: Mail) -> CustomerProfile | None:
    """The ``From`` address — not ``Reply-To``: receivers check SPF/DKIM/DMARC
    against From, while Reply-To is whatever the sender typed, and the hub's
    sender check trusts this identity."""
    for name, address in threading.address_pairs(mail.raw("from")):
        try:
            identity = Identity(kind="email", value=address)
        except ValidationError:
            continue
        display = _normalised(header_text(name))[:MAX_NAME_CHARS] or None
        return CustomerProfile(identities=[identity], display_name=display)
    return None


def sent_at(mail: Mail) -> datetime | None:
    value = mail.first("date")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)  # RFC 5322 "-0000": UTC, zone unknown


# -- attachments -----------------------------------------------------------------------


def _virus_flagged(mail: Mail) -> bool:
    return (mail.first("x-ses-virus-verdict") or "").strip().upper() == "FAIL"


def attachment(part: Part, options: Options, *, virus: bool) -> AttachmentRef:
    """Bytes for the hub to upload; a placeholder URL (never silence) when withheld."""
    too_large = len(part.content) > options.max_attachment_bytes
    withheld = OMITTED_VIRUS if virus else OMITTED_TOO_LARGE if too_large else None
    return AttachmentRef(
        url=withheld,
        content=None if withheld else part.content,
        content_type=part.content_type,
        filename=part.filename[:MAX_FILENAME_CHARS] if part.filename else None,
        size_bytes=len(part.content),
        inline=part.inline,
    )


def attachments(mail: Mail, options: Options) -> list[AttachmentRef]:
    virus = _virus_flagged(mail)
    return [attachment(p, options, virus=virus) for p in mail.attachments[:MAX_ATTACHMENTS]]


# -- metadata --------------------------------------------------------------------------


def _auth_metadata(mail: Mail) -> dict[str, str]:
    found: dict[str, str] = {}
    for header, key in _VERDICT_HEADERS.items():
        if value := mail.first(header):
            found[key] = value
    results = mail.first("authentication-results")
    if results:
        found["auth_results_by"] = results.split(";", 1)[0].strip()
        if match := _DMARC.search(results):
            found["dmarc"] = match.group(1).lower()
    return found


def metadata(mail: Mail, *, message_id: str, history: str) -> dict[str, str]:
    values = {
        "to": mail.first("to") or "",
        "cc": mail.first("cc") or "",
        "reply_to": mail.first("reply-to") or "",
        "message_id": message_id,
        "in_reply_to": " ".join(threading.message_ids(mail.first("in-reply-to"))),
        "envelope_recipients": ", ".join(mail.envelope_recipients),
        **_auth_metadata(mail),
    }
    found = {key: value[:MAX_METADATA_VALUE_CHARS] for key, value in values.items() if value}
    if history:
        found["quoted_history"] = history  # already capped by split_reply
    if len(mail.attachments) > MAX_ATTACHMENTS:
        found["attachments_omitted"] = str(len(mail.attachments) - MAX_ATTACHMENTS)
    if mail.defects:
        found["mime_defects"] = str(mail.defects)
    return found


# -- the message -----------------------------------------------------------------------


def _text(body: str, extra: dict[str, str]) -> str:
    if len(body) > MAX_TEXT_CHARS:
        extra["text_truncated"] = "true"
    return body[:MAX_TEXT_CHARS]


def _base(mail: Mail, *, tenant_id: str, received_at: datetime, options: Options) -> dict[str, object]:
    subject = mail.first("subject")
    return {
        "tenant_id": tenant_id,
        "channel": CHANNEL,
        "provider_message_id": provider_message_id(mail),
        "subject": subject[:MAX_SUBJECT_CHARS] if subject else None,
        "attachments": attachments(mail, options),
        "received_at": received_at,
        "sent_at": sent_at(mail),
    }


def _message(
    mail: Mail, base: dict[str, object], options: Options, authenticate: Authenticator | None
) -> InboundMessage:
    sender = customer(mail)
    if sender is None:
        # never customer=None here: the hub would take the customer from the ticket
        # an In-Reply-To points at, which is exactly what a spoofer wants
        raise BadPayload("the message has no usable From address")
    authenticated = authenticate(mail, sender.identities[0].value) if authenticate else None
    refs = threading.ticket_refs(
        mail.headers, extra_recipients=mail.envelope_recipients, support_address=options.support_address
    )
    visible, history = split_reply(mail.body)
    extra = metadata(mail, message_id=str(base["provider_message_id"]), history=history)
    auto = loops.is_auto_reply(mail)
    if auto:
        extra["auto_reply"] = "true"
    return InboundMessage.model_validate(
        {
            **base,
            "customer": sender,
            "text": _text(visible, extra),
            "thread": threading.hints(refs, threading.provider_ids(mail.headers)),
            "opens_ticket": not auto,
            "metadata": extra,
            "sender_authenticated": authenticated,
        }
    )


def _bounce_thread(mail: Mail, bounce: loops.Bounce, options: Options) -> ThreadHints:
    """Hints from the message that bounced (ours), then from the DSN itself."""
    original_refs = threading.ticket_refs(bounce.original, support_address=options.support_address, senders=True)
    own_refs = threading.ticket_refs(
        mail.headers, extra_recipients=mail.envelope_recipients, support_address=options.support_address
    )
    original_ids = threading.message_ids(bounce.original_message_id)
    return threading.hints(original_refs + own_refs, original_ids + threading.provider_ids(mail.headers))


def _delivery_failure(mail: Mail, base: dict[str, object], options: Options) -> InboundMessage:
    bounce = loops.bounce_report(mail)
    thread = _bounce_thread(mail, bounce, options)
    sender = None if thread.provider_ids else customer(mail)
    if sender is None and not thread.provider_ids:
        raise BadPayload("a bounce that names no message and has no From address")
    extra = metadata(mail, message_id=str(base["provider_message_id"]), history="")
    extra.update(_bounce_metadata(bounce))
    if loops.is_complaint(mail):
        extra["complaint"] = "true"
    return InboundMessage.model_validate(
        {
            **base,
            "kind": "delivery_failure",
            "customer": sender,
            "text": _text(loops.summary(mail, bounce), extra),
            "thread": thread,
            "opens_ticket": False,
            "metadata": extra,
        }
    )


def _bounce_metadata(bounce: loops.Bounce) -> dict[str, str]:
    found = {}
    if bounce.failures:
        first = bounce.failures[0]
        found = {"dsn_recipient": first.recipient, "dsn_action": first.action, "dsn_status": first.status}
    if ids := threading.message_ids(bounce.original_message_id):
        found["original_message_id"] = ids[0]
    return {key: value for key, value in found.items() if value}


def to_inbound(
    mail: Mail,
    *,
    tenant_id: str,
    received_at: datetime,
    options: Options,
    authenticate: Authenticator | None = None,
) -> InboundMessage:
    """The normalised message: a bounce becomes ``delivery_failure``, an auto-reply
    a message that opens no ticket. ``authenticate`` reads the provider's verdict on
    From into ``sender_authenticated``; a bounce's From is the reporting server, not
    a customer, so bounces keep ``None``."""
    base = _base(mail, tenant_id=tenant_id, received_at=received_at, options=options)
    try:
        if loops.is_bounce(mail):
            return _delivery_failure(mail, base, options)
        return _message(mail, base, options, authenticate)
    except ValidationError as err:
        # field names only: pydantic's text would echo parts of the mail into logs
        fields = describe_validation_error(err, messages=False)
        raise BadPayload(f"the message does not fit the inbound model: {fields}") from None


__all__ = ["CHANNEL", "Options", "fallback_message_id", "to_inbound"]
