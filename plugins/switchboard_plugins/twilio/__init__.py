"""The ``twilio`` channel: SMS, MMS and WhatsApp messages, and voice calls.

Twilio posts form-encoded webhooks to ``/hooks/{tenant}/twilio`` and signs each
with ``X-Twilio-Signature`` (HMAC-SHA1 over the URL it called plus the sorted
POST parameters). Voice calls are answered with TwiML that sends every callback
back to the same URL with an ``event`` query marker:

* ``?event=recording``: ``<Record recordingStatusCallback>`` (the voicemail)
* ``?event=recorded``: ``<Record action>`` (the call flow after recording; hangs up)
* ``?event=transcription``: ``<Record transcribeCallback>``
* ``?event=status``: ``<Dial action>`` in forward mode, and the number's
  "call status changes" URL if the tenant sets one

The marker is part of the signed URL, so it cannot be forged. Modules: ``config``
(tenant settings), ``signing`` (``X-Twilio-Signature`` itself: public, for tools that
sign sample requests), ``verify`` (which URL Twilio signed, which token signed it),
``parse`` (→ ``InboundMessage``), ``respond`` (TwiML), ``hooks`` (the plugin object).
See ``docs/channels/twilio.md``.
"""

from .hooks import plugin

__all__ = ["plugin"]
