"""WeChat signatures and AES safe mode against the official vectors (vectors/wechat/), and
genuine pushes whose message is not UTF-8 (quarantined, not refused)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from switchboard_plugins.wechat import plugin
from switchboard_plugins.wechat.config import WeChatConfig
from switchboard_plugins.wechat.crypto import AppIdMismatch, CryptoError, WeChatCrypto, sign, signature_matches
from switchboard_plugins.wechat.xmltools import cdata
from switchboard_sdk.errors import BadPayload, VerificationFailed
from switchboard_sdk.webhooks import IngestReport, WebhookRequest

VECTORS: dict[str, Any] = json.loads((Path(__file__).parent / "vectors/wechat/crypto_vectors.json").read_text("utf-8"))


def crypto(vector: dict[str, Any]) -> WeChatCrypto:
    app_id = vector.get("appid") or vector["receive_id"]
    return WeChatCrypto(vector["token"], vector["encoding_aes_key"], app_id)


# -- signatures ---------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["plain_get_signature"], ids=lambda v: v["token"])
def test_get_signatures(vector: dict[str, Any]) -> None:
    parts = (vector["token"], vector["timestamp"], vector["nonce"])
    assert sign(*parts) == vector["expected_signature"]
    assert signature_matches(vector["expected_signature"], *parts)
    if "negative" in vector:
        assert not signature_matches(vector["negative"]["signature"], *parts)


def test_signature_order_does_not_matter_and_odd_input_is_refused() -> None:
    assert sign("b", "a", "c") == sign("c", "b", "a")
    assert not signature_matches(None, "a")
    assert not signature_matches("", "a")
    assert not signature_matches("签名", "a")  # non-ASCII must not raise inside compare_digest


# -- encrypt -------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS["encrypt_fixed_random"], ids=["short", "xml"])
def test_encrypt_with_a_fixed_random(vector: dict[str, Any]) -> None:
    box = crypto(vector)
    assert box.encrypt(vector["plaintext"], vector["random16"].encode()) == vector["expected_encrypt"]
    assert box.decrypt(vector["expected_encrypt"]) == vector["plaintext"]


def test_encrypt_needs_16_random_bytes() -> None:
    box = crypto(VECTORS["encrypt_fixed_random"][0])
    with pytest.raises(ValueError, match="16 bytes"):
        box.encrypt("<xml/>", b"short")


# -- decrypt requests, end to end through the plugin ---------------------------------


def _query(vector: dict[str, Any]) -> dict[str, str]:
    if "url" in vector:
        return dict(parse_qsl(urlsplit(vector["url"]).query))
    return {**vector["query"], "signature": "unused", "encrypt_type": "aes"}


def _body(vector: dict[str, Any]) -> bytes:
    if "body" in vector:
        return str(vector["body"]).encode()
    to_user, encrypt = cdata("gh_10f6c3c3ac5a"), cdata(vector["encrypt"])
    return f"<xml><ToUserName>{to_user}</ToUserName><Encrypt>{encrypt}</Encrypt></xml>".encode()


def _request(vector: dict[str, Any]) -> WebhookRequest:
    query = _query(vector)
    return WebhookRequest(
        tenant_id="t-vec", channel="wechat", method="POST", public_url="https://hub.example.com/hooks/t-vec/wechat",
        headers={"content-type": "text/xml"}, query=query, body=_body(vector),
        received_at=datetime.fromtimestamp(int(query["timestamp"]), UTC),
    )


def _config(vector: dict[str, Any], mode: str = "safe", **extra: Any) -> WeChatConfig:
    return WeChatConfig.model_validate({
        "token": vector["token"], "app_id": vector["appid"], "encoding_aes_key": vector["encoding_aes_key"],
        "mode": mode, **extra,
    })


@pytest.mark.parametrize("vector", VECTORS["decrypt_request"], ids=["python-sample", "cpp-sample", "doc-push"])
def test_decrypt_request(vector: dict[str, Any]) -> None:
    request = _request(vector)
    encrypt = request.body.decode().split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    box = crypto(vector)
    unpacked = box.unpack(encrypt)
    assert unpacked.random16 == vector["expected_random16"].encode()
    assert unpacked.app_id == vector["appid"]
    assert unpacked.message == vector["expected_plaintext"]
    if "expected_msg_len" in vector:
        assert len(unpacked.message.encode()) == vector["expected_msg_len"]
    assert box.msg_signature(request.query["timestamp"], request.query["nonce"], encrypt) == (
        request.query["msg_signature"])
    for mode in ("compatible", "safe"):
        assert plugin.switchboard_channel_verify(request=request, config=_config(vector, mode)) is True


def test_the_doc_push_also_carries_a_valid_plain_signature() -> None:
    vector = VECTORS["decrypt_request"][2]
    query = _query(vector)
    assert signature_matches(query["signature"], vector["token"], query["timestamp"], query["nonce"])


def test_the_doc_push_parses_to_a_generic_event() -> None:
    vector = VECTORS["decrypt_request"][2]
    (message,) = plugin.switchboard_channel_parse(request=_request(vector), config=_config(vector))
    assert message.kind == "event"
    assert message.provider_message_id == "o9AgO5Kd5ggOC-bXrbNODIiE3bGY:1715943329:debug_demo"
    assert message.metadata["debug_str"] == "hello world"
    assert message.metadata["to_user"] == "gh_97417a04a28d"


def test_the_official_encrypted_reply() -> None:
    vector = VECTORS["decrypt_request"][2]
    reply = vector["reply"]
    box = crypto(vector)
    encrypt = box.encrypt(reply["plaintext"], reply["random16"].encode())
    assert encrypt == reply["expected_encrypt"]
    assert box.msg_signature(reply["timestamp"], reply["nonce"], encrypt) == reply["expected_msg_signature"]
    envelope = box.encrypted_reply(
        reply["plaintext"], timestamp=reply["timestamp"], nonce=reply["nonce"], random16=reply["random16"].encode()
    )
    assert cdata(reply["expected_encrypt"]) in envelope
    assert cdata(reply["expected_msg_signature"]) in envelope
    assert f"<TimeStamp>{reply['timestamp']}</TimeStamp>" in envelope


def test_a_decrypted_request_for_another_app_id_fails() -> None:
    vector = VECTORS["decrypt_request"][0]
    with pytest.raises(AppIdMismatch):
        WeChatCrypto(vector["token"], vector["encoding_aes_key"], "wx0000000000000000").decrypt(
            _body(vector).decode().split("<Encrypt><![CDATA[")[1].split("]]>")[0])
    with pytest.raises(VerificationFailed, match="AppID"):
        plugin.switchboard_channel_verify(request=_request(vector), config=_config({**vector, "appid": "wxother"}))


def test_a_wrong_aes_key_fails_verification() -> None:
    vector = VECTORS["decrypt_request"][0]
    other = {**vector, "encoding_aes_key": "A" * 43}
    with pytest.raises(VerificationFailed, match="EncodingAESKey"):
        plugin.switchboard_channel_verify(request=_request(vector), config=_config(other))


@pytest.mark.parametrize("encrypt", ["not base64!", "", "QUJD", "A" * 44, "A" * 64])
def test_malformed_encrypt_values_are_crypto_errors(encrypt: str) -> None:
    with pytest.raises(CryptoError):
        crypto(VECTORS["decrypt_request"][0]).decrypt(encrypt)


# -- WeCom variants: same algorithm, the corp id in the app id's place ---------------


@pytest.mark.parametrize("vector", VECTORS["wecom_verify_url"], ids=["official", "wechatpy"])
def test_wecom_verify_url(vector: dict[str, Any]) -> None:
    # WeCom encrypts echostr and signs it; the Official Account GET check does
    # neither (the plugin echoes plaintext), so only the algorithm is shared
    parts = (vector["token"], vector["timestamp"], vector["nonce"], vector["echostr"])
    assert signature_matches(vector["msg_signature"], *parts)
    assert crypto(vector).decrypt(vector["echostr"]) == vector["expected_plain_echostr"]
    if "negative" in vector:
        wrong = (vector["token"], vector["timestamp"], vector["negative"]["nonce"], vector["echostr"])
        assert not signature_matches(vector["msg_signature"], *wrong)


def test_wecom_encrypt_and_decrypt() -> None:
    vector = VECTORS["wechatpy_wecom_encrypt_decrypt"]
    box = crypto(vector)
    enc = vector["encrypt"]
    encrypt = box.encrypt(enc["plaintext"], enc["random16"].encode())
    assert encrypt == enc["expected_encrypt"]
    assert box.msg_signature(enc["timestamp"], enc["nonce"], encrypt) == enc["expected_msg_signature"]
    dec = vector["decrypt"]
    assert box.msg_signature(dec["timestamp"], dec["nonce"], dec["encrypt"]) == dec["msg_signature"]
    assert box.decrypt(dec["encrypt"]) == dec["expected_plaintext"]


def test_encrypted_request_helper_round_trips() -> None:
    box = crypto(VECTORS["encrypt_fixed_random"][0])
    body, msg_signature = box.encrypted_request(
        "<xml><Content>hi</Content></xml>", timestamp="1700000000", nonce="42", random16=b"0123456789abcdef",
        to_user="gh_x",
    )
    encrypt = body.decode().split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    assert msg_signature == sign(box.token, "1700000000", "42", encrypt)
    assert box.decrypt(encrypt) == "<xml><Content>hi</Content></xml>"


# -- genuine pushes whose message is not UTF-8 (vectors/wechat/non_utf8_vectors.json) ----

NON_UTF8: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors/wechat/non_utf8_vectors.json").read_text("utf-8"))
QUARANTINED = IngestReport(quarantine_id="q1", quarantine_reason="bad_payload")


def _non_utf8_request(case: dict[str, Any], mode: str) -> WebhookRequest:
    """The push as WeChat would send it in ``mode``: safe mode carries only
    ``Encrypt``; compatible mode the clear message (undecodable too) beside it;
    plaintext mode the message alone, signed over the query only."""
    message = bytes.fromhex(case["plaintext_hex"])
    encrypt = cdata(case["encrypt"]).encode()
    query = {"signature": case["signature"], "timestamp": NON_UTF8["timestamp"], "nonce": NON_UTF8["nonce"],
             "openid": "oyORnuP8q7ou2gfYjqLzSIWZf0rs"}
    if mode != "plaintext":
        query |= {"encrypt_type": "aes", "msg_signature": case["msg_signature"]}
    body = {
        "safe": b"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt>" + encrypt + b"</Encrypt></xml>",
        "compatible": message.replace(b"</xml>", b"<Encrypt>" + encrypt + b"</Encrypt></xml>"),
        "plaintext": message,
    }[mode]
    return WebhookRequest(
        tenant_id="t-vec", channel="wechat", method="POST", public_url="https://hub.example.com/hooks/t-vec/wechat",
        headers={"content-type": "text/xml"}, query=query, body=body,
        received_at=datetime.fromtimestamp(int(NON_UTF8["timestamp"]), UTC),
    )


@pytest.mark.parametrize("case", NON_UTF8["cases"], ids=lambda c: c["name"])
def test_non_utf8_vectors_decrypt_to_their_exact_bytes(case: dict[str, Any]) -> None:
    box = crypto(NON_UTF8)
    message = bytes.fromhex(case["plaintext_hex"])
    with pytest.raises(UnicodeDecodeError):
        message.decode("utf-8")
    unpacked = box.unpack(case["encrypt"])
    assert (unpacked.random16, unpacked.body, unpacked.app_id) == (
        NON_UTF8["random16"].encode(), message, NON_UTF8["appid"])
    assert box.decrypt_bytes(case["encrypt"]) == message
    assert box.msg_signature(NON_UTF8["timestamp"], NON_UTF8["nonce"], case["encrypt"]) == case["msg_signature"]
    # sealing the same bytes with the same random16 gives the vector back
    assert box.encrypt(message, NON_UTF8["random16"].encode()) == case["encrypt"]
    with pytest.raises(CryptoError, match="UTF-8"):  # the text API cannot hand it out
        box.decrypt(case["encrypt"])


@pytest.mark.parametrize("mode", ["safe", "compatible", "plaintext"])
@pytest.mark.parametrize("case", NON_UTF8["cases"], ids=lambda c: c["name"])
def test_a_genuine_push_that_is_not_utf8_verifies_and_is_a_bad_payload(case: dict[str, Any], mode: str) -> None:
    """It is WeChat's (signed, padded, for this AppID), so it is no failed
    verification (401, retried by WeChat): the hub quarantines it and answers
    ``success``, as for any message it cannot read."""
    request, cfg = _non_utf8_request(case, mode), _config(NON_UTF8, mode, auto_ack_text="Thanks!")
    assert plugin.switchboard_channel_verify(request=request, config=cfg) is True
    with pytest.raises(BadPayload, match="not UTF-8"):
        plugin.switchboard_channel_parse(request=request, config=cfg)
    for report in (QUARANTINED, IngestReport(stored=1, message_ids=("m1",))):
        answer = plugin.switchboard_channel_respond(request=request, config=cfg, report=report)
        assert (answer.status_code, answer.body) == (200, "success")


@pytest.mark.parametrize("mode", ["safe", "compatible", "plaintext"])
@pytest.mark.parametrize("case", NON_UTF8["cases"][:1], ids=lambda c: c["name"])
def test_a_forged_push_that_is_not_utf8_still_fails_verification(case: dict[str, Any], mode: str) -> None:
    request, cfg = _non_utf8_request(case, mode), _config(NON_UTF8, mode)
    signature = "msg_signature" if mode != "plaintext" else "signature"
    forged = replace(request, query={**request.query, signature: "0" * 40})
    with pytest.raises(VerificationFailed, match="signature"):
        plugin.switchboard_channel_verify(request=forged, config=cfg)
    if mode != "plaintext":
        other_key = _config({**NON_UTF8, "encoding_aes_key": "A" * 43}, mode)
        with pytest.raises(VerificationFailed, match="EncodingAESKey"):  # still: a wrong key is no bad payload
            plugin.switchboard_channel_verify(request=request, config=other_key)
