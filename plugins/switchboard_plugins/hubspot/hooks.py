"""The ``hubspot`` connector's hooks, thin: its description, and each delivery handed to ``deliver``.

The hub imports every plugin at start-up only to call ``switchboard_plugin_info``,
so the delivery modules load on the first delivery, in the hook below.
"""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.transport import DeliveryContext

from .config import NAME, HubSpotConfig


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
        from .deliver import deliver  # lazy: see the module docstring

        return deliver(event, _as_config(config), context)


plugin = HubSpotConnector()
