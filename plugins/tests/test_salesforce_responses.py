"""The ``salesforce`` connector's pure parts: error arrays → outcomes, config, comment text."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from fakes import LOOPBACK_ALLOWED
from pydantic import ValidationError
from switchboard_plugins.salesforce import records, responses
from switchboard_plugins.salesforce.config import DEFAULT_CASE_STATUS, SalesforceConfig
from switchboard_plugins.salesforce.responses import SalesforceError
from switchboard_sdk.models import Message
from switchboard_sdk.netguard import OutboundPolicy, validation_context
from switchboard_sdk.transport import HttpResponse

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SECRET = "consumer-secret-TOPSECRET-123"  # noqa: S105 -- a made-up connected app secret


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status=status, headers=headers or {}, body=raw)


def sf_error(code: str, message: str = "m", fields: list[str] | None = None) -> list[dict[str, Any]]:
    return [{"message": message, "errorCode": code, "fields": fields or []}]


# -- error arrays ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "parsed"),
    [
        (sf_error("INVALID_FIELD", "No such column 'X'", ["X"]),
         [SalesforceError("INVALID_FIELD", "No such column 'X'", ("X",))]),
        ({"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"},
         [SalesforceError("INVALID_SESSION_ID", "Session expired or invalid")]),
        ([*sf_error("A"), *sf_error("B")], [SalesforceError("A", "m"), SalesforceError("B", "m")]),
        ([{"errorCode": "A"}], [SalesforceError("A", "")]),
        ([{"message": "no code"}, "text", 3, None], []),
        ({"error": "invalid_client"}, []),
        (None, []),
        ("<html>", []),
    ],
)
def test_error_arrays_are_parsed(body: Any, parsed: list[SalesforceError]) -> None:
    assert responses.parse_errors(body) == parsed


@pytest.mark.parametrize(
    ("status", "body", "kind", "reason"),
    [
        (400, sf_error("INVALID_FIELD", "No such column 'Foo__c' on sobject of type Case"), "failed",
         "Salesforce answered 400 INVALID_FIELD: No such column 'Foo__c' on sobject of type Case"),
        (400, sf_error("REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]", ["LastName"]), "failed",
         "Salesforce answered 400 REQUIRED_FIELD_MISSING: Required fields are missing: [LastName] (fields: LastName)"),
        (400, sf_error("MALFORMED_ID", "Case ID: id value of incorrect type: x", ["ParentId"]), "failed",
         "Salesforce answered 400 MALFORMED_ID: Case ID: id value of incorrect type: x (fields: ParentId)"),
        (400, sf_error("UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access"), "retry",
         "Salesforce answered 400 UNABLE_TO_LOCK_ROW: unable to obtain exclusive access"),
        (403, sf_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), "retry",
         "Salesforce answered 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded."),
        (403, sf_error("INSUFFICIENT_ACCESS", "insufficient access rights on object id"), "failed",
         "Salesforce answered 403 INSUFFICIENT_ACCESS: insufficient access rights on object id"),
        (404, sf_error("NOT_FOUND", "The requested resource does not exist"), "failed",
         "Salesforce answered 404 NOT_FOUND: The requested resource does not exist"),
        (503, sf_error("SERVER_UNAVAILABLE", "busy"), "retry", "Salesforce answered 503 SERVER_UNAVAILABLE: busy"),
        (500, sf_error("UNKNOWN_EXCEPTION", "An unexpected error occurred"), "retry",
         "Salesforce answered 500 UNKNOWN_EXCEPTION: An unexpected error occurred"),
        (401, sf_error("INVALID_SESSION_ID", "Session expired or invalid"), "failed",
         "Salesforce answered 401 INVALID_SESSION_ID: Session expired or invalid"),
        (300, ["/services/data/v60.0/sobjects/Case/500A", "/services/data/v60.0/sobjects/Case/500B"], "failed",
         "Salesforce answered 300: the external id matches more than one record (make the field Unique)"),
        (502, b"<html>Bad gateway</html>", "retry", "receiver answered 502; body: <html>Bad gateway</html>"),
        (400, b"", "failed", "receiver answered 400"),
        (201, {"id": "500A", "success": True, "errors": [], "created": True}, "delivered", ""),
    ],
)
def test_the_classification_table(status: int, body: Any, kind: str, reason: str) -> None:
    outcome = responses.classify(answer(status, body), NOW)
    assert (outcome.kind, outcome.status_code, outcome.reason) == (kind, status, reason)


def test_the_cause_is_reported_not_the_rollback() -> None:
    halted = sf_error("PROCESSING_HALTED", "The transaction was rolled back")
    body = [*halted, *sf_error("INVALID_FIELD", "the cause")]
    assert responses.classify(answer(400, body), NOW, "Case upsert").reason == (
        "Case upsert: Salesforce answered 400 INVALID_FIELD: the cause")
    assert responses.halted(answer(400, halted))
    assert not responses.halted(answer(400, body))


def test_a_long_message_is_cut_short() -> None:
    reason = responses.classify(answer(400, sf_error("STRING_TOO_LONG", "x" * 5000)), NOW).reason
    assert len(reason) <= 201
    assert reason.endswith("…")


def test_a_composite_subresponse_is_read_as_a_response() -> None:
    result = {"body": sf_error("INVALID_FIELD", "bad"), "httpHeaders": {"Retry-After": "5"}, "httpStatusCode": 400,
              "referenceId": "case"}
    response = responses.subresponse(result)
    assert (response.status, response.headers) == (400, {"Retry-After": "5"})
    assert responses.parse_errors(json.loads(response.body)) == [SalesforceError("INVALID_FIELD", "bad")]
    assert responses.subresponse({"referenceId": "case"}).status == 500  # no status: not a success


@pytest.mark.parametrize(
    ("status", "body", "kind", "fragment"),
    [
        (400, {"error": "invalid_client", "error_description": "invalid client credentials"}, "failed",
         "refused the connected app (400 invalid_client: invalid client credentials)"),
        (400, {"error": "invalid_grant", "error_description": "no client credentials user enabled"}, "failed",
         "invalid_grant: no client credentials user enabled"),
        (401, {"error": "invalid_client_id"}, "failed", "(401 invalid_client_id: )"),
        (503, {"error": "temporarily_unavailable"}, "retry", "token endpoint: receiver answered 503"),
        (404, b"<html>", "failed", "token endpoint: receiver answered 404"),
    ],
)
def test_token_endpoint_errors(status: int, body: Any, kind: str, fragment: str) -> None:
    outcome = responses.oauth_error(answer(status, body), NOW)
    assert (outcome.kind, outcome.status_code) == (kind, status)
    assert fragment in outcome.reason


# -- config ---------------------------------------------------------------------------


def config(**overrides: Any) -> SalesforceConfig:
    raw = {"instance_url": "https://acme.my.salesforce.com", "client_id": "3MVG9", "client_secret": SECRET}
    return SalesforceConfig.model_validate({**raw, **overrides})


def test_config_defaults() -> None:
    conf = config(instance_url="https://acme.my.salesforce.com/")
    assert (conf.instance_url, conf.token_url) == (
        "https://acme.my.salesforce.com", "https://acme.my.salesforce.com/services/oauth2/token")
    assert (conf.api_version, conf.comment_object, conf.comments_upserted) == ("v60.0", "CaseComment", False)
    assert conf.case_status_by_status == DEFAULT_CASE_STATUS
    assert conf.timeout_seconds == 10.0


def test_config_merges_the_status_map_and_keeps_a_given_token_url() -> None:
    elsewhere = "https://login.example.com/oauth2/token"
    conf = config(case_status_by_status={"solved": "Resolved"}, token_url=elsewhere)
    assert conf.case_status_by_status == {**DEFAULT_CASE_STATUS, "solved": "Resolved"}
    assert (conf.token_url,) == (elsewhere,)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:1234"])
def test_config_allows_http_on_loopback_only_where_the_operator_allows_loopback(url: str) -> None:
    raw = {"instance_url": url, "client_id": "3MVG9", "client_secret": SECRET}
    allowed = SalesforceConfig.model_validate(raw, context=validation_context(LOOPBACK_ALLOWED))
    assert allowed.token_url == url + "/services/oauth2/token"
    with pytest.raises(ValidationError, match="is not allowed \\(loopback\\)"):
        SalesforceConfig.model_validate(raw, context=validation_context(OutboundPolicy()))


@pytest.mark.parametrize(
    "overrides",
    [
        {"instance_url": "http://acme.my.salesforce.com"},
        {"instance_url": "https://acme.my.salesforce.com/services"},
        {"instance_url": "https://user:pw@acme.my.salesforce.com"},
        {"instance_url": "https://acme.my.salesforce.com?x=1"},
        {"instance_url": "acme.my.salesforce.com"},
        {"token_url": "http://login.example.com/token"},
        {"api_version": "v45.0"},
        {"api_version": "60.0"},
        {"case_external_id_field": "Ticket/../Id"},
        {"contact_external_id_field": "Id?x=1"},
        {"comment_object": "Case Comment"},
        {"case_status_by_status": {"archived": "Closed"}},
        {"case_status_by_status": {"open": ""}},
        {"timeout_seconds": 0},
        {"timeout_seconds": 31},
        {"client_secret": ""},
        {"username": "nope"},
    ],
)
def test_config_validation_rejects(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        config(**overrides)


def test_config_hides_its_secret() -> None:
    conf = config()
    assert SECRET not in repr(conf) + str(conf) + conf.model_dump_json()
    with pytest.raises(ValidationError) as caught:
        config(client_secret=SECRET, instance_url=f"ftp://{SECRET}")
    assert "TOPSECRET" not in str(caught.value)


# -- comment text ------------------------------------------------------------------------


def message(**fields: Any) -> Message:
    base = {"id": "msg_1", "tenant_id": "t", "ticket_id": "tkt_1", "customer_id": "cus_1", "channel": "twilio",
            "provider_message_id": "p1", "text": "hello", "received_at": NOW}
    return Message.model_validate({**base, **fields})


@pytest.mark.parametrize(
    ("fields", "text"),
    [
        ({}, "Customer via twilio:\nhello"),
        ({"direction": "outbound"}, "Reply via twilio:\nhello"),
        ({"kind": "voicemail", "text": ""}, "Customer (voicemail) via twilio:\n(no text)"),
        ({"subject": "Re: order", "attachments": [{"url": "s3://b/k"}]},
         "Customer via twilio — Re: order [1 attachment in Switchboard]:\nhello"),
    ],
)
def test_comment_text(fields: dict[str, Any], text: str) -> None:
    assert records.comment_text(message(**fields)) == text


def test_comment_text_fits_a_case_comment() -> None:
    text = records.comment_text(message(text="x" * 10_000))
    assert len(text) == records.MAX_COMMENT
    assert text.endswith("…")


def test_external_id_values_are_percent_encoded_in_paths() -> None:
    path = records.data_path(config(), "sobjects", "Case", "Switchboard_Ticket_Id__c", "a/b c")
    assert path == "/services/data/v60.0/sobjects/Case/Switchboard_Ticket_Id__c/a%2Fb%20c"
