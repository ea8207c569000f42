"""The ``email`` channel: Mailgun route POSTs and SES receipt rules into one MIME parser.

Modules, one concept each: :mod:`.config` (tenant settings), :mod:`.signing`
(Mailgun's signature: public, for tools that sign sample POSTs), :mod:`.form` (the
route POST's body), :mod:`.verify` (signature, replay window, one-time token),
:mod:`.mailgun` (form → :class:`~.mime.Mail`), :mod:`.decoding` (charsets, RFC
2047), :mod:`.mime` (raw MIME → :class:`~.mime.Mail`), :mod:`.text` (HTML → text,
reply vs quoted history), :mod:`.threading` (ticket hints), :mod:`.loops` (bounces,
auto-replies), :mod:`.authenticity` (SPF/DKIM/DMARC verdicts), :mod:`.normalise`
(→ ``InboundMessage``), :mod:`.parse` (both ingress paths), :mod:`.respond` (the
answer) and :mod:`.hooks` (the plugin object).
"""

from .hooks import plugin

__all__ = ["plugin"]
