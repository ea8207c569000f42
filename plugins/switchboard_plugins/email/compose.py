"""A reply as an RFC 5322 message that threads back to its ticket.

Three independent threads lead the customer's answer back (see :mod:`.threading`,
which reads all three): ``In-Reply-To``/``References`` naming the conversation's
Message-IDs, the subject tag ``[#REF]``, and the ``Reply-To`` plus-address
``support+REF@``. SES replaces our ``Message-ID`` with its own (the hub then
stores that one, see :mod:`.send`); the other two survive any provider.

The body is ``text/plain`` UTF-8; the stdlib picks quoted-printable or base64, so
the raw message is 7-bit ASCII with CRLF line ends (what SES and Mailgun take).
Attachments are listed as links in the text: binary attachments are not fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from switchboard_sdk.models import AttachmentRef
from switchboard_sdk.sending import OutboundMessage

from . import threading
from .config import EmailConfig

MAX_SUBJECT_CHARS = 900  # a header line stays well under SMTP's 998 after "Subject: Re: " and the tag
MAX_NAME_CHARS = 200
MAX_REFERENCES = 20  # RFC 5322 §3.6.4 lets us shorten References: the first id and the latest ones
FALLBACK_SUBJECT = "Your request"
TICKET_HEADER = threading.TICKET_HEADER

_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|aw|sv|antw|wg|fw|fwd|回复|答复|回覆)\s*[:\uff1a]\s*)+", re.IGNORECASE)
_NOT_ATOM = re.compile(r"[^A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]")
_LINK = re.compile(r"^https?://", re.IGNORECASE)
# 7-bit: the body goes quoted-printable or base64, so no hop needs 8BITMIME
_POLICY = SMTP.clone(cte_type="7bit")


class ComposeError(ValueError):
    """The reply cannot be written as an email (no sender configured, an address
    email cannot carry); the message says what to fix, for agents."""


@dataclass(frozen=True)
class Composed:
    """The raw message and the addresses a provider call needs."""

    raw: bytes
    message_id: str  # ours, without <>: what Mailgun keeps and SES replaces
    sender: str  # the bare From address
    recipient: str  # the bare To address


def _one_line(value: str, limit: int) -> str:
    """Whitespace (line breaks included: header injection) collapsed, then cut."""
    return " ".join(value.split())[:limit]


def _address(value: str, display_name: str = "", *, role: str) -> Address:
    """An :class:`Address`, its domain IDNA-encoded (the stdlib would RFC 2047-encode it,
    which no server reads); a non-ASCII local part needs SMTPUTF8, which we do not send."""
    local, at, domain = value.strip().rpartition("@")
    if not local.isascii():
        raise ComposeError(f"the {role} address {value!r} has a non-ASCII name, which we cannot send yet")
    try:
        if not (local and at and domain):
            raise ValueError("no local part or domain")
        ascii_domain = domain if domain.isascii() else domain.encode("idna").decode("ascii")
        return Address(display_name, addr_spec=f"{local}@{ascii_domain}")
    except (ValueError, IndexError, HeaderParseError, UnicodeError):
        raise ComposeError(f"the {role} address {value!r} is not a valid email address") from None


def subject(message: OutboundMessage) -> str:
    """``Re: <ticket subject> [#REF]``: one ``Re:``, one tag (kept where the subject has it)."""
    base = message.subject or (message.replying_to.subject if message.replying_to else None) or ""
    base = _REPLY_PREFIX.sub("", _one_line(base, MAX_SUBJECT_CHARS)) or FALLBACK_SUBJECT
    if message.ticket_ref not in threading.subject_refs(base):
        base = f"{base} {threading.subject_tag(message.ticket_ref)}"
    return f"Re: {base}"


def _usable_id(value: str) -> bool:
    # the parser's fallback for mail without a Message-ID ("sha256:…") names nothing a client knows
    return bool(value) and not value.startswith("sha256:") and bool(threading.message_ids(f"<{value}>"))


def thread_ids(message: OutboundMessage) -> tuple[str | None, list[str]]:
    """``In-Reply-To`` (the customer's last mail) and ``References`` (the conversation
    oldest first, then that mail), ids without ``<>``."""
    context = message.replying_to
    if context is None:
        return None, []
    parent = context.provider_message_id if _usable_id(context.provider_message_id) else None
    chain = [i for i in context.references if _usable_id(i) and i != parent] + ([parent] if parent else [])
    chain = list(dict.fromkeys(chain))
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1):]
    return parent, chain


