"""The ``web`` channel: signed server-to-server JSON from a business's site or app.

Requests are signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``). The tenant config holds one or more ``whsec_`` secrets so
a business can rotate without downtime. The channel has no GET handshake, so the
hub answers a GET with 405. See ``docs/channels/web.md``.

Modules: ``config`` (tenant settings), ``verify`` (the signature), ``parse`` (the
JSON body → ``InboundMessage``), ``respond`` (the 202 answer), ``hooks`` (the
plugin object). The signing scheme itself is the SDK's
:mod:`switchboard_sdk.standard_webhooks`.
"""

from .hooks import plugin

__all__ = ["plugin"]
