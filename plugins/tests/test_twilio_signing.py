"""``X-Twilio-Signature``: Twilio's own vectors, URL shapes behind API Gateway,
rotation, tampering, and garbage that must only ever raise SDK errors."""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from switchboard_plugins import twilio
from switchboard_plugins.twilio import signing
from switchboard_plugins.twilio.config import TwilioConfig
from switchboard_plugins.twilio.signing import MAX_QUERY_FORMS
from switchboard_sdk.errors import BadPayload, SwitchboardError, VerificationFailed
from switchboard_sdk.webhooks import IngestReport, WebhookRequest
from test_twilio import (
    CURRENT,
    HOOK,
    INBOUND_CALL,
    NOW,
    PREVIOUS,
    SMS,
    Params,
    config,
    form_request,
    reference_signature,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "twilio" / "request_validator_vectors.json").read_text())
CASES: dict[str, dict[str, Any]] = {case["name"]: case for case in VECTORS["cases"]}
FORM_PARAMS: Params = [tuple(p) for p in CASES["form params"]["params"]]  # type: ignore[misc]


def multi(params: Params) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in params:
        grouped.setdefault(key, []).append(value)
    return grouped


def vector_request(public_url: str, params: Params, header: str, body: bytes | None = None) -> WebhookRequest:
    return WebhookRequest(
        tenant_id="t-acme", channel="twilio", method="POST", public_url=public_url,
        headers={"x-twilio-signature": header}, query={},
        body=urlencode(params).encode() if body is None else body, received_at=NOW,
    )


def verify(request: WebhookRequest, cfg: TwilioConfig | None = None) -> bool:
    return bool(twilio.plugin.switchboard_channel_verify(request=request, config=cfg or config()))


def vector_config() -> TwilioConfig:
    return config(auth_token=VECTORS["auth_token"])


def params_of(case: dict[str, Any]) -> Params:
    return FORM_PARAMS if case["params"] == "same as form params" else [tuple(p) for p in case["params"]]


# -- Twilio's vectors ------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["form params", "same params, URL signed with explicit :443", "http URL with :80",
     "http URL with :1234 (validator strips port)", "duplicate keys: keys sorted, values sorted, duplicates removed",
     "Twilio docs example (From +12349013030), as quoted in gist ryanwinchester/ab49855e... referencing "
     "twilio.com/docs/usage/security"],
)
def test_signature_matches_the_vectors(name: str) -> None:
    case = CASES[name]
    params = params_of(case)
    assert signing.signature(VECTORS["auth_token"], case["url"], multi(params)) == case["expected"]
    assert verify(vector_request(case["url"], params, case["expected"]), vector_config())


def test_the_string_to_sign_is_url_then_sorted_params() -> None:
    case = CASES["form params"]
    assert case["url"] + "".join(k + v for k, v in sorted(FORM_PARAMS)) == case["string_to_sign"]


def test_a_url_signed_with_443_verifies_when_the_hub_rebuilt_it_without() -> None:
    case = CASES["same params, URL signed with explicit :443"]
    assert verify(vector_request("https://mycompany.com/myapp.php?foo=1&bar=2", FORM_PARAMS, case["expected"]),
                  vector_config())


def test_a_url_signed_without_port_verifies_when_the_hub_rebuilt_it_with_80() -> None:
    plain = signing.signature(VECTORS["auth_token"], "http://mycompany.com/myapp.php?foo=1&bar=2", multi(FORM_PARAMS))
    assert verify(vector_request(CASES["http URL with :80"]["url"], FORM_PARAMS, plain), vector_config())


def test_an_odd_port_is_tried_without_it_like_twilios_validator() -> None:
    # The vector's note calls Zmvh... the port-less signature; it is the :1234 URL's own
    # (see test_signature_matches_the_vectors). What twilio-python does hold: a port-less
    # signature verifies for a URL with any port.
    case = CASES["https URL with :1234 validates against port-less signature"]
    assert verify(vector_request(case["url"], FORM_PARAMS, case["expected_valid_signature"]), vector_config())


