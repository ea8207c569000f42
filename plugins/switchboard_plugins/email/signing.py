"""Mailgun's webhook signature: public, for tools that sign sample route POSTs (the
demo CLI, benchmarks, tests) and for :mod:`.verify`.

Mailgun signs ``timestamp + token`` (HMAC-SHA256, hex) with the account's HTTP
webhook signing key and posts all three as form fields. The signature does **not**
cover the body, so the one-time ``token`` (the hub's replay key) is what makes a
captured signature useless.
"""

from __future__ import annotations

import hashlib
import hmac


def mailgun_signature(signing_key: str, timestamp: str, token: str) -> str:
    """Mailgun's signature: hex HMAC-SHA256 of ``timestamp + token`` under the signing key."""
    return hmac.new(signing_key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
