"""The demo tenant the local runtime seeds, and the dev secrets it writes down."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from ..hub import Hub
from ..tenants import PluginSetting, TenantRecord


def new_whsec() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class DemoTenant:
    tenant_id: str
    api_key: str
    web_secret: str
    webhook_secret: str
    hub_url: str
    receiver_url: str

    @property
    def web_hook_url(self) -> str:
        return f"{self.hub_url}/hooks/{self.tenant_id}/web"

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = asdict(self) | {"web_hook_url": self.web_hook_url}
        path.write_text(json.dumps(data, indent=2) + "\n")
        path.chmod(0o600)  # dev secrets, but secrets all the same

    @classmethod
    def read(cls, path: Path) -> DemoTenant:
        data = json.loads(path.read_text())
        data.pop("web_hook_url", None)
        return cls(**data)


def seed_demo_tenant(hub: Hub, *, hub_url: str, receiver_url: str, tenant_id: str = "demo") -> DemoTenant:
    """Create (or replace) the demo tenant with ``web`` and ``webhook`` enabled."""
    web_secret, webhook_secret = new_whsec(), new_whsec()
    tenant = TenantRecord(
        id=tenant_id,
        name="Demo Company",
        created_at=hub.clock().isoformat(),
        plugins={
            "web": PluginSetting(config={"secrets": [web_secret]}),
            "webhook": PluginSetting(config={"url": receiver_url, "secret": webhook_secret}),
        },
    )
    hub.tenants.put(tenant)
    api_key = hub.tenants.create_api_key(tenant_id, ["tenant-admin"], hub.clock())
    return DemoTenant(tenant_id, api_key, web_secret, webhook_secret, hub_url, receiver_url)
