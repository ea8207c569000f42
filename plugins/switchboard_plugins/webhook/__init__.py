"""The ``webhook`` connector: POST each event to a tenant's URL, signed per Standard Webhooks.

``webhook-id`` is the event id, stable across retries and replays, so receivers
de-duplicate on it. Outcomes are classified from the status code by the SDK's
shared table (:mod:`switchboard_sdk.outcomes`); a receiver's failure is never
raised. Modules: ``config`` (tenant settings), ``client`` (the signed request),
``deliver`` (one delivery, classified), ``hooks`` (the plugin object). See
``docs/connectors/webhook.md``.
"""

from .hooks import plugin

__all__ = ["plugin"]
