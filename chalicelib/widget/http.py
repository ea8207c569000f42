"""What every ``/widget/{tenant}/…`` answer shares: CORS for an allowed origin, JSON bodies,
errors in the API's shape, and the origin refusal.

A browser only lets the embedding page read an answer that names the page's origin in
``Access-Control-Allow-Origin``; the hub names exactly the request's origin, and only
when the tenant listed it. A refused origin gets 403 ``origin_not_allowed`` *without*
any CORS header, so the page learns nothing and the browser shows a CORS failure.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError
from switchboard_sdk import BadPayload, Forbidden, InvalidInput, SwitchboardError, WebhookRequest, WebhookResponse

ALLOWED_METHODS = "GET, POST, OPTIONS"
ALLOWED_HEADERS = "authorization, content-type, if-none-match"
EXPOSED_HEADERS = "ETag, Retry-After"
PREFLIGHT_MAX_AGE = "600"
M = TypeVar("M", bound=BaseModel)


class OriginNotAllowed(Forbidden):
    """The page's origin is not in the tenant's ``allowed_origins``."""

    code = "origin_not_allowed"


@dataclass(frozen=True)
class WidgetSettings:
    """The tenant's ``widget`` channel config as the hub uses it (the plugin's model, read
    as data: the hub never imports a plugin)."""

    allowed_origins: tuple[str, ...]
    token_secret: str
    identity_secret: str | None
    welcome: dict[str, str]
    colour: str
    token_ttl_seconds: int
    help_centre: bool

    @classmethod
    def of(cls, config: BaseModel) -> WidgetSettings:
        data = config.model_dump()

        def plain(value: Any) -> Any:
            return value.get_secret_value() if isinstance(value, SecretStr) else value

        return cls(allowed_origins=tuple(data["allowed_origins"]), token_secret=plain(data["token_secret"]),
                   identity_secret=plain(data.get("identity_secret")), welcome=dict(data.get("welcome") or {}),
                   colour=str(data.get("colour", "#2563eb")), token_ttl_seconds=int(data["token_ttl_seconds"]),
                   help_centre=bool(data.get("help_centre", True)))

    def check_origin(self, request: WebhookRequest) -> str:
        """The request's origin when the tenant allows it; :class:`OriginNotAllowed` otherwise."""
        origin = request.header("origin")
        if not origin or origin not in self.allowed_origins:
            raise OriginNotAllowed("this site is not allowed to use the widget (allowed_origins)")
        return origin


MAX_IF_NONE_MATCH = 200  # as the OpenAPI document says


def entity_tags(header: str | None) -> list[str]:
    """The tags an ``If-None-Match`` names; 400 for one longer than any tag the hub hands out."""
    if header and len(header) > MAX_IF_NONE_MATCH:
        raise BadPayload(f"If-None-Match must be at most {MAX_IF_NONE_MATCH} characters")
    return [tag.strip() for tag in (header or "").split(",") if tag.strip()]


def cors(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin", "Access-Control-Expose-Headers": EXPOSED_HEADERS}


def preflight(origin: str) -> WebhookResponse:
    """The answer to an allowed origin's ``OPTIONS`` preflight."""
    headers = cors(origin) | {"Access-Control-Allow-Methods": ALLOWED_METHODS,
                              "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                              "Access-Control-Max-Age": PREFLIGHT_MAX_AGE, "Content-Type": "text/plain"}
    return WebhookResponse(204, "", headers)


def answer(body: Any, origin: str | None, status: int = 200, headers: dict[str, str] | None = None) -> WebhookResponse:
    """A JSON answer (``body`` ``None``: no body, e.g. 304), with CORS when ``origin`` is allowed."""
    extra = (cors(origin) if origin else {}) | (headers or {}) | {"Cache-Control": "no-store"}
    if body is None:
        return WebhookResponse(status, "", extra)
    return WebhookResponse(status, json.dumps(body, ensure_ascii=False), {"Content-Type": "application/json"} | extra)


def error(err: SwitchboardError, origin: str | None) -> WebhookResponse:
    """An error in the API's shape; readable by the page only when its origin is allowed."""
    return answer(err.to_body(), origin, err.status, err.headers())


def body_of(request: WebhookRequest, model: type[M]) -> M:
    """The JSON body as ``model`` (strict JSON types); 422 with the fields, never the values."""
    if not request.body:
        raise InvalidInput("a JSON body is required", [{"field": "(body)", "message": "missing"}])
    try:
        return model.model_validate_json(request.body, strict=True)
    except ValidationError as err:
        raise InvalidInput.from_validation_error(err, "invalid request body") from None
