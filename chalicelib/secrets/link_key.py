"""The hub's key for signed links (satisfaction surveys' one-click answers).

One random 32-byte key per deployment, kept in SSM Parameter Store as a
SecureString under the stack's prefix (``<prefix>/hub/link-key``). The first
container that needs it and finds none makes it — ``Overwrite=False``, so of
containers racing, one key wins and every one reads that key back. Per-tenant
keys are derived from it (:func:`chalicelib.workflow.surveys.tenant_link_key`),
so a link of one tenant never verifies for another.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

KEY_BYTES = 32


def link_key_name(prefix: str) -> str:
    return f"{prefix}/hub/link-key"


def link_signing_key(ssm: Any, prefix: str) -> bytes:
    """The deployment's link key, made on first use."""
    name = link_key_name(prefix)
    try:
        ssm.put_parameter(Name=name, Value=base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode(),
                          Type="SecureString", Overwrite=False, Tier="Standard",
                          Description="Switchboard: signs survey links (rotate by deleting; old links stop working)")
    except Exception as err:
        if type(err).__name__ != "ParameterAlreadyExists":
            raise
    value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    return base64.b64decode(value)