def test_repeated_values_are_deduplicated_and_also_accepted_in_full() -> None:
    case = CASES["duplicate keys: keys sorted, values sorted, duplicates removed"]
    params = params_of(case)
    assert verify(vector_request(case["url"], params, case["expected"]), vector_config())
    every_value = reference_plain(VECTORS["auth_token"], case["url"], params)
    assert verify(vector_request(case["url"], params, every_value), vector_config())


def reference_plain(key: str, url: str, params: Params) -> str:
    import base64
    import hashlib
    import hmac

    data = url + "".join(k + v for k, v in sorted(params))
    return base64.b64encode(hmac.new(key.encode(), data.encode(), hashlib.sha1).digest()).decode()


def json_case() -> tuple[dict[str, Any], bytes]:
    case = CASES["JSON body (bodySHA256)"]
    return case, case["body"].encode()


def test_json_body_hash_and_signature_match_the_vector() -> None:
    case, body = json_case()
    assert signing.body_sha256(body) == case["expected_body_sha256"]
    assert signing.signature(VECTORS["auth_token"], case["url"], None) == case["expected"]
    assert verify(vector_request(case["url"], [], case["expected"], body=body), vector_config())


def test_json_body_that_does_not_match_its_hash_fails() -> None:
    case, body = json_case()
    with pytest.raises(VerificationFailed, match="bodySHA256"):
        verify(vector_request(case["url"], [], case["expected"], body=body + b" "), vector_config())


# -- URL shapes ------------------------------------------------------------------

EXECUTE_API = "https://abc123.execute-api.eu-west-1.amazonaws.com"

# (what Twilio called and signed, what the hub rebuilt, the tenant's public_base_url)
SHAPES: list[tuple[str, str, str, str | None]] = [
    ("execute-api with stage", f"{EXECUTE_API}/prod/hooks/t-acme/twilio", f"{EXECUTE_API}/prod/hooks/t-acme/twilio",
     None),
    ("custom domain, no stage", "https://support.example.com/hooks/t-acme/twilio",
     "https://support.example.com/hooks/t-acme/twilio", None),
    ("custom domain with base path, hub sees execute-api", "https://api.example.com/switchboard/hooks/t-acme/twilio",
     f"{EXECUTE_API}/prod/hooks/t-acme/twilio", "https://api.example.com/switchboard"),
    ("proxy in front of a plain-http origin", "https://support.example.com/hooks/t-acme/twilio",
     "http://10.0.0.7:8080/hooks/t-acme/twilio", "https://support.example.com"),
    ("base url with trailing slash", "https://support.example.com/hooks/t-acme/twilio",
     f"{EXECUTE_API}/prod/hooks/t-acme/twilio", "https://support.example.com/"),
    ("a stage named hooks", "https://support.example.com/hooks/t-acme/twilio",
     f"{EXECUTE_API}/hooks/hooks/t-acme/twilio", "https://support.example.com"),
    ("Twilio configured with :443", "https://support.example.com:443/hooks/t-acme/twilio",
     "https://support.example.com/hooks/t-acme/twilio", None),
    ("hub rebuilt with :443", "https://support.example.com/hooks/t-acme/twilio",
     "https://support.example.com:443/hooks/t-acme/twilio", None),
    ("base url states :443", "https://support.example.com:443/hooks/t-acme/twilio",
     f"{EXECUTE_API}/prod/hooks/t-acme/twilio", "https://support.example.com:443"),
    ("non-default port", "https://support.example.com:8443/hooks/t-acme/twilio",
     "https://support.example.com:8443/hooks/t-acme/twilio", None),
    ("plain http", "http://support.example.com/hooks/t-acme/twilio",
     "http://support.example.com/hooks/t-acme/twilio", None),
    ("http with :80", "http://support.example.com:80/hooks/t-acme/twilio",
     "http://support.example.com/hooks/t-acme/twilio", None),
    ("query string", f"{EXECUTE_API}/prod/hooks/t-acme/twilio?event=status",
     f"{EXECUTE_API}/prod/hooks/t-acme/twilio?event=status", None),
    ("query string through a base url", "https://support.example.com/hooks/t-acme/twilio?event=recording&x=a%20b",
     f"{EXECUTE_API}/prod/hooks/t-acme/twilio?event=recording&x=a%20b", "https://support.example.com"),
]


