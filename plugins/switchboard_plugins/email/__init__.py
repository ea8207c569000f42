"""The ``email`` channel: Mailgun route POSTs and SES receipt rules into one MIME parser.

Modules, one concept each: :mod:`.config` (tenant settings), :mod:`.decoding`
(charsets, RFC 2047), :mod:`.mime` (raw MIME → :class:`~.mime.Mail`), :mod:`.text`
(HTML → text, reply vs quoted history), :mod:`.threading` (ticket hints),
:mod:`.loops` (bounces, auto-replies), :mod:`.normalise` (→ ``InboundMessage``),
:mod:`.mailgun` (signature, form body) and :mod:`.plugin` (the hooks).
"""

from .config import EmailConfig
from .mailgun import mailgun_signature
from .plugin import EmailChannel, parse_mime, plugin

__all__ = ["EmailChannel", "EmailConfig", "mailgun_signature", "parse_mime", "plugin"]
