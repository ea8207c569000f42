"""The one exception tree of Switchboard.

Every error a plugin or the hub raises on purpose is a :class:`SwitchboardError`.
HTTP status, a stable machine-readable ``code`` and retryability are class
attributes; the HTTP edge maps them to responses in one place. ::

    SwitchboardError
    ├── VerificationFailed        401  the request is not provably from the provider
    ├── Unauthorized              401  missing or unknown API key
    ├── Forbidden                 403  the key may not do this
    ├── BadPayload                400  the body cannot be understood
    ├── InvalidInput              422  understood but refused; ``fields`` lists the reason per field
    ├── RateLimited               429  over the tenant's rate; ``Retry-After`` says when to come back
    ├── PayloadTooLarge           413  the body is over the configured limit
    ├── NotFound                  404  unknown tenant, channel, ticket, …
    ├── MethodNotAllowed          405  e.g. a GET to a channel with no handshake
    ├── Conflict                  409  a write lost a race it cannot merge
    ├── Unavailable               503  a dependency left the work unfinished; call again (``retryable``)
    ├── PluginConfigError         500  a plugin or its tenant config is unusable
    └── ConnectorError            502  a connector could not deliver (``retryable``)
        └── OutcomeReached             ends a delivery with its classified outcome (never an HTTP answer)

Messages are safe to show to callers: never put secrets or stack traces in them.
A pydantic ``ValidationError`` becomes one through :meth:`InvalidInput.from_validation_error`
or :func:`describe_validation_error`, which name fields and pydantic's messages but
never the refused input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:  # only its errors() is used: importing errors stays free of pydantic
    from pydantic import ValidationError

    from .models import DeliveryOutcome

MAX_FIELDS_SHOWN = 5  # in a message; InvalidInput.fields lists them all


def validation_fields(err: ValidationError, *, prefix: str = "", root: str = "(body)") -> list[dict[str, str]]:
    """``[{"field": "config.url", "message": "..."}]`` for each error in ``err``.

    The location is joined with dots after ``prefix`` (``root`` when the error is
    about the whole value); the message is pydantic's, asked for without the input
    value, URL or context: a refused value may be a secret or a customer's words.
    """
    return [
        {"field": prefix + (".".join(str(part) for part in detail["loc"]) or root), "message": detail["msg"]}
        for detail in err.errors(include_input=False, include_url=False, include_context=False)
    ]


def describe_validation_error(
    err: ValidationError, *, prefix: str = "", root: str = "(body)", messages: bool = True
) -> str:
    """One line for an error message: ``"a: msg; b: msg (and 3 more)"``.

    ``messages=False`` names the fields only (``"a, b"``, sorted, each once), for
    models whose validators may quote what they refused, such as a customer's text.
    """
    fields = validation_fields(err, prefix=prefix, root=root)
    if messages:
        parts, separator = [f"{field['field']}: {field['message']}" for field in fields], "; "
    else:
        parts, separator = sorted({field["field"] for field in fields}), ", "
    shown = separator.join(parts[:MAX_FIELDS_SHOWN])
    extra = len(parts) - MAX_FIELDS_SHOWN
    return shown + (f" (and {extra} more)" if extra > 0 else "")


class SwitchboardError(Exception):
    """Base of every deliberate Switchboard error."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal_error"
    retryable: bool = False

    def __init__(self, message: str = "") -> None:
        super().__init__(message or self.code.replace("_", " "))

    @property
    def message(self) -> str:
        return str(self.args[0])

    def to_body(self) -> dict[str, dict[str, Any]]:
        """The JSON error body every route answers with."""
        return {"error": {"code": self.code, "message": self.message}}

    def headers(self) -> dict[str, str]:
        """Extra response headers (``Retry-After`` on 429)."""
        return {}


class VerificationFailed(SwitchboardError):
    """Signature missing, wrong, or outside the replay window."""

    status = 401
    code = "verification_failed"


class Unauthorized(SwitchboardError):
    status = 401
    code = "unauthorized"


class Forbidden(SwitchboardError):
    status = 403
    code = "forbidden"


class BadPayload(SwitchboardError):
    """The body is malformed. Raised by ``parse`` after verification, the hub
    quarantines the raw bytes instead of answering 400 (nothing verified is lost)."""

    status = 400
    code = "bad_payload"


class InvalidInput(SwitchboardError):
    """A request the hub understood but refuses, with the reason per field
    (``[{"field": "config.url", "message": "..."}]``); never echoes values."""

    status = 422
    code = "invalid_input"

    def __init__(self, message: str, fields: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or []

    @classmethod
    def from_validation_error(
        cls, err: ValidationError, message: str = "invalid input", *, prefix: str = "", root: str = "(body)"
    ) -> InvalidInput:
        """``err`` as a 422: ``"<message>: a: msg; b: msg"`` and every field in ``fields``.

        Raise it ``from None``: pydantic's own text (the chained cause) quotes the input.
        """
        fields = validation_fields(err, prefix=prefix, root=root)
        return cls(f"{message}: {describe_validation_error(err, prefix=prefix, root=root)}", fields)

    def to_body(self) -> dict[str, dict[str, Any]]:
        body = super().to_body()
        body["error"]["fields"] = self.fields
        return body


class RateLimited(SwitchboardError):
    """Too many requests for this tenant; try again after ``retry_after_seconds``."""

    status = 429
    code = "rate_limited"
    retryable = True

    def __init__(self, message: str = "", *, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = max(1, retry_after_seconds)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_seconds)}


class PayloadTooLarge(SwitchboardError):
    status = 413
    code = "payload_too_large"


class NotFound(SwitchboardError):
    status = 404
    code = "not_found"


class MethodNotAllowed(SwitchboardError):
    status = 405
    code = "method_not_allowed"


class Conflict(SwitchboardError):
    status = 409
    code = "conflict"


class Unavailable(SwitchboardError):
    """A dependency (DynamoDB, SSM, ...) did not finish the work this time;
    the same call again continues where this one stopped."""

    status = 503
    code = "unavailable"
    retryable = True


class PluginConfigError(SwitchboardError):
    """A plugin is broken (duplicate name, bad hook result) or a tenant's config
    for it does not validate. Operators fix these; callers only see a 500."""

    status = 500
    code = "plugin_config_error"


class ConnectorError(SwitchboardError):
    """A connector could not deliver. ``retryable`` says whether trying again
    later can help (timeouts, 5xx) or not (rejected payload, bad credentials)."""

    status = 502
    code = "connector_error"

    def __init__(self, message: str = "", *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class OutcomeReached(ConnectorError):
    """Ends a delivery with ``outcome``, from however deep in the connector it
    became known (a 401 in a record lookup, the time budget spent between calls).

    The one way a connector stops early: raise it anywhere inside the delivery
    and run the delivery through :func:`switchboard_sdk.outcomes.settle`, which
    returns the outcome (and the hub treats one that escapes the hook the same
    way). Ordinary results are returned, not raised.
    """

    def __init__(self, outcome: DeliveryOutcome) -> None:
        super().__init__(outcome.reason, retryable=outcome.kind == "retry")
        self.outcome = outcome
