"""Visitor tokens and identity hashes (switchboard_sdk.visitor_tokens)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import pytest
from switchboard_sdk import visitor_tokens as vt
from switchboard_sdk.errors import Unauthorized

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SECRET = "a-tenant-token-secret-of-enough-length"  # noqa: S105 - a test secret
CLAIMS = vt.VisitorClaims(tenant="t-acme", visitor="v_1", issued_at=int(NOW.timestamp()),
                          expires_at=int(NOW.timestamp()) + 60, user="u-7", email="ada@example.com", name="艾达")


def test_a_token_round_trips() -> None:
    token = vt.issue(CLAIMS, SECRET)
    assert token.startswith("sbv1.")
    assert token.count(".") == 2
    assert vt.verify(token, SECRET, "t-acme", NOW) == CLAIMS
    assert CLAIMS.identity_value == "user:u-7"


def test_a_token_is_refused_when_forged_tampered_expired_or_another_tenants() -> None:
    token = vt.issue(CLAIMS, SECRET)
    prefix, payload, mac = token.split(".")
    tampered = ".".join([prefix, payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1], mac])
    cases = {
        "forged": (vt.issue(CLAIMS, "someone-elses-secret-of-enough-length"), "t-acme", NOW),
        "tampered": (tampered, "t-acme", NOW),
        "other tenant": (token, "t-other", NOW),
        "expired": (token, "t-acme", datetime.fromtimestamp(CLAIMS.expires_at, UTC)),
        "malformed": ("sbv1.x", "t-acme", NOW),
        "not ours": ("eyJhbGciOi.x.y", "t-acme", NOW),
    }
    for name, (given, tenant, at) in cases.items():
        with pytest.raises(Unauthorized) as refused:
            vt.verify(given, SECRET, tenant, at)
        assert given not in refused.value.message, name


def test_an_expired_token_within_the_grace_renews() -> None:
    token = vt.issue(CLAIMS, SECRET)
    later = datetime.fromtimestamp(CLAIMS.expires_at + 10, UTC)
    assert vt.verify(token, SECRET, "t-acme", later, grace_seconds=60).visitor == "v_1"


def test_identity_hash_is_the_hex_hmac_a_backend_computes() -> None:
    expected = hmac.new(b"identity-secret", b"u-7", hashlib.sha256).hexdigest()
    assert vt.identity_hash("identity-secret", "u-7") == expected
    assert vt.identity_matches("identity-secret", "u-7", expected.upper())
    assert not vt.identity_matches("identity-secret", "u-8", expected)
    assert not vt.identity_matches("identity-secret", "u-7", "")


def test_the_seal_covers_token_and_body() -> None:
    seal = vt.seal(SECRET, "t-acme", "tok", b"body")
    assert vt.check_seal(SECRET, "t-acme", "tok", b"body", seal)
    assert not vt.check_seal(SECRET, "t-acme", "tok", b"body!", seal)
    assert not vt.check_seal(SECRET, "t-acme", "tok2", b"body", seal)
    assert not vt.check_seal(SECRET, "t-other", "tok", b"body", seal)
    assert not vt.check_seal(SECRET, "t-acme", "tok", b"body", None)


def test_upload_folders_are_per_visitor_and_tenant() -> None:
    other = vt.VisitorClaims(tenant="t-other", visitor="v_1", issued_at=0, expires_at=1, user="u-7")
    assert CLAIMS.folder != other.folder
    assert len(CLAIMS.folder) == 32
