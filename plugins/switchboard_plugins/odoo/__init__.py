"""The ``odoo`` connector: tickets become Helpdesk tickets (or CRM leads), messages chatter notes.

Per event it finds or creates the customer's ``res.partner``, the ticket's
``helpdesk.ticket`` (``crm.lead`` when Helpdesk is not installed) and posts each
message as an internal note with ``message_post``. It speaks Odoo 19's JSON-2 API
and falls back to the legacy JSON-RPC API on older servers. Modules: ``config``
(tenant settings), ``rpc`` (the two protocols, error classification), ``sync``
(what is created, idempotency, the delivery). See ``docs/connectors/odoo.md``.
"""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_sdk.hookspecs import CONTRACT_VERSION, PluginInfo, expect_config, hookimpl
from switchboard_sdk.models import DeliveryOutcome, EventEnvelope
from switchboard_sdk.transport import DeliveryContext

from .config import NAME, OdooConfig


def _as_config(config: BaseModel) -> OdooConfig:
    return expect_config(config, OdooConfig)


class OdooConnector:
    """The plugin object registered under the ``odoo`` entry point."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(
            name=NAME,
            kind="connector",
            contract_version=CONTRACT_VERSION,
            config_model=OdooConfig,
            version="0.1.0",
            summary="Tickets into Odoo Helpdesk (or CRM leads), messages into their chatter",
        )

    @hookimpl
    def switchboard_connector_deliver(
        self, event: EventEnvelope, config: BaseModel, context: DeliveryContext
    ) -> DeliveryOutcome:
        # imported here: the hub imports every plugin at start-up only for its info
        from .sync import deliver

        return deliver(event, _as_config(config), context)


plugin = OdooConnector()

__all__ = ["OdooConfig", "OdooConnector", "plugin"]