@pytest.mark.parametrize(("signed_for", "public_url", "base"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
@pytest.mark.parametrize("params", [SMS, INBOUND_CALL], ids=["sms", "call"])
def test_url_shapes_verify(signed_for: str, public_url: str, base: str | None, params: Params) -> None:
    cfg = config(public_base_url=base) if base else config()
    assert verify(form_request(params, url=public_url, signed_for=signed_for), cfg)


MISMATCHES: list[tuple[str, str, str, str | None]] = [
    ("https signed, hub rebuilt http", "https://support.example.com/hooks/t-acme/twilio",
     "http://support.example.com/hooks/t-acme/twilio", None),
    ("stage prefix lost", f"{EXECUTE_API}/prod/hooks/t-acme/twilio", f"{EXECUTE_API}/hooks/t-acme/twilio", None),
    ("custom domain without base url", "https://support.example.com/hooks/t-acme/twilio",
     f"{EXECUTE_API}/prod/hooks/t-acme/twilio", None),
    ("wrong base url", "https://support.example.com/hooks/t-acme/twilio",
     f"{EXECUTE_API}/prod/hooks/t-acme/twilio", "https://help.example.com"),
    ("query string dropped", f"{EXECUTE_API}/prod/hooks/t-acme/twilio?event=status",
     f"{EXECUTE_API}/prod/hooks/t-acme/twilio", None),
    ("another tenant's path", "https://support.example.com/hooks/t-other/twilio",
     "https://support.example.com/hooks/t-acme/twilio", None),
    ("no /hooks/ in path", "https://support.example.com/hooks/t-acme/twilio",
     f"{EXECUTE_API}/prod/t-acme/twilio", "https://support.example.com"),
]


@pytest.mark.parametrize(("signed_for", "public_url", "base"), [m[1:] for m in MISMATCHES],
                         ids=[m[0] for m in MISMATCHES])
def test_urls_twilio_did_not_sign_fail(signed_for: str, public_url: str, base: str | None) -> None:
    cfg = config(public_base_url=base) if base else config()
    with pytest.raises(VerificationFailed):
        verify(form_request(SMS, url=public_url, signed_for=signed_for), cfg)


def test_url_variants() -> None:
    assert signing.url_variants("https://a.example/x?y=1") == ["https://a.example/x?y=1", "https://a.example:443/x?y=1"]
    assert signing.url_variants("http://a.example:80/x") == ["http://a.example:80/x", "http://a.example/x"]
    assert signing.url_variants("https://a.example:bad/x") == ["https://a.example:bad/x"]


# -- query strings: as Twilio signed them, as API Gateway's REST events rebuild them -------

SPELLED = ["note=a%20b", "note=a+b", "t=%7Ex", "t=~x", "flag", "flag=", "a=1&a=2", "x=1%2B2", "e=caf%C3%A9",
           "event=status&note=a%20b&t=%7E1&flag&a=1&a=2", "flag&other&t=~&n=%20"]


def rebuilt(url: str) -> str:
    """``url`` as the edge rebuilds it from API Gateway's parsed parameters (no raw
    query): urlencode, so "+" for a space, "~" as is, "flag=" for an empty value."""
    head, _, query = url.partition("?")
    return f"{head}?{urlencode(parse_qsl(query, keep_blank_values=True))}"


@pytest.mark.parametrize("query", SPELLED)
@pytest.mark.parametrize("params", [SMS, INBOUND_CALL], ids=["sms", "call"])
def test_a_query_verifies_as_sent_and_as_rebuilt_from_parsed_parameters(query: str, params: Params) -> None:
    signed_for = f"{HOOK}?{query}"
    assert verify(form_request(params, url=signed_for))
    assert verify(form_request(params, url=rebuilt(signed_for), signed_for=signed_for))


@pytest.mark.parametrize(
    ("signed", "sent"),
    [("note=a%20b", "note=a%20c"), ("note=a%20b", "note=a%2520b"), ("flag", "flag=0"), ("a=1", "a=1&a=2"),
     ("a=1&a=2", "a=1"), ("t=~x", "t=%7Ey"), ("x=1%2B2", "x=1+2"), ("event=status", "event=recording")],
)
def test_a_signature_over_another_query_fails_in_every_spelling(signed: str, sent: str) -> None:
    signed_for = f"{HOOK}?{signed}"
    for url in (f"{HOOK}?{sent}", rebuilt(f"{HOOK}?{sent}")):
        with pytest.raises(VerificationFailed):
            verify(form_request(SMS, url=url, signed_for=signed_for))


def test_a_forged_signature_fails_for_an_oddly_spelled_query() -> None:
    signed_for = f"{HOOK}?note=a%20b&t=%7E1&flag"
    with pytest.raises(VerificationFailed):
        verify(form_request(SMS, url=rebuilt(signed_for), signed_for=signed_for, key="another-account-token"))


def test_query_forms_start_with_the_url_as_given_and_are_bounded() -> None:
    assert signing.query_forms(HOOK) == [HOOK]
    assert signing.query_forms(f"{HOOK}?event=status") == [f"{HOOK}?event=status"]
    assert signing.query_forms(f"{HOOK}?note=a+b") == [f"{HOOK}?note=a+b", f"{HOOK}?note=a%20b"]
    # every variation at once, spelled unlike any of them: still at most eight
    odd = f"{HOOK}?note=a%20b&t=~1&flag&next=/x"
    forms = signing.query_forms(odd)
    assert forms[0] == odd
    assert len(forms) == MAX_QUERY_FORMS == 8
    assert len(set(forms)) == len(forms)
    assert {tuple(parse_qsl(f.partition("?")[2], keep_blank_values=True)) for f in forms} == {
        (("note", "a b"), ("t", "~1"), ("flag", ""), ("next", "/x"))}


# -- rejections ------------------------------------------------------------------


def test_a_wrong_token_fails() -> None:
    with pytest.raises(VerificationFailed):
        verify(form_request(SMS, key="another-account-token"))


def test_a_tampered_param_fails() -> None:
    request = form_request(SMS)
    tampered = urlencode([(k, "+14155550199" if k == "From" else v) for k, v in SMS]).encode()
    with pytest.raises(VerificationFailed):
        verify(replace(request, body=tampered))


def test_an_added_param_fails() -> None:
    request = form_request(SMS)
    with pytest.raises(VerificationFailed):
        verify(replace(request, body=request.body + b"&Extra=1"))


@pytest.mark.parametrize("header", [None, "", "   ", "not-base64", "é\u0000☃", reference_signature(CURRENT, HOOK, [])])
def test_missing_or_bogus_headers_fail(header: str | None) -> None:
    request = form_request(SMS)
    headers = {k: v for k, v in request.headers.items() if k != "x-twilio-signature"}
    if header is not None:
        headers["x-twilio-signature"] = header
    with pytest.raises(VerificationFailed):
        verify(replace(request, headers=headers))


def test_rotation_accepts_current_and_previous_tokens() -> None:
    rotating = config(previous_auth_token=PREVIOUS)
    assert verify(form_request(SMS, key=CURRENT), rotating)
    assert verify(form_request(SMS, key=PREVIOUS), rotating)
    with pytest.raises(VerificationFailed):
        verify(form_request(SMS, key=PREVIOUS), config())


@pytest.mark.parametrize(
    "public_url", ["https://[x/hooks/t-acme/twilio", "https://a.example:99999/hooks/t-acme/twilio", "", "not a url"]
)
@pytest.mark.parametrize("base", [None, "https://support.example.com"])
def test_urls_urlsplit_refuses_fail_verification_cleanly(public_url: str, base: str | None) -> None:
    cfg = config(public_base_url=base) if base else config()
    with pytest.raises(VerificationFailed):
        verify(form_request(INBOUND_CALL, url=public_url, signed_for=HOOK), cfg)
    # the signature of the odd URL itself still verifies when no base URL is set
    if base is None:
        assert verify(form_request(INBOUND_CALL, url=public_url), cfg)


def test_odd_media_urls_are_bad_payloads() -> None:
    params = [*SMS, ("MediaUrl0", "http://[x/photo.jpg")]
    request = form_request([(k, "1" if k == "NumMedia" else v) for k, v in params])
    with pytest.raises(BadPayload, match="MediaUrl0"):
        twilio.plugin.switchboard_channel_parse(request=request, config=config())


def test_a_malformed_form_body_fails_verification() -> None:
    request = form_request(SMS)
    with pytest.raises(VerificationFailed):
        verify(replace(request, body=b"\xff\xfe%%%&&==&=%zz\x00"))


# -- garbage ---------------------------------------------------------------------

KEYS = ["MessageSid", "SmsSid", "From", "To", "Body", "NumMedia", "MediaUrl0", "MediaContentType0", "MessageStatus",
        "CallSid", "CallStatus", "DialCallStatus", "RecordingSid", "RecordingUrl", "RecordingStatus",
        "TranscriptionSid", "TranscriptionText", "TranscriptionStatus", "ProfileName", "CallerName"]
VALUES = st.one_of(
    st.sampled_from(["", "+14155550100", "whatsapp:+4915112345678", "ringing", "no-answer", "completed", "busy",
                     "1", "2", "101", "https://api.twilio.com/x", "CA1", "received", "undelivered", "+266696687"]),
    st.text(max_size=40),
)
FORMS = st.lists(st.tuples(st.one_of(st.sampled_from(KEYS), st.text(max_size=10)), VALUES), max_size=12)
EVENTS = st.sampled_from(["", "?event=recording", "?event=recorded", "?event=transcription", "?event=status",
                          "?event=other", "?bodySHA256=00", "?event="])
GARBAGE = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@GARBAGE
@given(params=FORMS, event=EVENTS, base=st.sampled_from([None, "https://support.example.com"]))
def test_random_signed_forms_raise_only_sdk_errors(params: Params, event: str, base: str | None) -> None:
    cfg = config(public_base_url=base) if base else config()
    url = HOOK + event
    signed_for = "https://support.example.com/hooks/t-acme/twilio" + event if base else url
    request = form_request(params, url=url, signed_for=signed_for)
    try:
        twilio.plugin.switchboard_channel_verify(request=request, config=cfg)
        first = twilio.plugin.switchboard_channel_parse(request=request, config=cfg)
        assert first == twilio.plugin.switchboard_channel_parse(request=request, config=cfg)
    except (BadPayload, VerificationFailed):
        pass
    for report in (IngestReport(stored=1), IngestReport(quarantine_id="q", quarantine_reason="x")):
        answer = twilio.plugin.switchboard_channel_respond(request=request, config=cfg, report=report)
        assert answer.status_code == 200


@GARBAGE
@given(body=st.binary(max_size=512), header=st.text(max_size=40), url=st.text(max_size=60))
@example(body=b"CallSid=CA1&CallStatus=ringing&From=%2B14155550100", header="x", url="https://[x/hooks/t-acme/twilio")
@example(body=b"NumMedia=1&MediaUrl0=http://[x&MessageSid=SM1&From=%2B14155550100", header="x", url="")
@example(body=b"", header="x", url="https://a.example:99999/hooks/t-acme/twilio?event=status")
def test_random_bytes_and_urls_raise_only_sdk_errors(body: bytes, header: str, url: str) -> None:
    cfg = config(public_base_url="https://support.example.com")
    request = replace(form_request(SMS), body=body, public_url=url, headers={"x-twilio-signature": header})
    for hook in (twilio.plugin.switchboard_channel_verify, twilio.plugin.switchboard_channel_parse):
        with contextlib.suppress(SwitchboardError):
            hook(request=request, config=cfg)
    answer = twilio.plugin.switchboard_channel_respond(request=request, config=cfg, report=IngestReport())
    assert answer.status_code == 200
