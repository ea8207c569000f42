"""The ``hubspot`` connector: Switchboard tickets and messages as HubSpot CRM records.

Each ``ticket.created`` event becomes a HubSpot ticket in the configured pipeline,
associated with the customer's contact (found or created); each ``message.created``
event becomes a note on that ticket. ``ticket.updated`` / ``ticket.assigned`` move its
stage, priority and owner; SLA and CSAT events become notes (``workflow``). Records carry Switchboard ids in custom
properties, so retries and replays find them instead of creating duplicates.
Modules: ``config`` (tenant settings), ``client`` (HTTP, outcomes), ``bodies``
(request bodies), ``records`` (find-or-create), ``deliver`` (per event type),
``hooks`` (the plugin object).
See ``docs/connectors/hubspot.md``.
"""

from .hooks import plugin

__all__ = ["plugin"]
