"""The ``widget`` channel's tenant configuration."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

NAME = "widget"  # the plugin's name; here so the hooks need not import the parser
MAX_ORIGINS = 20
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
Language = Literal["en", "zh"]
DEFAULT_WELCOME: dict[Language, str] = {"en": "Hi! How can we help?", "zh": "您好！有什么可以帮您？"}  # noqa: RUF001


def origin(value: str) -> str:
    """An exact web origin, ``scheme://host[:port]``, lower-cased: ``https`` (``http`` only
    on loopback, for development). No wildcard, path, query or credentials: the hub compares
    a browser's ``Origin`` header with these, character for character."""
    text = value.strip().lower().rstrip("/")
    if "*" in text:
        raise ValueError("wildcards are not allowed: list each origin, e.g. https://shop.example.com")
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("an origin such as https://shop.example.com")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("an origin is scheme://host[:port] only, without a path")
    host = parts.netloc.rsplit(":", 1)[0] if not parts.netloc.endswith("]") else parts.netloc
    if parts.scheme == "http" and host not in LOOPBACK_HOSTS:
        raise ValueError("sites must use https (http only on localhost, for development)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("the port must be a number") from None
    default = port is None or (parts.scheme, port) in (("https", 443), ("http", 80))
    return f"{parts.scheme}://{host}" + ("" if default else f":{port}")  # as browsers send it


Origin = Annotated[str, AfterValidator(origin)]
Secret = Annotated[SecretStr, Field(min_length=32, max_length=256)]


class WidgetConfig(BaseModel):
    """A tenant's web chat widget.

    ``allowed_origins``: the sites that may embed it (exact origins). ``token_secret``
    signs visitor tokens (and the hub's seal); ``identity_secret``, when set, lets the
    business's backend vouch for signed-in users (``user_hash``, docs/channels/widget.md) — without
    it every visitor is anonymous. Changing ``token_secret`` signs every visitor out.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True, defer_build=True)

    allowed_origins: list[Origin] = Field(min_length=1, max_length=MAX_ORIGINS)
    token_secret: Secret
    identity_secret: Secret | None = None
    welcome: dict[Language, Annotated[str, Field(max_length=500)]] = Field(
        default_factory=lambda: dict(DEFAULT_WELCOME))
    colour: str = Field(default="#2563eb", pattern=r"^#[0-9a-fA-F]{6}$")
    token_ttl_seconds: int = Field(default=3600, ge=300, le=86_400)
    help_centre: bool = True

    def allows(self, request_origin: str | None) -> bool:
        """Whether a browser's ``Origin`` header names one of the allowed sites (exactly)."""
        return bool(request_origin) and request_origin in self.allowed_origins
