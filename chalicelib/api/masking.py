"""Masks for customers' contact identities: what a role that does not need them sees.

Pure functions, no I/O. A masked value keeps what an agent needs to tell customers
apart and confirm one on the phone — a phone number's country code and last four
digits (``+86 138****5678``), an email address's first letter and domain
(``j***@example.com``), a few characters of an opaque id (``oAb****x9Z``) — and never
the whole value. Attributes the tenant marks personal (``workflow.personal_attributes``:
an address, a birthday) show their last two characters at most (``***op``). Names are
not masked: an agent addresses the customer by name
(docs/security.md says what is masked for whom).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

STARS = "****"
# ITU-T E.164 country codes are prefix-free: 1 and 7 are one digit, these two, the rest three
_TWO_DIGIT_CODES = frozenset({
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
    "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66", "81", "82", "84",
    "86", "90", "91", "92", "93", "94", "95", "98",
})


def country_code(digits: str) -> str:
    """The country code an E.164 number's digits (no ``+``) start with."""
    if digits[:1] in ("1", "7"):
        return digits[:1]
    return digits[:2] if digits[:2] in _TWO_DIGIT_CODES else digits[:3]


def mask_phone(value: str) -> str:
    """``+8613812345678`` → ``+86 138****5678``: country code, the first three national
    digits when at least four others stay hidden, the last four when as many stay hidden."""
    digits = value.lstrip("+")
    if not digits.isdigit() or len(digits) < 4:
        return STARS
    code = country_code(digits)
    national = digits[len(code):]
    tail = national[-4:] if len(national) >= 8 else ""
    head = national[:3] if len(national) - len(tail) - 3 >= 4 else ""
    return f"+{code} {head}{STARS}{tail}"


def mask_email(value: str) -> str:
    """``john@example.com`` → ``j***@example.com`` (``***@…`` for a local part under 3 characters)."""
    local, at, domain = value.rpartition("@")
    if not at:
        return mask_opaque(value)
    if not local:
        return f"***@{domain}"
    return f"{local[0] if len(local) >= 3 else ''}***@{domain}"


def mask_opaque(value: str) -> str:
    """WeChat openids/unionids, visitor ids: a few characters at each end of a long id."""
    if len(value) >= 12:
        return f"{value[:3]}{STARS}{value[-3:]}"
    if len(value) >= 6:
        return f"{value[:2]}{STARS}"
    return STARS


def mask_identity(kind: str, value: str) -> str:
    if kind == "phone":
        masked = mask_phone(value)
    elif kind == "email":
        masked = mask_email(value)
    else:
        masked = mask_opaque(value)
    return masked if value not in masked else _FALLBACKS[value in _FALLBACKS[0]]


_FALLBACKS = ("[masked]", STARS)  # a value inside its own mask (``*``, ``***@x.io``): one of these never holds it


def mask_identity_key(key: str) -> str:
    """``kind:value`` (merge records name identities so) with the value masked."""
    kind, sep, value = key.partition(":")
    return f"{kind}:{mask_identity(kind, value)}" if sep else mask_opaque(key)


def mask_attribute(value: str) -> str:
    """A personal attribute's value: ``***`` and its last two characters when at least six stay hidden."""
    return f"***{value[-2:]}" if len(value) >= 8 else "***"


def mask_attributes(attributes: dict[str, str], personal: Collection[str]) -> dict[str, str]:
    """``attributes`` with the values of those named in ``personal`` masked."""
    return {k: mask_attribute(v) if k in personal else v for k, v in attributes.items()}


def mask_customer(view: dict[str, Any], personal: Collection[str] = ()) -> dict[str, Any]:
    """A customer's JSON view with every identity's value masked, and the values of the
    attributes named in ``personal`` (the rest as it was)."""
    identities = [i | {"value": mask_identity(str(i.get("kind")), str(i.get("value", "")))}
                  for i in view.get("identities", [])]
    return view | {"identities": identities, "attributes": mask_attributes(dict(view.get("attributes") or {}),
                                                                           personal)}
