"""The ``web`` channel: signed server-to-server JSON from a business's site or app.

Requests are signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``). The tenant config holds one or more ``whsec_`` secrets so
a business can rotate without downtime. The channel has no GET handshake, so the
hub answers a GET with 405. See ``docs/channels/web.md``.

Agents' replies are POSTed to the tenant's ``reply_url`` (the business's backend),
signed the same way with ``reply_signing_secret``.

Modules: ``config`` (tenant settings), ``verify`` (the signature), ``parse`` (the
JSON body → ``InboundMessage``), ``respond`` (the 202 answer), ``send`` (a reply,
signed, to ``reply_url``), ``hooks`` (the plugin object). The signing scheme itself
is the SDK's :mod:`switchboard_sdk.standard_webhooks`.
"""

from .hooks import plugin

__all__ = ["plugin"]
