"""An API request as the API layer sees it (built at the edge, no Chalice types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from switchboard_sdk import InvalidInput

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ApiCall:
    """The parts of an API request the API layer may use."""

    authorization: str | None = None
    source_ip: str = ""
    base_url: str = "http://localhost"  # scheme://host[/stage] the caller reached us at
    query: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self, model: type[M]) -> M:
        """The body as ``model``; field-level errors (never the values) on failure."""
        try:
            return model.model_validate_json(self.body or b"{}")
        except ValidationError as err:
            raise invalid(err, "invalid request body") from None


def invalid(err: ValidationError, message: str, prefix: str = "") -> InvalidInput:
    """A pydantic error as :class:`InvalidInput`, listing fields and reasons only."""
    fields = [{"field": prefix + ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]}
              for e in err.errors(include_input=False, include_url=False)]
    return InvalidInput(f"{message}: " + "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5]), fields)



