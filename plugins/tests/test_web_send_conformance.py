"""The ``web`` channel passes the SDK's send conformance suite: the business's backend at
``reply_url`` is the "provider"."""

from __future__ import annotations

import base64

from pydantic import BaseModel
from switchboard_plugins import web
from switchboard_plugins.web.config import WebConfig
from switchboard_sdk.models import Identity
from switchboard_sdk.sending import OutboundMessage
from switchboard_sdk.testing import Reply, SendConformance, sample_outbound

INBOUND = "whsec_" + base64.b64encode(b"inbound-secret-for-tests-32bytes").decode()
REPLY = "whsec_" + base64.b64encode(b"reply-secret-for-the-backend-32b").decode()


class TestWebSends(SendConformance):
    hooks = web.plugin

    def make_config(self, base_url: str) -> BaseModel:
        return WebConfig.model_validate(
            {"secrets": [INBOUND], "reply_url": base_url + "/switchboard/replies", "reply_signing_secret": REPLY}
        )

    def sample_message(self) -> OutboundMessage:
        return sample_outbound("web").model_copy(update={"to": Identity(kind="visitor", value="v-123")})

    def provider_reply(self, scenario: str) -> Reply:
        return {
            "success": Reply.json(200, {"id": "chat-778"}),
            "rate_limited": Reply.json(429, {"error": "too many replies"}, {"Retry-After": "30"}),
            "server_error": Reply.json(502, {"error": "bad gateway"}),
            "auth_failure": Reply.json(401, {"error": "signature did not verify"}),
        }[scenario]
