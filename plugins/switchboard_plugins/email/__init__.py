"""The ``email`` channel: Mailgun route POSTs and SES receipt rules into one MIME parser.

Modules, one concept each: :mod:`.config` (tenant settings), :mod:`.decoding`
(charsets, RFC 2047), :mod:`.mime` (raw MIME → :class:`~.mime.Mail`), :mod:`.text`
(HTML → text, reply vs quoted history), :mod:`.threading` (ticket hints),
:mod:`.loops` (bounces, auto-replies), :mod:`.normalise` (→ ``InboundMessage``),
:mod:`.mailgun` (signature, form body) and :mod:`.plugin` (the hooks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .config import EmailConfig
from .plugin import EmailChannel, parse_mime, plugin

if TYPE_CHECKING:
    from .mailgun import mailgun_signature


def __getattr__(name: str) -> object:
    # PEP 562: the hub imports this package at start-up; .mailgun (the stdlib
    # email parser) loads only when mailgun_signature is first asked for
    if name == "mailgun_signature":
        from .mailgun import mailgun_signature

        globals()[name] = mailgun_signature
        return mailgun_signature
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["EmailChannel", "EmailConfig", "mailgun_signature", "parse_mime", "plugin"]
