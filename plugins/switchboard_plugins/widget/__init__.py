"""The ``widget`` channel: the hub's own web chat widget, embedded in a business's site.

Visitors' browsers never reach this plugin directly: the hub's ``/widget/{tenant}/…``
routes check the page's origin, the visitor's token, rate limits and uploads, then hand
each message to the ingestor with the hub's seal (``switchboard_sdk.visitor_tokens``).
The plugin verifies all three (token, origin, seal), reads the message and answers with
its id. Replies are not pushed anywhere: the widget polls the hub, so a reply is
``sent`` once stored, and the poll marks it ``delivered`` (handed to the widget) and
``read`` (shown in an open widget). See ``docs/channels/widget.md``.

Modules: ``config`` (tenant settings), ``verify`` (token, origin, seal), ``parse`` (the
body → ``InboundMessage``), ``respond`` (the 202 answer), ``hooks`` (the plugin object).
"""

from .hooks import plugin

__all__ = ["plugin"]
