"""A tenant's settings for the ``wechat`` channel (one Official Account)."""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from typing import Annotated, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    field_validator,
    model_validator,
)
from switchboard_sdk.transport import OUTBOUND_URL

NAME = "wechat"  # the plugin's name; here so the hooks need not import the parser

# What the admin console accepts for the Token: 3-32 letters or digits.
_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")
_AES_KEY = re.compile(r"[A-Za-z0-9+/]{43}")
# XML 1.0 cannot carry most control characters, so a reply holding one would be refused.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_REPLY_BYTES = 2048  # WeChat's limit on a text message's Content
DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
# "客服消息下发规则": 5 customer-service messages per message the follower sends, within 48 hours
DEFAULT_REPLY_BUDGET = 5

Mode = Literal["plaintext", "compatible", "safe"]


def aes_key_bytes(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key an EncodingAESKey stands for, or ``ValueError``."""
    if not _AES_KEY.fullmatch(encoding_aes_key):
        raise ValueError("EncodingAESKey must be 43 letters or digits")
    try:
        key = b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("EncodingAESKey is not base64") from None
    if len(key) != 32:
        raise ValueError("EncodingAESKey must decode to 32 bytes")
    return key


class WeChatConfig(BaseModel):
    """Copy ``token``, ``app_id`` and ``encoding_aes_key`` from the account's
    "Basic configuration" page and pick the same message encryption ``mode``.

    ``tolerance_seconds`` is the replay window around the ``timestamp`` query
    parameter. It is generous on purpose: WeChat retries an unanswered push up
    to three times within about 15 s **with the original timestamp**, and a hub
    behind a cold-starting Lambda must still accept the last retry.

    Replies need ``app_secret`` (the account's AppSecret, for access tokens);
    without it the channel only listens. ``api_base_url`` is WeChat's API host
    (tests and the sandbox point it elsewhere); ``reply_budget`` is how many
    replies WeChat allows per customer message within the 48-hour window.
    """

    # hide_input: a malformed secret must not reach logs through the error text
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    token: SecretStr
    app_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    encoding_aes_key: SecretStr | None = None
    mode: Mode
    auto_ack_text: str | None = None
    tolerance_seconds: int = Field(default=300, ge=1, le=3600)
    # optional: configs saved before replies existed keep loading; sending without it fails clearly
    app_secret: SecretStr | None = Field(default=None, min_length=1, max_length=128)
    # the tenant may change it (tests point it at a fake): public addresses only, like every outbound URL
    api_base_url: Annotated[AnyHttpUrl, OUTBOUND_URL] = AnyHttpUrl(DEFAULT_API_BASE_URL)
    reply_budget: int = Field(default=DEFAULT_REPLY_BUDGET, ge=1, le=1000)

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.fullmatch(value.get_secret_value()):
            raise ValueError("the Token must be 3-32 letters or digits")
        return value

    @field_validator("encoding_aes_key")
    @classmethod
    def _aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            aes_key_bytes(value.get_secret_value())
        return value

    @field_validator("auto_ack_text")
    @classmethod
    def _auto_ack(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.strip() or _CONTROL.search(value):
            raise ValueError("must be non-blank text without control characters")
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:
            raise ValueError("must be valid Unicode text") from None
        if size > MAX_REPLY_BYTES:
            raise ValueError(f"must be at most {MAX_REPLY_BYTES} bytes in UTF-8")
        return value

    @model_validator(mode="after")
    def _key_for_encrypted_modes(self) -> WeChatConfig:
        if self.mode != "plaintext" and self.encoding_aes_key is None:
            raise ValueError(f"mode {self.mode!r} needs the encoding_aes_key")
        return self

    @property
    def api_root(self) -> str:
        """``api_base_url`` without its trailing slash, for joining ``/cgi-bin/...`` paths."""
        return str(self.api_base_url).rstrip("/")

    @property
    def encrypted(self) -> bool:
        """Whether WeChat encrypts the pushes (compatible and safe modes)."""
        return self.mode != "plaintext"
