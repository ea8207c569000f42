"""The ``wechat`` channel's replies against a loopback fake of WeChat's API (tools/local/sandbox/wechat.py):
the shared token, its refresh, the 48-hour window and reply budget, and every errcode the docs name."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fakes import LOOPBACK_ALLOWED, loopback_allowed, loopback_transport
from pydantic import ValidationError
from switchboard_plugins.wechat import plugin
from switchboard_plugins.wechat.config import WeChatConfig
from switchboard_sdk.models import Identity
from switchboard_sdk.netguard import OutboundPolicy, validation_context
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.sending import MemoryTokens, OutboundMessage, SendContext, SendOutcome
from switchboard_sdk.testing import Reply, StatusServer

from tools.local.sandbox.wechat import FakeWeChat

__all__ = ["loopback_allowed"]  # autouse: configs may name the loopback fakes (see fakes/__init__.py)

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
APP_ID = "wx2c2769f8efd9abc2"
APP_SECRET = "a1b2c3d4e5f60718293a4b5c6d7e8f90"  # noqa: S105 - a test fixture
OPENID = "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
TRANSPORT = loopback_transport()
SEND = "/cgi-bin/message/custom/send"
TOKEN = "/cgi-bin/stable_token"  # noqa: S105 - a path


def config(base_url: str, **extra: Any) -> WeChatConfig:
    raw = {"token": "sbToken2026", "app_id": APP_ID, "mode": "plaintext", "app_secret": APP_SECRET,
           "api_base_url": base_url, **extra}
    return WeChatConfig.model_validate(raw, context=validation_context(LOOPBACK_ALLOWED))


def reply(text: str = "Your order ships today.", **changes: Any) -> OutboundMessage:
    base: dict[str, Any] = {
        "id": "msg_r1", "tenant_id": "t1", "channel": "wechat", "ticket_id": "tkt_1", "ticket_ref": "T-1",
        "customer_id": "cus_1", "to": Identity(kind="wechat_openid", value=OPENID), "text": text,
        "last_inbound_at": NOW - timedelta(hours=1), "replies_since_inbound": 0, "created_at": NOW,
    }
    return OutboundMessage.model_validate(base | changes)


def context(tokens: MemoryTokens | None = None, *, timeout: float = 5.0) -> SendContext:
    return SendContext(http=TRANSPORT, clock=lambda: NOW, timeout_seconds=timeout,
                       tokens=tokens if tokens is not None else MemoryTokens(clock=lambda: NOW))


def send(fake: FakeWeChat | StatusServer, message: OutboundMessage | None = None,
         ctx: SendContext | None = None, **extra: Any) -> SendOutcome:
    outcome = plugin.switchboard_channel_send(message=message or reply(), config=config(fake.url, **extra),
                                              context=ctx or context())
    assert isinstance(outcome, SendOutcome)
    return outcome


def paths(fake: FakeWeChat) -> list[str]:
    return [request.path.partition("?")[0] for request in fake.requests]


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat(APP_ID, APP_SECRET, clock=lambda: NOW.timestamp()) as server:
        yield server


# -- wiring ---------------------------------------------------------------------------------------


def test_the_hub_wrapper_sends(fake: FakeWeChat) -> None:
    registry = build_plugin_manager(extra_plugins=[plugin], load_entry_points=False)
    cfg = registry.validate_config("wechat", {"token": "sbToken2026", "app_id": APP_ID, "mode": "plaintext",
                                              "app_secret": APP_SECRET, "api_base_url": fake.url})
    assert registry.sends("wechat")
    assert registry.infos["wechat"].sends_to == ("wechat_openid",)
    assert registry.send("wechat", reply(), cfg, context()) == SendOutcome.sent("wx:msg_r1")


def test_importing_the_plugin_does_not_load_the_sender() -> None:
    code = ("import sys, switchboard_plugins.wechat as w; w.plugin.switchboard_plugin_info(); "
            "print(sorted(m for m in sys.modules if m.startswith('switchboard_plugins.wechat.')))")
    run = [sys.executable, "-c", code]
    loaded = subprocess.run(run, capture_output=True, text=True, check=True).stdout  # noqa: S603 -- a constant script
    assert loaded.strip() == "['switchboard_plugins.wechat.config', 'switchboard_plugins.wechat.hooks']"


# -- success and the shared token -----------------------------------------------------------------


def test_a_text_reply_is_sent_with_a_stable_id(fake: FakeWeChat) -> None:
    assert send(fake) == SendOutcome.sent("wx:msg_r1")
    assert paths(fake) == [TOKEN, SEND]
    token_request = fake.requests[0].json()
    assert token_request == {"grant_type": "client_credential", "appid": APP_ID, "secret": APP_SECRET,
                             "force_refresh": False}
    text = {"content": "Your order ships today."}
    assert fake.requests[1].json() == {"touser": OPENID, "msgtype": "text", "text": text}
    assert [(a.touser, a.msgtype, a.content) for a in fake.accepted] == [(OPENID, "text", "Your order ships today.")]


def test_chinese_text_goes_as_utf8_not_escapes(fake: FakeWeChat) -> None:
    assert send(fake, reply("您的订单今天发货")).kind == "sent"
    assert "您的订单今天发货".encode() in fake.requests[-1].body
    assert fake.accepted[0].content == "您的订单今天发货"


def test_many_sends_from_many_containers_fetch_one_token(fake: FakeWeChat) -> None:
    shared = MemoryTokens(clock=lambda: NOW)  # the hub's table, as every container sees it
    outcomes = [send(fake, reply(f"reply {n}", id=f"msg_{n}"), context(shared)) for n in range(12)]
    assert {o.kind for o in outcomes} == {"sent"}
    assert [o.provider_message_id for o in outcomes[:2]] == ["wx:msg_0", "wx:msg_1"]
    assert (fake.token_fetches, shared.fetches) == (1, 1)
    assert paths(fake).count(SEND) == 12


def test_a_token_expiring_mid_run_is_refreshed_once(fake: FakeWeChat) -> None:
    shared = MemoryTokens(clock=lambda: NOW)
    assert send(fake, ctx=context(shared)).kind == "sent"
    first = fake.current_token
    fake.expire_token()
    assert send(fake, reply(id="msg_r2"), context(shared)) == SendOutcome.sent("wx:msg_r2")
    assert fake.token_fetches == 2
    assert fake.force_refreshes == 0  # an expired token is replaced by a normal fetch
    assert paths(fake) == [TOKEN, SEND, SEND, TOKEN, SEND]
    assert shared.tokens[APP_ID][0] == fake.current_token != first
    assert len(fake.accepted) == 2


def test_an_invalid_credential_forces_a_refresh_when_wechat_keeps_the_token(fake: FakeWeChat) -> None:
    shared = MemoryTokens(clock=lambda: NOW)
    assert send(fake, ctx=context(shared)).kind == "sent"
    fake.fail(40001)  # the token was revoked, yet WeChat's normal fetch still hands it out
    assert send(fake, reply(id="msg_r2"), context(shared)) == SendOutcome.sent("wx:msg_r2")
    assert paths(fake) == [TOKEN, SEND, SEND, TOKEN, TOKEN, SEND]
    assert [r.json()["force_refresh"] for r in fake.requests if r.path == TOKEN] == [False, False, True]
    assert fake.force_refreshes == 1


def test_a_token_refused_twice_in_one_send_is_retried_later(fake: FakeWeChat) -> None:
    fake.fail(42001, times=2)
    outcome = send(fake)
    assert (outcome.kind, outcome.code) == ("retry", "42001")
    assert "freshly issued access token" in outcome.reason
    assert paths(fake).count(SEND) == 2
    assert fake.accepted == []


# -- the window and the budget, before calling ----------------------------------------------------


def test_a_closed_window_is_known_before_calling(fake: FakeWeChat) -> None:
    stale = reply(last_inbound_at=NOW - timedelta(hours=48))
    assert send(fake, stale) == SendOutcome.window_closed(
        "WeChat: the 48-hour reply window has closed; it opens again when the customer writes", code="45015"
    )
    assert fake.requests == []


def test_the_window_is_open_until_48_hours(fake: FakeWeChat) -> None:
    assert send(fake, reply(last_inbound_at=NOW - timedelta(hours=47, minutes=59))).kind == "sent"


def test_an_unknown_last_message_time_lets_wechat_decide(fake: FakeWeChat) -> None:
    fake.fail(45015)
    outcome = send(fake, reply(last_inbound_at=None))
    assert (outcome.kind, outcome.code) == ("window_closed", "45015")
    assert "48-hour reply window has closed" in outcome.reason


def test_wechat_closing_the_window_is_window_closed(fake: FakeWeChat) -> None:
    fake.fail(45015)
    outcome = send(fake)
    assert (outcome.kind, outcome.code) == ("window_closed", "45015")
    assert "response out of time limit" in outcome.reason  # WeChat's own words, for support


def test_a_spent_budget_is_known_before_calling(fake: FakeWeChat) -> None:
    outcome = send(fake, reply(replies_since_inbound=5))
    assert (outcome.kind, outcome.code) == ("failed", "45047")
    assert "reply budget" in outcome.reason
    assert "5 replies per message" in outcome.reason
    assert fake.requests == []
    assert send(fake, reply(replies_since_inbound=4)).kind == "sent"


def test_the_budget_is_configurable(fake: FakeWeChat) -> None:
    assert send(fake, reply(replies_since_inbound=5), reply_budget=20).kind == "sent"
    assert send(fake, reply(replies_since_inbound=2), reply_budget=2).code == "45047"


def test_wechat_counting_the_budget_spent_is_failed(fake: FakeWeChat) -> None:
    fake.fail(45047)
    outcome = send(fake)
    assert (outcome.kind, outcome.code) == ("failed", "45047")
    assert "customer writes" in outcome.reason


# -- other refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("errcode", "kind", "words"),
    [
        (-1, "retry", "busy"),
        (45009, "retry", "daily API quota"),
        (43004, "failed", "unfollowed the account"),
        (40003, "failed", "OpenID"),
        (45002, "failed", "too long"),
        (48001, "failed", "not authorised"),
        (99999, "failed", "refused the request"),
    ],
)
def test_errcodes_are_classified(fake: FakeWeChat, errcode: int, kind: str, words: str) -> None:
    fake.fail(errcode)
    outcome = send(fake)
    assert (outcome.kind, outcome.code) == (kind, str(errcode))
    assert outcome.reason.startswith("WeChat")
    assert words in outcome.reason
    assert f"errcode {errcode}" in outcome.reason


def test_a_busy_wechat_then_accepts_the_retry(fake: FakeWeChat) -> None:
    fake.fail(-1)
    assert send(fake).kind == "retry"
    assert send(fake) == SendOutcome.sent("wx:msg_r1")
    assert len(fake.accepted) == 1


def test_the_daily_quota_waits_before_retrying(fake: FakeWeChat) -> None:
    fake.fail(45009)
    assert send(fake).retry_after_seconds == 3600


@pytest.mark.parametrize(("errcode", "words"), [(40125, "app_secret was refused"), (40013, "not a valid AppID"),
                                                (40164, "IP whitelist")])
def test_token_refusals_fail_with_the_fix(fake: FakeWeChat, errcode: int, words: str) -> None:
    fake.fail(errcode, on="token")
    outcome = send(fake)
    assert (outcome.kind, outcome.code) == ("failed", str(errcode))
    assert words in outcome.reason
    assert paths(fake) == [TOKEN]


def test_a_wrong_secret_fails_without_showing_it(fake: FakeWeChat) -> None:
    outcome = send(fake, app_secret="the-wrong-secret-123")  # noqa: S106 - a test fixture
    assert (outcome.kind, outcome.code) == ("failed", "40125")
    assert "the-wrong-secret-123" not in outcome.reason
    assert APP_SECRET not in outcome.reason


def test_a_busy_token_endpoint_is_retried(fake: FakeWeChat) -> None:
    fake.fail(-1, on="token")
    assert send(fake).kind == "retry"
    assert fake.token_fetches == 0


def test_secrets_echoed_by_wechat_are_redacted() -> None:
    echo = Reply.json(200, {"errcode": 40125, "errmsg": f"invalid appsecret {APP_SECRET}"})
    with StatusServer(respond=lambda _: echo) as server:
        outcome = send(server)
    assert outcome.kind == "failed"
    assert APP_SECRET not in outcome.reason
    assert "[redacted]" in outcome.reason


def test_a_secret_echoed_where_the_excerpt_is_cut_leaves_no_part_behind() -> None:
    echo = Reply.json(200, {"errcode": 99999, "errmsg": "x" * 190 + APP_SECRET})
    with StatusServer(respond=lambda _: echo) as server:
        outcome = send(server)
    assert APP_SECRET[:8] not in outcome.reason


def test_no_app_secret_fails_before_calling(fake: FakeWeChat) -> None:
    outcome = send(fake, app_secret=None)
    assert outcome.kind == "failed"
    assert "no app_secret" in outcome.reason
    assert fake.requests == []


def test_a_customer_without_an_openid_fails(fake: FakeWeChat) -> None:
    outcome = send(fake, reply(to=Identity(kind="phone", value="+14155550100")))
    assert outcome.kind == "failed"
    assert "OpenID" in outcome.reason
    assert fake.requests == []


def test_an_empty_reply_fails(fake: FakeWeChat) -> None:
    assert send(fake, reply("   ")).kind == "failed"
    assert fake.requests == []


# -- no answer ---------------------------------------------------------------------------------------


def test_a_hanging_wechat_is_bounded_by_the_timeout_and_retried(fake: FakeWeChat) -> None:
    shared = MemoryTokens(clock=lambda: NOW)
    assert send(fake, ctx=context(shared)).kind == "sent"  # the token is held: the next call is the send
    fake.server.script(Reply.json(200, {"errcode": 0, "errmsg": "ok"}, delay=1.5))
    outcome = send(fake, reply(id="msg_r2"), context(shared, timeout=0.3))
    assert outcome.kind == "retry"
    assert "no response within" in outcome.reason


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_http_errors_are_retried(status: int) -> None:
    with StatusServer(status, body=b"<html>bad gateway</html>") as server:
        outcome = send(server)
    assert (outcome.kind, outcome.status_code) == ("retry", status)
    assert outcome.reason.startswith("WeChat answered")


def test_a_refused_connection_is_retried() -> None:
    with StatusServer() as server:
        url = server.url
    outcome = plugin.switchboard_channel_send(message=reply(), config=config(url), context=context())
    assert outcome is not None
    assert outcome.kind == "retry"
    assert "WeChat unreachable" in outcome.reason


def test_a_200_without_json_is_retried() -> None:
    with StatusServer(200, body=b"<html>portal</html>") as server:
        outcome = send(server)
    assert outcome.kind == "retry"
    assert "without a JSON object" in outcome.reason


# -- config ---------------------------------------------------------------------------------------------


def test_configs_saved_before_replies_still_load() -> None:
    cfg = WeChatConfig.model_validate({"token": "sbToken2026", "app_id": APP_ID, "mode": "plaintext"})
    assert (cfg.app_secret, cfg.api_root, cfg.reply_budget) == (None, "https://api.weixin.qq.com", 5)


def test_the_api_base_url_is_an_outbound_url() -> None:
    raw = {"token": "sbToken2026", "app_id": APP_ID, "mode": "plaintext", "api_base_url": "http://127.0.0.1:9"}
    with pytest.raises(ValidationError):
        WeChatConfig.model_validate(raw, context=validation_context(OutboundPolicy()))
    with pytest.raises(ValidationError):
        WeChatConfig.model_validate(raw | {"api_base_url": "http://169.254.169.254"},
                                    context=validation_context(LOOPBACK_ALLOWED))


@pytest.mark.parametrize("changes", [{"reply_budget": 0}, {"app_secret": ""}, {"api_base_url": "ftp://x.example"}])
def test_reply_settings_are_validated(changes: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        config("https://api.weixin.qq.com", **changes)


def test_the_app_secret_stays_hidden() -> None:
    cfg = config("https://api.weixin.qq.com")
    assert APP_SECRET not in repr(cfg) + cfg.model_dump_json()
