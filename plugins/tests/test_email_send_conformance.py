"""The ``email`` channel's Mailgun sending path passes the SDK's send conformance suite."""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_plugins import email
from switchboard_plugins.email.config import EmailConfig
from switchboard_sdk.models import Identity
from switchboard_sdk.sending import OutboundMessage
from switchboard_sdk.testing import Reply, SendConformance, sample_outbound


class TestEmailSendsThroughMailgun(SendConformance):
    hooks = email.plugin

    def make_config(self, base_url: str) -> BaseModel:
        return EmailConfig.model_validate({
            "from_address": "support@acme.test", "mailgun_api_key": "key-conformance-0123456789",
            "mailgun_signing_key": "key-signing-0123456789", "mailgun_domain": "mg.acme.test",
            "api_base_url": base_url,
        })

    def sample_message(self) -> OutboundMessage:
        return sample_outbound("email").model_copy(update={"to": Identity(kind="email", value="ada@example.com")})

    def provider_reply(self, scenario: str) -> Reply:
        return {
            "success": Reply.json(200, {"id": "<20260102030405.1a2b3c@mg.acme.test>", "message": "Queued. Thank you."}),
            "rate_limited": Reply.json(429, {"message": "Too many requests"}, {"Retry-After": "5"}),
            "server_error": Reply.json(500, {"message": "Internal Server Error"}),
            "auth_failure": Reply(401, b"Forbidden", {"Content-Type": "text/plain"}),
        }[scenario]


def test_replies_go_to_the_customers_email_address() -> None:
    assert email.plugin.switchboard_plugin_info().sends_to == ("email",)
