"""The ``wechat`` channel's verification: proving a request comes from WeChat, and opening it.

Plaintext mode signs only ``(token, timestamp, nonce)`` — not the body — so the
replay window is all that stops a captured query string being reused with
another body; compatible and safe modes sign the ``Encrypt`` text
(``msg_signature``) and only the decrypted message is trusted.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from pydantic import BaseModel
from switchboard_sdk.errors import BadPayload, PluginConfigError, VerificationFailed
from switchboard_sdk.webhooks import WebhookRequest

from .config import WeChatConfig
from .crypto import AppIdMismatch, CryptoError, WeChatCrypto, signature_matches
from .xmltools import parse_xml

MAX_ECHOSTR = 256  # WeChat's are ~20 digits; the echo must not become a reflector


def as_config(config: BaseModel) -> WeChatConfig:
    if not isinstance(config, WeChatConfig):
        raise PluginConfigError("wechat channel called with a config that is not WeChatConfig")
    return config


def crypto_for(config: WeChatConfig) -> WeChatCrypto:
    if config.encoding_aes_key is None:
        raise PluginConfigError("the wechat channel needs an encoding_aes_key for encrypted messages")
    return WeChatCrypto(config.token.get_secret_value(), config.encoding_aes_key.get_secret_value(), config.app_id)


def is_encrypted(request: WebhookRequest) -> bool:
    return request.query.get("encrypt_type", "").lower() == "aes"


# -- the query string -------------------------------------------------------------


def _fresh_timestamp(request: WebhookRequest, config: WeChatConfig) -> str:
    """The ``timestamp`` parameter, if within the replay window of the hub's clock."""
    stamp = request.query.get("timestamp", "")
    # a huge integer would overflow datetime; WeChat's are 10 digits
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 12):
        raise VerificationFailed("timestamp is missing or not a Unix timestamp")
    skew = abs(request.received_at.timestamp() - int(stamp))
    if skew > config.tolerance_seconds:
        raise VerificationFailed("timestamp is outside the replay window")
    return stamp


def _check_signature(request: WebhookRequest, config: WeChatConfig, timestamp: str) -> None:
    nonce = request.query.get("nonce", "")
    if not signature_matches(request.query.get("signature"), config.token.get_secret_value(), timestamp, nonce):
        raise VerificationFailed("signature does not match")


# -- GET ------------------------------------------------------------------------------


def echo(request: WebhookRequest, config: WeChatConfig) -> str:
    """The ``echostr`` to answer WeChat's URL check with, once its signature holds.

    The freshness check applies here too: ``echostr`` is not signed, so an old
    signed query must not let anyone make the hub echo text of their choosing.
    """
    _check_signature(request, config, _fresh_timestamp(request, config))
    echostr = request.query.get("echostr", "")
    if not echostr or len(echostr) > MAX_ECHOSTR:
        raise BadPayload("echostr is missing or too long")
    return echostr


# -- POST ------------------------------------------------------------------------------


def _encrypt_text(envelope: Element) -> str:
    node = envelope.find("Encrypt")
    if node is None or not (node.text or "").strip():
        raise BadPayload("an encrypted push needs an <Encrypt> element")
    return (node.text or "").strip()


def _envelope(body: bytes) -> Element:
    """The body's XML, parsed to refuse hostile documents and find ``<Encrypt>``.

    A body that is not UTF-8 is read with its bad bytes replaced: what it says is
    not trusted here (only the signed, base64 ``Encrypt`` is, and a plaintext
    push's signature covers just the query), and refusing it now would answer a
    genuine push 400 instead of quarantining it once the signature holds; the
    message parser refuses such a message after verification.
    """
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return parse_xml(body.decode("utf-8", "replace"))
    return parse_xml(body)


def verify(request: WebhookRequest, config: WeChatConfig) -> bytes:
    """Check ``request`` and return the message XML it carries (decrypted if need be).

    The envelope is parsed first, so a hostile body (XXE, billion laughs) is
    refused with :class:`BadPayload` before anything else looks at it. The bytes
    returned are the message as sent, UTF-8 or not: a verified push that cannot
    be read is the parser's :class:`BadPayload` (quarantined), never a failed
    verification.
    """
    envelope = _envelope(request.body)
    timestamp = _fresh_timestamp(request, config)
    if not config.encrypted:
        if is_encrypted(request):
            raise VerificationFailed("the push is encrypted but the channel is set to plaintext mode")
        _check_signature(request, config, timestamp)
        return request.body
    # compatible mode also sends the fields in clear text, unsigned: never trust those
    if not is_encrypted(request):
        raise VerificationFailed(f"{config.mode} mode expects encrypt_type=aes")
    encrypt = _encrypt_text(envelope)
    crypto = crypto_for(config)
    nonce = request.query.get("nonce", "")
    if not signature_matches(request.query.get("msg_signature"), crypto.token, timestamp, nonce, encrypt):
        raise VerificationFailed("msg_signature does not match")
    try:
        # bytes as decrypted: a genuine push whose XML is not UTF-8 is not a failed
        # verification but a bad payload, for the parser to refuse (quarantined)
        return crypto.decrypt_bytes(encrypt)
    except AppIdMismatch:
        raise VerificationFailed("the push was encrypted for another AppID") from None
    except CryptoError:
        raise VerificationFailed("the push does not decrypt with this EncodingAESKey") from None
