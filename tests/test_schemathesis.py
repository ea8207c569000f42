"""Property-based API tests: schemathesis generates requests from /openapi.json's
document and sends them over HTTP to the local runtime (moto's server, the real
app). No response may be a 5xx, and every response must match its documented
status codes, content type and schema.

Bounded: a fixed number of examples per operation, no shrinking, loopback only.
Keys: the platform routes get a platform-admin key, the tenant routes the demo
tenant's admin key, the provider webhooks none (they sign their own way).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from chalicelib.api.openapi import document
from chalicelib.hub import Hub, set_hub
from tools.local.demo import DemoTenant
from tools.local.runtime import LocalRuntime, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]
EXAMPLES = 25
# TRACE and friends never reach the app: API Gateway answers them (and the local
# dev server's 501 for them is not ours to test)
CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"unexpected-methods": []}}})
schema = schemathesis.openapi.from_dict(document(), config=CONFIG)


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Hub, DemoTenant, str]]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SWITCHBOARD_API_RATE", "100000")  # the limiter is tested apart; here it would only mask
        env.delenv("SWITCHBOARD_AWS_ENDPOINT", raising=False)
        local = LocalRuntime(port=free_port(), receiver_port=free_port(),
                             state_dir=tmp_path_factory.mktemp("state"), queue_workers=1)
        hub, demo = local.serve_in_background()
        try:
            platform_key = hub.api_keys.create(None, ["platform-admin"], name="schemathesis")[1]
            yield hub, demo, platform_key
        finally:
            local.stop()
            set_hub(None)


def _headers(path: str, demo: DemoTenant, platform_key: str) -> dict[str, str]:
    if path.startswith("/hooks/") or path in ("/health", "/openapi.json"):
        return {}
    key = platform_key if path.startswith("/v1/admin/") else demo.api_key
    return {"Authorization": f"Bearer {key}"}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_answers_every_generated_request_without_5xx_and_as_documented(
    case: Any, runtime: tuple[Hub, DemoTenant, str]
) -> None:
    _, demo, platform_key = runtime
    case.call_and_validate(base_url=demo.hub_url, headers=_headers(case.path, demo, platform_key), timeout=30,
                           # a schema-valid but impossible request (a key expiring in 2000) may be 4xx
                           excluded_checks=[positive_data_acceptance])
