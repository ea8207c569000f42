"""The ``webhook`` connector's hooks: its description and the delivery, handed to ``deliver``
(imported on first delivery: only the delivery Lambda needs it)."""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.transport import DeliveryContext

from .config import NAME, WebhookConfig


def _as_config(config: BaseModel) -> WebhookConfig:
    return expect_config(config, WebhookConfig)


class WebhookConnector:
    """The plugin object registered under the ``webhook`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME,
            kind="connector",
            contract_version=CONTRACT_VERSION,
            config_model=WebhookConfig,
            version="0.1.0",
            summary="POST every event to a URL, signed per Standard Webhooks",
        )

    @hookimpl
    def switchboard_connector_deliver(
        self, event: EventEnvelope, config: BaseModel, context: DeliveryContext
    ) -> DeliveryOutcome:
        from .deliver import deliver

        return deliver(event, _as_config(config), context)


plugin = WebhookConnector()
