"""The SDK's Standard Webhooks signer/verifier against the reference libraries' vectors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from switchboard_sdk import standard_webhooks as sw
from switchboard_sdk.errors import PluginConfigError, VerificationFailed

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "standard-webhooks" / "signature_vectors.json").read_text()
)
CASES: list[dict[str, Any]] = VECTORS["cases"]
FIRST = CASES[0]


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _headers(case: dict[str, Any], signature: str) -> dict[str, str]:
    return {
        "webhook-id": case["msg_id"],
        "webhook-timestamp": str(case["timestamp"]),
        "webhook-signature": signature,
    }


def _verify(case: dict[str, Any], signature: str, *, now: int | None = None, secrets: Any = None) -> str:
    return sw.verify(
        secrets or [case["secret"]],
        _headers(case, signature),
        case["payload"].encode(),
        now=_at(case["timestamp"] if now is None else now),
    )


def _ids(case: dict[str, Any]) -> str:
    return str(case["msg_id"])


@pytest.fixture(params=CASES, ids=_ids)
def case(request: pytest.FixtureRequest) -> dict[str, Any]:
    return dict(request.param)


def test_vectors_are_present() -> None:
    assert len(CASES) >= 2


def test_sign_matches_the_reference_signature(case: dict[str, Any]) -> None:
    signature = sw.sign(case["secret"], case["msg_id"], case["timestamp"], case["payload"].encode())
    assert signature == case["expected_signature"]


def test_verify_accepts_the_reference_signature(case: dict[str, Any]) -> None:
    assert _verify(case, case["expected_signature"]) == case["msg_id"]


def test_verify_rejects_the_negative_signature(case: dict[str, Any]) -> None:
    with pytest.raises(VerificationFailed):
        _verify(case, case["negative_signature"])


def test_signed_headers_round_trip(case: dict[str, Any]) -> None:
    headers = sw.signed_headers(case["secret"], case["msg_id"], case["timestamp"], case["payload"].encode())
    assert headers == _headers(case, case["expected_signature"])


@pytest.mark.parametrize("skew", [-sw.DEFAULT_TOLERANCE_SECONDS - 1, sw.DEFAULT_TOLERANCE_SECONDS + 1])
def test_verify_rejects_timestamps_outside_the_tolerance(case: dict[str, Any], skew: int) -> None:
    with pytest.raises(VerificationFailed, match="replay window"):
        _verify(case, case["expected_signature"], now=case["timestamp"] + skew)


@pytest.mark.parametrize("skew", [-sw.DEFAULT_TOLERANCE_SECONDS, sw.DEFAULT_TOLERANCE_SECONDS])
def test_verify_accepts_the_edges_of_the_tolerance(case: dict[str, Any], skew: int) -> None:
    assert _verify(case, case["expected_signature"], now=case["timestamp"] + skew) == case["msg_id"]


def test_a_custom_tolerance_is_honoured() -> None:
    headers = _headers(FIRST, FIRST["expected_signature"])
    with pytest.raises(VerificationFailed):
        sw.verify([FIRST["secret"]], headers, FIRST["payload"].encode(),
                  now=_at(FIRST["timestamp"] + 11), tolerance_seconds=10)


def test_one_valid_signature_among_decoys_is_enough(case: dict[str, Any]) -> None:
    header = " ".join([*VECTORS["multi_signature_header_decoys"], case["expected_signature"]])
    assert _verify(case, header) == case["msg_id"]


def test_decoys_alone_are_rejected(case: dict[str, Any]) -> None:
    with pytest.raises(VerificationFailed):
        _verify(case, " ".join(VECTORS["multi_signature_header_decoys"]))


def test_a_right_digest_under_another_version_is_rejected(case: dict[str, Any]) -> None:
    with pytest.raises(VerificationFailed):
        _verify(case, "v2," + case["expected_signature"].removeprefix("v1,"))


@pytest.mark.parametrize("unpadded", VECTORS["secret_padding_cases_from_python_tests"]["unpadded_ok"])
def test_unpadded_secrets_verify_like_their_padded_form(unpadded: str) -> None:
    padded = unpadded + "=" * (-len(unpadded) % 4)
    body = FIRST["payload"].encode()
    signature = sw.sign("whsec_" + padded, FIRST["msg_id"], FIRST["timestamp"], body)
    assert sw.sign("whsec_" + unpadded, FIRST["msg_id"], FIRST["timestamp"], body) == signature
    assert _verify(FIRST, signature, secrets=["whsec_" + unpadded]) == FIRST["msg_id"]
    assert sw.decode_secret("whsec_" + unpadded) == base64.b64decode(padded)


@pytest.mark.parametrize("secret", VECTORS["secret_padding_cases_from_python_tests"]["empty_secret_errors"])
def test_empty_secrets_raise_config_errors(secret: str) -> None:
    with pytest.raises(PluginConfigError):
        sw.decode_secret(secret)
    with pytest.raises(PluginConfigError):
        sw.sign(secret, "msg", 1, b"{}")
    with pytest.raises(PluginConfigError):
        _verify(FIRST, FIRST["expected_signature"], secrets=[secret])


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_headers_fail_verification(missing: str) -> None:
    headers = _headers(FIRST, FIRST["expected_signature"])
    del headers[missing]
    with pytest.raises(VerificationFailed, match="missing"):
        sw.verify([FIRST["secret"]], headers, FIRST["payload"].encode(), now=_at(FIRST["timestamp"]))


def test_a_non_integer_timestamp_fails_verification() -> None:
    headers = {**_headers(FIRST, FIRST["expected_signature"]), "webhook-timestamp": "yesterday"}
    with pytest.raises(VerificationFailed):
        sw.verify([FIRST["secret"]], headers, FIRST["payload"].encode(), now=_at(FIRST["timestamp"]))


def test_rotation_accepts_the_previous_secret_until_it_is_removed() -> None:
    old, new = CASES[0]["secret"], CASES[1]["secret"]
    signed_with_old = FIRST["expected_signature"]
    assert _verify(FIRST, signed_with_old, secrets=[new, old]) == FIRST["msg_id"]
    with pytest.raises(VerificationFailed):
        _verify(FIRST, signed_with_old, secrets=[new])


def test_a_sender_signing_with_both_secrets_passes_either_receiver() -> None:
    old, new = CASES[0]["secret"], CASES[1]["secret"]
    body = FIRST["payload"].encode()
    both = " ".join(sw.sign(s, FIRST["msg_id"], FIRST["timestamp"], body) for s in (new, old))
    for receiver in ([old], [new]):
        assert _verify(FIRST, both, secrets=receiver) == FIRST["msg_id"]


def test_signed_headers_sign_with_previous_secrets_too() -> None:
    old, new = CASES[0]["secret"], CASES[1]["secret"]
    body = FIRST["payload"].encode()
    headers = sw.signed_headers(new, FIRST["msg_id"], FIRST["timestamp"], body, previous=[old])
    assert headers["webhook-signature"].split(" ") == [
        sw.sign(new, FIRST["msg_id"], FIRST["timestamp"], body),
        FIRST["expected_signature"],
    ]
    for receiver in ([old], [new]):
        assert _verify(FIRST, headers["webhook-signature"], secrets=receiver) == FIRST["msg_id"]
