"""How a plugin's config model tells the hub about its secrets.

Declare every secret as ``pydantic.SecretStr`` (or ``standard_webhooks.WhsecSecret``,
optional, or a ``list`` of them): the hub finds them by type, keeps them in its
secret store instead of the tenant table, and never shows them again.

Where the provider or receiver accepts two secrets at once, mark the field with
:func:`rotates_into`: when a tenant replaces the secret, the hub keeps the old
value usable in the named field for a grace period, then drops it. ::

    auth_token: SecretStr = Field(json_schema_extra=rotates_into("previous_auth_token"))
    previous_auth_token: SecretStr | None = None

    # a list rotates into itself: the replaced secrets stay at its end
    secrets: list[WhsecSecret] = Field(max_length=5, json_schema_extra=rotates_into("secrets"))
"""

from __future__ import annotations

from pydantic.config import JsonDict

SECRET_ROTATION = "x-switchboard-rotation"  # noqa: S105 - a schema key, not a secret
"""The ``json_schema_extra`` key naming the field that keeps a replaced secret."""


def rotates_into(field: str) -> JsonDict:
    """``json_schema_extra`` for a secret field: a replaced value stays valid in
    ``field`` (an optional secret, or a list of secrets) during the grace period."""
    return {SECRET_ROTATION: field}
