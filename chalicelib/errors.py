"""Bad input as the hub reports it, shared by the API and tenancy layers (a leaf).

A pydantic error becomes :class:`~switchboard_sdk.InvalidInput` listing field
locations and reasons only, never the values (they may be personal data or secrets).
"""

from __future__ import annotations

from pydantic import ValidationError
from switchboard_sdk import InvalidInput


def invalid(err: ValidationError, message: str, prefix: str = "") -> InvalidInput:
    """A pydantic error as :class:`InvalidInput`, listing fields and reasons only."""
    fields = [{"field": prefix + ".".join(str(p) for p in e["loc"]) or "(body)", "message": e["msg"]}
              for e in err.errors(include_input=False, include_url=False)]
    return InvalidInput(f"{message}: " + "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5]), fields)
