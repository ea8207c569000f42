"""The crypto package's errors, in the one exception tree (``switchboard_sdk.errors``),
and the one place a KMS failure becomes :class:`KeyServiceUnavailable`.

Messages name what failed, never a key, a ciphertext or the plaintext.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from switchboard_sdk import SwitchboardError, Unavailable

T = TypeVar("T")


class KeyServiceUnavailable(Unavailable):
    """KMS did not answer (connection, throttling, internal error) or refused the key
    (disabled, pending deletion, no permission): nothing was sealed or opened; the
    same call later may succeed."""

    code = "key_service_unavailable"


class Undecryptable(SwitchboardError):
    """A sealed value does not open: tampered, moved to another item, tenant or field,
    wrapped under another key, or not in a known format. Never retryable."""

    status = 500
    code = "undecryptable"


class CryptoNotConfigured(SwitchboardError):
    """The deployment names no KMS key (``SWITCHBOARD_KMS_KEY_ID``) and the tenant none
    of its own, or a store built without a crypto reads a sealed value."""

    status = 500
    code = "crypto_not_configured"


# KMS's answers that say the wrapped key itself does not open (another tenant's context,
# another key, bytes that are no KMS ciphertext): the value is undecryptable, not the service down
REFUSED_CIPHERTEXT = frozenset({"InvalidCiphertextException", "IncorrectKeyException"})


def kms_call(what: str, call: Callable[[], T]) -> T:
    """``call()`` (one KMS request). A wrapped key KMS refuses as such is
    :class:`Undecryptable`; any other failure of the service or the transport (throttling,
    internal errors, a disabled or deleted key, no permission, no connection, a timeout) is
    :class:`KeyServiceUnavailable`; both chained (``raise ... from``) for the logs' traceback."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return call()
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in REFUSED_CIPHERTEXT:
            raise Undecryptable("a sealed value's key does not open in this context") from err
        raise KeyServiceUnavailable(f"the key service did not {what}; try again") from err
    except BotoCoreError as err:  # EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ...
        raise KeyServiceUnavailable(f"the key service did not {what}; try again") from err
