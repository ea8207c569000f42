"""Provider webhooks through the local runtime's HTTP server and the real app, on
moto's in-process AWS: a Twilio URL whose query is spelled oddly verifies, and a
genuine WeChat push whose message is not UTF-8 is quarantined and answered
``success``, not refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from switchboard_plugins.wechat.crypto import WeChatCrypto, sign
from switchboard_sdk.testing import StatusServer

from chalicelib.hub import Hub
from tests.conftest import bucket_keys, table_items
from tests.sealed_docs import doc_of
from tests.test_local_runtime_http import TIMEOUT, served
from tools.local.demo import DemoTenant, seed_demo_tenant

QUERY = "note=a%20b&t=%7E1&flag&a=1&a=2"


@pytest.fixture
def running(hub: Hub, receiver: StatusServer) -> Iterator[tuple[DemoTenant, int]]:
    from tools.local.runtime import import_app

    with served(import_app().app) as (port, _):
        yield seed_demo_tenant(hub, hub_url=f"http://127.0.0.1:{port}", receiver_url=receiver.url), port


def post(port: int, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request("POST", f"{parts.path}?{parts.query}", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def twilio_signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    """Twilio's documented scheme: HMAC-SHA1 over URL + sorted name+value pairs, base64."""
    data = url + "".join(name + value for name, value in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def sms(sid: str) -> list[tuple[str, str]]:
    return [("MessageSid", sid), ("SmsMessageSid", sid), ("AccountSid", "AC" + "0" * 32),
            ("From", "+14155550100"), ("To", "+15005550006"), ("Body", "My parcel is late"), ("NumMedia", "0")]


def test_twilio_sms_to_a_url_with_an_odd_query_is_stored(running: tuple[DemoTenant, int], hub: Hub) -> None:
    demo, port = running
    token, url = demo.channels["twilio"]["auth_token"], f"{demo.hook_url('twilio')}?{QUERY}"
    params = sms("SM" + "ab" * 16)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    forged = twilio_signature(token, f"{demo.hook_url('twilio')}?note=a%20c&t=%7E1&flag&a=1&a=2", params)
    assert post(port, url, urlencode(params).encode(), form | {"X-Twilio-Signature": forged})[0] == 401
    status, answer = post(port, url, urlencode(params).encode(),
                          form | {"X-Twilio-Signature": twilio_signature(token, url, params)})
    assert status == 200, answer
    assert "<Response" in answer
    (stored,) = table_items(hub, "inbound")
    assert doc_of(hub, stored)["provider_message_id"] == "SM" + "ab" * 16


def test_a_genuine_wechat_push_that_is_not_utf8_is_quarantined_and_answered_success(
    running: tuple[DemoTenant, int], hub: Hub
) -> None:
    demo, port = running
    config: dict[str, Any] = demo.channels["wechat"]
    box = WeChatCrypto(config["token"], config["encoding_aes_key"], config["app_id"])
    timestamp, nonce = str(int(hub.clock().timestamp())), "1320562132"
    message = ("<xml><ToUserName><![CDATA[gh_demo]]></ToUserName><FromUserName><![CDATA[oDemoUser]]>"
               f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               "<Content><![CDATA[").encode() + "你好".encode("gbk") + b"]]></Content><MsgId>42</MsgId></xml>"
    body, msg_signature = box.encrypted_request(message, timestamp=timestamp, nonce=nonce,
                                                random16=secrets.token_bytes(16), to_user="gh_demo")
    query = urlencode({"signature": sign(config["token"], timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                       "openid": "oDemoUser", "encrypt_type": "aes", "msg_signature": msg_signature})
    status, answer = post(port, f"{demo.hook_url('wechat')}?{query}", body, {"Content-Type": "text/xml"})
    assert (status, answer) == (200, "success")
    assert len(bucket_keys(hub, "quarantine/")) == 1
    assert table_items(hub, "inbound") == []
