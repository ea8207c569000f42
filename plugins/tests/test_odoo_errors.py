"""The ``odoo`` connector's outcome classification and its configuration."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fakes.odoo_server import API_KEY, FakeOdoo
from pydantic import SecretStr, ValidationError
from switchboard_plugins.odoo import client
from switchboard_plugins.odoo.config import OdooConfig
from switchboard_sdk.models import DeliveryOutcome
from switchboard_sdk.testing import StatusServer, sample_event
from switchboard_sdk.transport import MemoryExternalIds
from test_odoo import _fresh_caches, deliver, fake, loopback_allowed, make_config, message_event, ticket_event

# the fake server, the cache reset and the loopback allowance are test_odoo's fixtures (the latter two autouse)
__all__ = ["_fresh_caches", "fake", "loopback_allowed"]


def assert_key_hidden(outcome: DeliveryOutcome) -> None:
    assert API_KEY not in outcome.model_dump_json()


# -- credentials ------------------------------------------------------------------------------


def test_a_rejected_json2_key_fails_without_showing_it(fake: FakeOdoo) -> None:
    fake.access_denied = True  # the fake echoes the presented key in its error
    outcome = deliver(make_config(fake.url), sample_event())
    assert (outcome.kind, outcome.status_code) == ("failed", 401)
    assert "werkzeug.exceptions.Unauthorized: Invalid apikey [redacted]" in outcome.reason
    assert_key_hidden(outcome)


def test_a_refused_jsonrpc_login_fails(fake: FakeOdoo) -> None:
    fake.json2_enabled, fake.access_denied = False, True
    outcome = deliver(make_config(fake.url), sample_event())
    assert outcome.kind == "failed"
    assert "authenticate failed" in outcome.reason
    assert_key_hidden(outcome)


def test_jsonrpc_access_denied_fails_without_showing_the_key(fake: FakeOdoo) -> None:
    config = make_config(fake.url, protocol="jsonrpc")
    assert deliver(config, ticket_event("tkt_1")).kind == "delivered"
    fake.access_denied = True  # key revoked while the uid is cached
    outcome = deliver(config, ticket_event("tkt_2"))
    assert outcome.kind == "failed"
    assert outcome.reason == "Odoo error AccessDenied: Access Denied for [redacted]"
    assert_key_hidden(outcome)


# -- Odoo exceptions -------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["json2", "jsonrpc"])
@pytest.mark.parametrize(
    ("exception", "kind"),
    [
        ("odoo.exceptions.ValidationError", "failed"),
        ("odoo.exceptions.UserError", "failed"),
        ("odoo.exceptions.AccessError", "failed"),
        ("odoo.exceptions.MissingError", "failed"),
        ("builtins.KeyError", "retry"),
        ("psycopg2.errors.SerializationFailure", "retry"),
    ],
)
def test_odoo_exceptions_are_classified(fake: FakeOdoo, protocol: str, exception: str, kind: str) -> None:
    fake.raise_on["create"] = exception
    outcome = deliver(make_config(fake.url, protocol=protocol), ticket_event())
    assert outcome.kind == kind
    assert exception.rpartition(".")[2] in outcome.reason


def test_a_deleted_record_fails_the_note(fake: FakeOdoo) -> None:
    ids, config = MemoryExternalIds(), make_config(fake.url)
    deliver(config, ticket_event(), ids)
    fake.db["helpdesk.ticket"].clear()
    outcome = deliver(config, message_event(), ids)
    assert (outcome.kind, outcome.status_code) == ("failed", 404)
    assert "MissingError" in outcome.reason


# -- HTTP and transport --------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["auto", "json2", "jsonrpc"])
@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_transient_statuses_retry(fake: FakeOdoo, protocol: str, status: int) -> None:
    fake.status, fake.retry_after = status, "30"
    outcome = deliver(make_config(fake.url, protocol=protocol), sample_event())
    assert (outcome.kind, outcome.status_code, outcome.retry_after_seconds) == ("retry", status, 30)


def test_a_503_mid_delivery_retries_and_the_retry_completes(fake: FakeOdoo) -> None:
    ids, config = MemoryExternalIds(), make_config(fake.url)
    fake.raise_on["message_post"] = "odoo.exceptions.CacheMiss"
    assert deliver(config, sample_event(), ids).kind == "retry"
    fake.raise_on.clear()
    assert deliver(config, sample_event(), ids).kind == "delivered"
    assert [len(fake.rows(m)) for m in ("res.partner", "helpdesk.ticket", "mail.message")] == [1, 1, 1]


@pytest.mark.parametrize("protocol", ["auto", "jsonrpc"])
def test_a_slow_odoo_times_out_and_retries(fake: FakeOdoo, protocol: str) -> None:
    fake.delay = 0.6
    started = time.monotonic()
    outcome = deliver(make_config(fake.url, protocol=protocol), sample_event(), timeout=0.3)
    assert outcome.kind == "retry"
    assert "receiver unreachable" in outcome.reason
    assert time.monotonic() - started < 0.6


def test_the_timeout_bounds_the_whole_delivery(fake: FakeOdoo) -> None:
    fake.delay = 0.15  # each call is fast enough; the seven calls together are not
    outcome = deliver(make_config(fake.url, timeout_seconds=0.5), sample_event(), timeout=5.0)
    assert outcome.kind == "retry"
    assert len(fake.calls) < 7


def test_a_non_json_success_fails() -> None:
    with StatusServer(200, body=b"<html>login</html>") as server:
        outcome = deliver(make_config(server.url), sample_event())
    assert outcome.kind == "failed"
    assert "is base_url the Odoo server?" in outcome.reason


def test_a_jsonrpc_answer_that_is_not_an_object_fails() -> None:
    with StatusServer(200, body=b"[1]") as server:
        outcome = deliver(make_config(server.url, protocol="jsonrpc"), sample_event())
    assert outcome.kind == "failed"


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        ({"code": 200, "data": {"name": "odoo.exceptions.AccessDenied", "message": "no"}}, "failed"),
        ({"code": 404, "message": "404: Not Found", "data": {}}, "failed"),
        ({"code": 100, "message": "Odoo Session Expired"}, "retry"),
        ("garbage", "retry"),
    ],
)
def test_rpc_errors_are_classified(error: Any, kind: str) -> None:
    assert client.rpc_error(error).kind == kind


# -- config ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"base_url": "http://odoo.example.com"},
        {"base_url": "ftp://odoo.example.com"},
        {"base_url": "https://odoo.example.com/?db=x"},
        {"base_url": "https://user:pw@odoo.example.com"},
        {"base_url": "odoo.example.com"},
        {"protocol": "xmlrpc"},
        {"protocol": "jsonrpc", "login": None},
        {"protocol": "jsonrpc", "database": None},
        {"target_model": "project.task"},
        {"reference_field": "switchboard_id"},
        {"timeout_seconds": 0},
        {"api_key": ""},
        {"password": "x"},
    ],
)
def test_config_validation_rejects(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        make_config("https://odoo.example.com", **overrides)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8069", "http://localhost:8069/", "https://acme.odoo.com/"])
def test_config_accepts_https_and_loopback_http(url: str) -> None:
    assert not make_config(url).base_url.endswith("/")


def test_config_defaults() -> None:
    config = OdooConfig(base_url="https://acme.odoo.com", api_key=SecretStr(API_KEY))
    assert (config.protocol, config.target_model, config.crm_lead_type) == ("auto", "auto", "opportunity")
    assert (config.database, config.login, config.reference_field, config.timeout_seconds) == (None, None, None, 10.0)


def test_the_config_hides_its_key() -> None:
    config = make_config("https://acme.odoo.com")
    assert API_KEY not in repr(config) + str(config) + config.model_dump_json()


def test_config_errors_do_not_echo_the_key() -> None:
    with pytest.raises(ValidationError) as caught:
        OdooConfig.model_validate({"base_url": "http://evil.example.com", "api_key": API_KEY, "extra": API_KEY})
    assert API_KEY not in str(caught.value)
