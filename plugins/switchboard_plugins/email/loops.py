"""Loop and noise control: auto-replies and bounces (delivery status notifications).

Neither may open a ticket (two auto-responders would otherwise mail each other
forever), but both are kept and joined to the ticket they concern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .decoding import header_text
from .mime import Headers, Mail, values
from .threading import addresses

MAX_SUMMARY_CHARS = 2000
MAX_DIAGNOSTIC_CHARS = 300

_BULK_PRECEDENCE = {"bulk", "auto_reply", "junk"}
_DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
_DSN_SUBJECT = re.compile(
    r"undeliver|delivery status notification|returned mail|mail delivery (?:failed|failure|subsystem)"
    r"|failure notice|delivery failure|could not be delivered|not delivered|delivery has failed"
    r"|系统退信|退信|未能送达|投递失败|無法傳遞",
    re.IGNORECASE,
)
_INLINE_HEADER = re.compile(r"^\s*(Message-ID|X-Switchboard-Ticket|Subject|From|Reply-To)\s*:\s*(.+?)\s*$", re.I | re.M)


def _first(headers: Headers, name: str) -> str:
    found = values(headers, name)
    return header_text(found[0]) if found else ""


# -- auto-replies -------------------------------------------------------------


def is_auto_reply(mail: Mail) -> bool:
    """RFC 3834 ``Auto-Submitted``, and the de-facto headers of older responders
    and Exchange (``X-Autoreply``, ``X-Autorespond``, ``Precedence``,
    ``X-Auto-Response-Suppress: All``)."""
    auto_submitted = (mail.first("auto-submitted") or "no").split(";")[0].strip().lower()
    precedence = (mail.first("precedence") or "").strip().lower()
    suppress = {v.strip().lower() for v in (mail.first("x-auto-response-suppress") or "").split(",")}
    return (
        auto_submitted != "no"
        or mail.first("x-autoreply") is not None
        or mail.first("x-autorespond") is not None
        or precedence in _BULK_PRECEDENCE
        or "all" in suppress
    )


# -- bounces ------------------------------------------------------------------


def _from_a_daemon(mail: Mail) -> bool:
    sender = addresses(mail.raw("from"))
    local = sender[0].partition("@")[0] if sender else ""
    return local in _DAEMONS or "mail delivery" in (mail.first("from") or "").lower()


def is_complaint(mail: Mail) -> bool:
    """An abuse report (RFC 5965 ARF, ``multipart/report; report-type=feedback-report``):
    what SES forwards when a recipient marks our mail as spam."""
    return mail.report_type == "feedback-report"


def is_bounce(mail: Mail) -> bool:
    """A standard DSN (``multipart/report; report-type=delivery-status``), a
    complaint (:func:`is_complaint`: our mail did not reach the customer as mail
    either), or a legacy DSN: from MAILER-DAEMON/postmaster (or a null
    Return-Path) with a bounce-like subject."""
    if mail.report_type == "delivery-status" or mail.status_blocks or is_complaint(mail):
        return True
    null_sender = (mail.first("return-path") or "").strip() in ("<>", "")
    daemon_like = _from_a_daemon(mail) or (null_sender and mail.first("return-path") is not None)
    return daemon_like and bool(_DSN_SUBJECT.search(mail.first("subject") or ""))


@dataclass(frozen=True)
class Failure:
    """One recipient's line of a DSN."""

    recipient: str
    action: str
    status: str
    diagnostic: str


@dataclass(frozen=True)
class Bounce:
    failures: list[Failure]
    original: Headers = field(default_factory=list)

    @property
    def original_message_id(self) -> str:
        return _first(self.original, "message-id")


def _address_field(value: str) -> str:
    """``rfc822; ada@example.com`` → ``ada@example.com``."""
    return value.partition(";")[2].strip() if ";" in value else value.strip()


def _failures(blocks: list[Headers]) -> list[Failure]:
    failures = []
    for block in blocks:
        recipient = _first(block, "final-recipient") or _first(block, "original-recipient")
        if not recipient:
            continue  # the per-message block (Reporting-MTA, Arrival-Date)
        failures.append(
            Failure(
                recipient=_address_field(recipient)[:320],
                action=_first(block, "action").lower()[:40],
                status=_first(block, "status")[:40],
                diagnostic=" ".join(_first(block, "diagnostic-code").split())[:MAX_DIAGNOSTIC_CHARS],
            )
        )
    return failures


def _inline_original(body: str) -> Headers:
    """Headers of the bounced message quoted in a legacy DSN's text (qmail, old Exim)."""
    found: Headers = []
    for name, value in _INLINE_HEADER.findall(body):
        if not any(key.lower() == name.lower() for key, _ in found):
            found.append((name, value))
    return found


def bounce_report(mail: Mail) -> Bounce:
    """What failed, for whom, and the headers of the message that bounced."""
    original = mail.original_headers if mail.original_headers is not None else _inline_original(mail.body)
    return Bounce(failures=_failures(mail.status_blocks), original=original)


def _line(failure: Failure) -> str:
    verb = "delayed" if failure.action == "delayed" else "failed"
    details = ", ".join(p for p in (f"status {failure.status}" if failure.status else "", failure.diagnostic) if p)
    return f"Delivery {verb} for {failure.recipient}" + (f": {details}" if details else "")


def summary(mail: Mail, bounce: Bounce) -> str:
    """A short human summary: status, diagnostic code and recipient per failure."""
    if is_complaint(mail):
        lines = ["The recipient marked the message as spam (abuse report)."]
    elif bounce.failures:
        lines = [_line(f) for f in bounce.failures]
    else:
        first_lines = [line.strip() for line in mail.body.splitlines() if line.strip()][:3]
        lines = ["Delivery failed (no machine-readable report).", *first_lines]
    return "\n".join(lines)[:MAX_SUMMARY_CHARS]