def _local_id(message_id: str) -> str:
    """The hub's message id as a Message-ID's left part (dot-atom characters only)."""
    return _NOT_ATOM.sub("-", message_id).strip(".") or "reply"


def own_message_id(message: OutboundMessage, from_address: str) -> str:
    """``{message.id}@{domain}``: the same on every attempt, so a resent copy is
    recognised as the same mail by clients that de-duplicate on Message-ID."""
    return f"{_local_id(message.id)}@{from_address.rpartition('@')[2]}"


def display_name(message: OutboundMessage, config: EmailConfig) -> str:
    """``Ada (Acme Support)``, ``Acme Support`` or ``Ada``: who answered, for whom."""
    author = _one_line(message.author_name or "", MAX_NAME_CHARS)
    team = config.from_name or ""
    if author and team:
        return f"{author} ({team})"
    return author or team


def _attachment_line(attachment: AttachmentRef) -> str:
    url = attachment.url or ""
    if not _LINK.match(url):
        name = attachment.filename or "an attachment"
        raise ComposeError(f"{name!r} has no web link to send; email replies carry attachments as links only")
    return f"- {_one_line(attachment.filename, MAX_NAME_CHARS)}: {url}" if attachment.filename else f"- {url}"


def body(message: OutboundMessage) -> str:
    """The agent's text, then the attachments as links (binary attachments are not fetched yet)."""
    text = message.text.replace("\r\n", "\n").replace("\r", "\n").rstrip()
    if message.attachments:
        lines = [_attachment_line(a) for a in message.attachments]
        text = (text + "\n\n" if text else "") + "Attachments:\n" + "\n".join(lines)
    return text + "\n"


def _addresses(message: OutboundMessage, config: EmailConfig) -> tuple[Address, Address, Address]:
    if config.from_address is None:
        raise ComposeError("no from_address is configured for the email channel")
    if message.to.kind != "email":
        raise ComposeError(f"the customer has no email address (got a {message.to.kind} identity)")
    sender = _address(config.from_address, display_name(message, config), role="from")
    recipient = _address(message.to.value, role="customer's")
    reply_base = config.reply_address or config.from_address
    reply_to = _address(threading.plus_address(reply_base, message.ticket_ref), config.from_name or "", role="reply")
    return sender, recipient, reply_to


def compose(message: OutboundMessage, config: EmailConfig, now: datetime) -> Composed:
    """The reply as raw RFC 5322 bytes; :class:`ComposeError` when it cannot be written."""
    sender, recipient, reply_to = _addresses(message, config)
    own_id = own_message_id(message, sender.addr_spec)
    parent, chain = thread_ids(message)
    mail = EmailMessage(policy=_POLICY)
    mail["From"] = sender
    mail["To"] = recipient
    mail["Reply-To"] = reply_to
    mail["Subject"] = subject(message)
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = f"<{own_id}>"
    if parent:
        mail["In-Reply-To"] = f"<{parent}>"
    if chain:
        mail["References"] = " ".join(f"<{i}>" for i in chain)
    mail[TICKET_HEADER] = message.ticket_ref  # read back from bounces, whose Reply-To may be gone
    mail.set_content(body(message), subtype="plain", charset="utf-8")
    return Composed(mail.as_bytes(), own_id, sender.addr_spec, recipient.addr_spec)


__all__ = ["ComposeError", "Composed", "compose", "subject", "thread_ids"]
