"""The ``salesforce`` connector: each ticket a Case, each message a comment on it.

Per event, one composite call (``allOrNone``) to the tenant's org, authorised by
the OAuth 2.0 client credentials flow::

    ticket.created   Contact upsert (by customer id) → Case upsert (by ticket id)
    message.created  Contact upsert → Case upsert → CaseComment create
                     (or an upsert by message id on a custom comment object)
    ticket.updated   Contact upsert → Case upsert of the changed Status, Priority, OwnerId
    ticket.assigned  (the same, for OwnerId; ``workflow`` reads both)
    ticket.sla_*     Contact upsert → Case upsert → comment (by event id)
    csat.received

Upserts by external id make replays harmless; the comment is guarded by the
hub's external id map (``context.external_ids``). Modules: ``config`` (tenant
settings), ``auth`` (tokens, cached per container), ``client`` (authorised API
calls), ``records`` (the subrequests), ``responses`` (Salesforce errors →
outcomes), ``deliver`` (one delivery), ``hooks`` (the plugin object). See
``docs/connectors/salesforce.md``.
"""

from .hooks import plugin

__all__ = ["plugin"]
