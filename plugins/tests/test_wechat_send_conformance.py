"""The ``wechat`` channel passes the SDK's send conformance suite. WeChat answers HTTP 200
with an ``errcode`` for its refusals, and the token endpoint answers differently from the
message endpoint, so each scenario is answered per endpoint."""

from __future__ import annotations

from pydantic import BaseModel
from switchboard_plugins.wechat import plugin
from switchboard_plugins.wechat.config import WeChatConfig
from switchboard_sdk.models import Identity
from switchboard_sdk.sending import OutboundMessage
from switchboard_sdk.testing import Recorded, Reply, SendConformance, sample_outbound

TOKEN_PATH = "/cgi-bin/stable_token"  # noqa: S105 - a path
ERRORS = {  # WeChat's answers (HTTP 200) in each failing scenario
    "rate_limited": {"errcode": 45011, "errmsg": "api minute-quota reach limit mustslower retry next minute"},
    "server_error": {"errcode": -1, "errmsg": "system error"},
    "auth_failure": {"errcode": 40125, "errmsg": "invalid appsecret"},
}


class TestWeChatSends(SendConformance):
    hooks = plugin

    def make_config(self, base_url: str) -> BaseModel:
        return WeChatConfig.model_validate({
            "token": "sbToken2026", "app_id": "wx2c2769f8efd9abc2", "mode": "safe",
            "encoding_aes_key": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
            "app_secret": "a1b2c3d4e5f60718293a4b5c6d7e8f90", "api_base_url": base_url,
        })

    def sample_message(self) -> OutboundMessage:
        return sample_outbound("wechat").model_copy(
            update={"to": Identity(kind="wechat_openid", value="oyORnuP8q7ou2gfYjqLzSIWZf0rs")}
        )

    def provider_reply(self, scenario: str) -> Reply:
        if scenario == "success":
            return Reply.json(200, {"errcode": 0, "errmsg": "ok"})
        return Reply.json(200, ERRORS[scenario])

    def provider_answer(self, scenario: str, request: Recorded) -> Reply:
        if scenario == "success" and request.path == TOKEN_PATH:
            return Reply.json(200, {"access_token": "conformance-access-token", "expires_in": 7200})
        return self.provider_reply(scenario)
