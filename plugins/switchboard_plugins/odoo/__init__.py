"""The ``odoo`` connector: tickets become Helpdesk tickets (or CRM leads), messages chatter notes.

Per event it finds or creates the customer's ``res.partner``, the ticket's
``helpdesk.ticket`` (``crm.lead`` when Helpdesk is not installed) and posts each
message as an internal note with ``message_post``. It speaks Odoo 19's JSON-2 API
and falls back to the legacy JSON-RPC API on older servers. Modules: ``config``
(tenant settings), ``client`` (the two protocols, error classification),
``records`` (what is created, idempotency), ``updates`` and ``workflow`` (stage,
priority, salesperson changes; SLA and CSAT notes), ``deliver`` (one delivery), ``hooks``
(the plugin object). See ``docs/connectors/odoo.md``.
"""

from .hooks import plugin

__all__ = ["plugin"]
