"""The ``hubspot`` connector: Switchboard tickets and messages as HubSpot CRM records.

Each ``ticket.created`` event becomes a HubSpot ticket in the configured pipeline,
associated with the customer's contact (found or created); each ``message.created``
event becomes a note on that ticket. Records carry Switchboard ids in custom
properties, so retries and replays find them instead of creating duplicates.
Modules: ``config`` (tenant settings), ``client`` (HTTP, outcomes), ``bodies``
(request bodies), ``records`` (find-or-create), ``delivery`` (per event type).
See ``docs/connectors/hubspot.md``.
"""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.transport import DeliveryContext

from .config import NAME, HubSpotConfig

# The hub imports every plugin at start-up only to call switchboard_plugin_info:
# the delivery modules load on the first delivery, in the hook below.


def _as_config(config: BaseModel) -> HubSpotConfig:
    return expect_config(config, HubSpotConfig)


class HubSpotConnector:
    """The plugin object registered under the ``hubspot`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME,
            kind="connector",
            contract_version=CONTRACT_VERSION,
            config_model=HubSpotConfig,
            version="0.1.0",
            summary="HubSpot CRM: a ticket per Switchboard ticket, a note per message, contacts upserted",
        )

    @hookimpl
    def switchboard_connector_deliver(
        self, event: EventEnvelope, config: BaseModel, context: DeliveryContext
    ) -> DeliveryOutcome:
        from .delivery import deliver  # lazy: see the note at the imports

        return deliver(event, _as_config(config), context)


plugin = HubSpotConnector()

__all__ = ["NAME", "HubSpotConfig", "HubSpotConnector", "plugin"]
