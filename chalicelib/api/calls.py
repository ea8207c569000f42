"""An API request as the API layer sees it (built at the edge, no Chalice types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from switchboard_sdk import BadPayload, InvalidInput

M = TypeVar("M", bound=BaseModel)
CURSOR_CHARS = 200  # as documented in the OpenAPI document


@dataclass(frozen=True)
class ApiCall:
    """The parts of an API request the API layer may use."""

    authorization: str | None = None
    source_ip: str = ""
    user_agent: str = ""  # the first 200 characters, for the audit log's "from where"
    base_url: str = "http://localhost"  # scheme://host[/stage] the caller reached us at
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    allowed_query: frozenset[str] | None = None  # None: any (calls built outside the edge)

    def refuse_unknown_query(self) -> None:
        """400 for query parameters the route does not take: a typo in a filter
        must not silently widen the answer. Checked once the caller is known."""
        unknown = sorted(set(self.query) - self.allowed_query) if self.allowed_query is not None else []
        if unknown:
            raise BadPayload(f"unknown query parameter(s): {', '.join(unknown)[:200]}")

    def json(self, model: type[M]) -> M:
        """The body as ``model``; field-level errors (never the values) on failure. Strict:
        JSON's own types only (``true`` is no number, ``0`` no boolean, ``"1"`` no integer),
        as the API's schema says; strings still become dates and enums."""
        if not self.body:
            raise InvalidInput("a JSON body is required", [{"field": "(body)", "message": "missing"}])
        try:
            return model.model_validate_json(self.body, strict=True)
        except ValidationError as err:
            raise InvalidInput.from_validation_error(err, "invalid request body") from None

    def file_text(self, what: str, max_bytes: int, *, limit_shown: int | None = None) -> str:
        """An uploaded file's text (the body, UTF-8): 422s a person can act on when it is
        missing, too large (``limit_shown``: the size to name, when the body may be bigger
        than the file, e.g. escaped in JSON) or not UTF-8 (Excel's plain "CSV" is not)."""
        if not self.body:
            raise InvalidInput(f"{what} is required", [{"field": "(body)", "message": "missing"}])
        if len(self.body) > max_bytes:
            raise InvalidInput(f"the file is larger than {limit_shown or max_bytes:,} bytes: split it",
                               [{"field": "(file)", "message": "too large"}])
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the file must be UTF-8 (in Excel: Save As → CSV UTF-8)",
                               [{"field": "(file)", "message": "not UTF-8"}]) from None

    def optional_json(self, model: type[M]) -> M:
        """The body as ``model``, or the model's defaults when there is none."""
        return self.json(model) if self.body else model()

    def param(self, name: str, max_length: int = CURSOR_CHARS) -> str | None:
        """A query parameter (``None`` when absent or empty), refused when too long."""
        value = self.query.get(name) or None
        if value is not None and len(value) > max_length:
            raise BadPayload(f"{name} must be at most {max_length} characters")
        return value
