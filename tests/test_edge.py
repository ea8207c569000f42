"""The HTTP edge: the public URL a provider signed, rebuilt from API Gateway's event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import pytest
from chalice.app import Request

from chalicelib.edge import public_url, webhook_from


def gateway_request(
    host: str, path: str, *, stage: str = "dev", proto: str = "https", port: str = "443",
    query: dict[str, list[str]] | None = None, raw_query: str | None = None,
) -> Request:
    event: dict[str, Any] = {
        "httpMethod": "POST",
        "headers": {"Host": host, "X-Forwarded-Proto": proto, "X-Forwarded-Port": port},
        "multiValueQueryStringParameters": query,
        "pathParameters": {},
        "requestContext": {"path": path, "stage": stage, "resourcePath": "/hooks/{tenant}/{channel}",
                           "identity": {"sourceIp": "203.0.113.9"}, "httpMethod": "POST"},
        "stageVariables": None,
        "body": "a=1",
        "isBase64Encoded": False,
    }
    if raw_query is not None:  # HTTP API events, and the local runtime's
        event["rawQueryString"] = raw_query
    return Request(event)


@pytest.mark.parametrize(
    ("host", "path", "stage", "proto", "port", "expected"),
    [
        ("abc123.execute-api.us-east-1.amazonaws.com", "/dev/hooks/acme/web", "dev", "https", "443",
         "https://abc123.execute-api.us-east-1.amazonaws.com/dev/hooks/acme/web"),
        ("abc123.execute-api.us-east-1.amazonaws.com", "/hooks/acme/web", "v1", "https", "443",
         "https://abc123.execute-api.us-east-1.amazonaws.com/v1/hooks/acme/web"),
        ("hooks.example.com", "/hooks/acme/web", "prod", "https", "443",
         "https://hooks.example.com/hooks/acme/web"),
        ("hooks.example.com", "/hooks/acme/web", "prod", "https", "8443",
         "https://hooks.example.com:8443/hooks/acme/web"),
        ("127.0.0.1:8000", "/hooks/acme/web", "api", "http", "",
         "http://127.0.0.1:8000/hooks/acme/web"),
        ("example.com", "/hooks/acme/web", "api", "http", "80", "http://example.com/hooks/acme/web"),
    ],
    ids=["execute-api-with-stage", "execute-api-stage-added", "custom-domain", "custom-port",
         "local", "default-http-port"],
)
def test_public_url_shapes(host: str, path: str, stage: str, proto: str, port: str, expected: str) -> None:
    assert public_url(gateway_request(host, path, stage=stage, proto=proto, port=port)) == expected


def test_query_string_is_kept_with_repeated_parameters() -> None:
    request = gateway_request("hooks.example.com", "/hooks/acme/web", query={"a": ["1", "2"], "b": ["x y"]})
    assert public_url(request) == "https://hooks.example.com/hooks/acme/web?a=1&a=2&b=x+y"


@pytest.mark.parametrize("raw", ["note=a%20b&t=%7E1&flag", "a=1&b=2&a=3", "x=1%2B2&y=a+b", "e=caf%C3%A9", ""])
def test_the_query_string_as_sent_is_used_when_the_event_has_it(raw: str) -> None:
    """Twilio signs the query as configured; rebuilding it from the parsed
    parameters changes %20, %7E, a bare flag and the order of repeated keys."""
    parsed: dict[str, list[str]] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        parsed.setdefault(key, []).append(value)
    request = gateway_request("hooks.example.com", "/hooks/acme/twilio", query=parsed or None, raw_query=raw)
    assert public_url(request) == "https://hooks.example.com/hooks/acme/twilio" + (f"?{raw}" if raw else "")


def test_without_the_raw_query_it_is_rebuilt_from_the_parsed_parameters() -> None:
    request = gateway_request("hooks.example.com", "/hooks/acme/twilio", query={"note": ["a b"], "flag": [""]})
    assert public_url(request) == "https://hooks.example.com/hooks/acme/twilio?note=a+b&flag="


def test_webhook_from_passes_lowercase_headers_raw_body_and_source_ip() -> None:
    at = datetime(2026, 5, 1, tzinfo=UTC)
    raw = webhook_from(gateway_request("hooks.example.com", "/hooks/acme/web"), "acme", "web", received_at=at)
    assert raw.received_at == at
    assert raw.headers["x-forwarded-proto"] == "https"
    assert raw.body == b"a=1"
    assert raw.source_ip == "203.0.113.9"
    assert (raw.tenant_id, raw.channel, raw.method) == ("acme", "web", "POST")
