"""The ``salesforce`` connector: each ticket a Case, each message a comment on it.

Per event, one composite call (``allOrNone``) to the tenant's org, authorised by
the OAuth 2.0 client credentials flow::

    ticket.created   Contact upsert (by customer id) → Case upsert (by ticket id)
    message.created  Contact upsert → Case upsert → CaseComment create
                     (or an upsert by message id on a custom comment object)

Upserts by external id make replays harmless; the comment is guarded by the
hub's external id map (``context.external_ids``). Modules: ``config`` (tenant
settings), ``auth`` (tokens, cached per container), ``records`` (the subrequests),
``responses`` (Salesforce errors → outcomes), ``deliver`` (one delivery). See
``docs/connectors/salesforce.md``.
"""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.transport import DeliveryContext

from .config import NAME, SalesforceConfig

# The hub imports every plugin at start-up only to call switchboard_plugin_info, so
# the delivery modules load on first delivery (see the import in the hook below).


def _as_config(config: BaseModel) -> SalesforceConfig:
    return expect_config(config, SalesforceConfig)


class SalesforceConnector:
    """The plugin object registered under the ``salesforce`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME,
            kind="connector",
            contract_version=CONTRACT_VERSION,
            config_model=SalesforceConfig,
            version="0.1.0",
            summary="Salesforce Service Cloud: a Contact and Case per ticket, a comment per message",
        )

    @hookimpl
    def switchboard_connector_deliver(
        self, event: EventEnvelope, config: BaseModel, context: DeliveryContext
    ) -> DeliveryOutcome:
        from .deliver import deliver  # lazy: see the note at the imports

        return deliver(event, _as_config(config), context)


plugin = SalesforceConnector()

__all__ = ["NAME", "SalesforceConfig", "SalesforceConnector", "plugin"]
