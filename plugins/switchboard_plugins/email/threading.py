"""Threading hints: which ticket or earlier message an email continues.

Only extraction happens here. The hub follows a hint only when the sender is the
customer of the ticket it leads to (Zammad #5064: a stranger quoting a ticket
reference must not land in that ticket), so a hint from anyone is still reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.utils import getaddresses

from switchboard_sdk.models import ThreadHints, ticket_id_from_ref, ticket_ref

from .decoding import header_text
from .mime import Headers, values

MAX_TICKET_REFS = 10
MAX_PROVIDER_IDS = 50
MAX_ID_CHARS = 512

TICKET_HEADER = "X-Switchboard-Ticket"
RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to")
# Headers of mail *we* sent that may carry our plus-address (used for bounces).
SENDER_HEADERS = ("from", "reply-to", "sender", "return-path")

_SUBJECT_TAG = re.compile(r"\[#([A-Za-z2-7]{26})\]")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def message_ids(value: str | None) -> list[str]:
    """The ids in an In-Reply-To/References/Message-ID value, without ``<>``.
    A lone unbracketed id (some clients) is accepted as it is."""
    if not value:
        return []
    found = _MESSAGE_ID.findall(value)
    if not found and value.strip() and not any(c.isspace() for c in value.strip()):
        found = [value.strip()]
    return [i for i in found if len(i) <= MAX_ID_CHARS]


def address_pairs(raw_values: Iterable[str]) -> list[tuple[str, str]]:
    """``(display name, address)`` pairs of raw address-list header values. The stdlib
    recurses once per nested comment, so ``From: ((((…`` raises RecursionError; such a
    header holds no address we could trust anyway."""
    try:
        return getaddresses(list(raw_values))
    except RecursionError:
        return []


def addresses(raw_values: Iterable[str]) -> list[str]:
    """Bare addresses (lower-case) from raw address-list header values."""
    return [addr.strip().lower() for _, addr in address_pairs(raw_values) if "@" in addr]


def _canonical(token: str) -> str | None:
    ticket_id = ticket_id_from_ref(token)
    return ticket_ref(ticket_id) if ticket_id else None


def plus_address_refs(recipients: Iterable[str], support_address: str | None) -> list[str]:
    """Refs in ``name+REF@domain`` recipients; with a support address configured,
    only ``support+REF@`` its own domain counts."""
    base = support_address.partition("@") if support_address else None
    refs: list[str] = []
    for address in recipients:
        local, _, domain = address.rpartition("@")
        name, plus, tags = local.partition("+")
        if not plus or (base is not None and (name, domain) != (base[0], base[2])):
            continue
        refs.extend(ref for tag in tags.split("+") if (ref := _canonical(tag)))
    return refs


def plus_address(address: str, ref: str) -> str:
    """``name+REF@domain``: the Reply-To of our replies, read back by :func:`plus_address_refs`."""
    local, _, domain = address.rpartition("@")
    return f"{local}+{ref}@{domain}"


def header_refs(values: Iterable[str]) -> list[str]:
    """Refs in our own ``X-Switchboard-Ticket`` header (a ref, or a ``tkt_`` id)."""
    refs: list[str] = []
    for value in values:
        token = value.strip()
        token = token[4:] if token.lower().startswith("tkt_") else token
        if ref := _canonical(token):
            refs.append(ref)
    return refs


def subject_tag(ref: str) -> str:
    """``[#REF]``: the tag our replies' subjects carry, read back by :func:`subject_refs`."""
    return f"[#{ref}]"


def subject_refs(subject: str | None) -> list[str]:
    """Refs in ``[#REF]`` subject tags."""
    return [ref for tag in _SUBJECT_TAG.findall(subject or "") if (ref := _canonical(tag))]


def ticket_refs(
    headers: Headers, *, extra_recipients: Iterable[str] = (), support_address: str | None, senders: bool = False
) -> list[str]:
    """Refs strongest first: plus-address, our header, subject tag. ``senders`` also
    reads From/Reply-To/Sender/Return-Path — for the original of a bounce, which we sent."""
    names = RECIPIENT_HEADERS + (SENDER_HEADERS if senders else ())
    recipients = addresses(values(headers, *names)) + [a.strip().lower() for a in extra_recipients]
    subjects = [header_text(subject) for subject in values(headers, "subject")[:1]]
    return _unique(
        plus_address_refs(recipients, support_address)
        + header_refs(values(headers, TICKET_HEADER))
        + subject_refs(subjects[0] if subjects else None)
    )


def provider_ids(headers: Headers) -> list[str]:
    """In-Reply-To, then References newest first (the last id is the direct parent)."""
    in_reply_to = [i for v in values(headers, "in-reply-to") for i in message_ids(v)]
    references = [i for v in values(headers, "references") for i in message_ids(v)]
    return _unique(in_reply_to + references[::-1])


def hints(refs: list[str], ids: list[str]) -> ThreadHints:
    """A :class:`ThreadHints`, cut to the SDK's limits."""
    return ThreadHints(ticket_refs=_unique(refs)[:MAX_TICKET_REFS], provider_ids=_unique(ids)[:MAX_PROVIDER_IDS])
