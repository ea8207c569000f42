"""The demo tenant the local runtime seeds, and the dev secrets it writes down."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.hub import Hub
from chalicelib.tenancy.tenants import PluginSetting, TenantRecord


def new_whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def demo_channel_configs(hub_url: str) -> dict[str, dict[str, Any]]:
    """Dev configs for the provider channels; their secrets go to demo.json."""
    return {
        # public_base_url: the URL the demo "provider" signs is the one it calls
        "twilio": {"auth_token": secrets.token_hex(16), "public_base_url": hub_url},
        "wechat": {"token": "demo" + secrets.token_hex(8), "app_id": "wxdemo" + secrets.token_hex(6),
                   "encoding_aes_key": base64.b64encode(secrets.token_bytes(32)).decode().rstrip("="),
                   "mode": "safe"},
        "email": {"mailgun_signing_key": "key-" + secrets.token_hex(16), "support_address": "support@demo.example"},
    }


@dataclass(frozen=True)
class DemoTenant:
    tenant_id: str
    api_key: str
    web_secret: str
    webhook_secret: str
    hub_url: str
    receiver_url: str
    channels: dict[str, dict[str, Any]] = field(default_factory=dict)
    bucket: str = ""
    aws_endpoint: str = ""
    table: str = ""
    web_reply_secret: str = ""  # signs the web channel's replies to the demo receiver
    agent_email: str = ""  # the demo agent's sign-in (tools/local/agents.py)
    agent_password: str = ""
    sandbox: dict[str, str] = field(default_factory=dict)  # the provider sandbox's fakes by name: URL

    def hook_url(self, channel: str) -> str:
        return f"{self.hub_url}/hooks/{self.tenant_id}/{channel}"

    @property
    def web_hook_url(self) -> str:
        return self.hook_url("web")

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")
        path.chmod(0o600)  # dev secrets, but secrets all the same

    @classmethod
    def read(cls, path: Path) -> DemoTenant:
        return cls(**json.loads(path.read_text()))


def seed_demo_tenant(hub: Hub, *, hub_url: str, receiver_url: str, tenant_id: str = "demo",
                     channels: dict[str, dict[str, Any]] | None = None,
                     web_reply_url: str | None = None) -> DemoTenant:
    """Create (or replace) the demo tenant with every installed channel and the
    ``webhook`` connector enabled. ``channels``: the provider channels' configs (default:
    :func:`demo_channel_configs`); ``web_reply_url``: where the web channel's replies go."""
    web_secret, webhook_secret, reply_secret = new_whsec(), new_whsec(), new_whsec()
    if channels is None:
        channels = demo_channel_configs(hub_url)
    channels = {name: config for name, config in channels.items() if name in hub.registry.infos}
    web: dict[str, Any] = {"secrets": [web_secret]}
    if web_reply_url is not None:
        web |= {"reply_url": web_reply_url, "reply_signing_secret": reply_secret}
    plugins = {
        "web": PluginSetting(config=web),
        "webhook": PluginSetting(config={"url": receiver_url, "secret": webhook_secret}),
    } | {name: PluginSetting(config=config) for name, config in channels.items()}
    tenant = TenantRecord(id=tenant_id, name="Demo Company", created_at=hub.clock().isoformat(), plugins=plugins)
    hub.tenants.put(tenant)
    api_key = hub.api_keys.create(tenant_id, ["tenant-admin"])[1]
    return DemoTenant(tenant_id, api_key, web_secret, webhook_secret, hub_url, receiver_url, channels,
                      hub.settings.bucket, hub.settings.aws_endpoint or "", hub.settings.table_name,
                      web_reply_secret=reply_secret if web_reply_url is not None else "")
