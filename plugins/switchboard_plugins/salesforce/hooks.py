"""The ``salesforce`` connector's hooks, thin: its description, and each delivery handed to ``deliver``.

The hub imports every plugin at start-up only to call ``switchboard_plugin_info``,
so the delivery modules load on first delivery (see the import in the hook below).
"""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.transport import DeliveryContext

from .config import NAME, SalesforceConfig


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
        from .deliver import deliver  # lazy: see the module docstring

        return deliver(event, _as_config(config), context)


plugin = SalesforceConnector()
