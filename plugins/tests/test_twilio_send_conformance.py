"""The ``twilio`` channel passes the SDK's send conformance suite, with Twilio's own
answers: the Message resource on success, error JSON ``{"code", "message",
"more_info", "status"}`` otherwise (codes 20429, 20500, 20003)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from switchboard_plugins import twilio
from switchboard_plugins.twilio.config import TwilioConfig
from switchboard_sdk.sending import OutboundMessage
from switchboard_sdk.testing import Reply, SendConformance, sample_outbound

ACCOUNT = "AC" + "c3" * 16
AUTH = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
SID = "SM" + "d4" * 16


def twilio_error(code: int, status: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


class TestTwilioSends(SendConformance):
    hooks = twilio.plugin

    def make_config(self, base_url: str) -> BaseModel:
        return TwilioConfig.model_validate({"auth_token": AUTH, "account_sid": ACCOUNT, "api_base_url": base_url})

    def sample_message(self) -> OutboundMessage:
        message = sample_outbound("twilio")
        assert message.replying_to is not None
        # the number the customer wrote to, as the channel's parse stored it
        asked = message.replying_to.model_copy(update={"metadata": {"to": "+18005551212", "twilio_channel": "sms"}})
        return message.model_copy(update={"replying_to": asked})

    def provider_reply(self, scenario: str) -> Reply:
        return {
            "success": Reply.json(201, {"sid": SID, "status": "queued", "account_sid": ACCOUNT,
                                        "to": "+14155550100", "from": "+18005551212", "direction": "outbound-api"}),
            "rate_limited": Reply.json(429, twilio_error(20429, 429, "Too Many Requests"), {"Retry-After": "2"}),
            "server_error": Reply.json(500, twilio_error(20500, 500, "Internal Server Error")),
            "auth_failure": Reply.json(401, twilio_error(20003, 401, "Authenticate")),
        }[scenario]
