"""The hub's one structured logger (chalicelib/logs.py): every hub event is one JSON
object naming its tenant, plugin and request or event, and never personal data."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.logs import HUB_LOGGER, JsonFormatter, configure, log_context, log_event
from chalicelib.settings import Settings
from tests.conftest import Pipeline, signed_web_headers, web_message
from tools.local.demo import DemoTenant

TEXT = "Where is my parcel, please?"


@pytest.fixture
def client(demo: DemoTenant) -> Iterator[Any]:
    with Client(app_module.app) as test_client:
        yield test_client


def hub_events(caplog: pytest.LogCaptureFixture) -> dict[str, dict[str, Any]]:
    """The hub event lines captured, by event name (the last of each); each message must be
    exactly one JSON object."""
    found = {}
    for record in caplog.records:
        if record.name.startswith(HUB_LOGGER) and record.getMessage().startswith("{"):
            line = json.loads(record.getMessage())
            assert isinstance(line, dict)
            found[line["event"]] = line
    return found


def test_a_webhook_and_its_delivery_log_one_json_object_per_event_with_tenant_plugin_and_ids(
    client: Any, demo: DemoTenant, pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    body = web_message(TEXT)
    with caplog.at_level(logging.INFO, logger=HUB_LOGGER):
        response = client.http.post("/hooks/demo/web", body=body, headers=signed_web_headers(demo.web_secret, body))
        assert response.status_code == 202
        pipeline.drain()
    events = hub_events(caplog)

    stored = events["ingest.stored"]
    assert stored == {"event": "ingest.stored", "route": "provider_webhook", "tenant": "demo", "plugin": "web",
                      "messages": 1, "new": 1}
    absorbed = events["conversation.absorbed"]
    assert {absorbed["tenant"], absorbed["plugin"]} == {"demo", "web"}
    assert all(absorbed[k] for k in ("record", "ticket", "message")), "the stream record and what it made"
    attempt = events["delivery.attempt"]
    assert (attempt["tenant"], attempt["plugin"], attempt["outcome"]) == ("demo", "webhook", "delivered")
    assert attempt["event_id"].startswith("evt_")
    assert TEXT not in caplog.text, "never the message's text"
    assert "ada@example.com" not in caplog.text.lower(), "never an address"


def test_the_formatter_writes_any_record_as_one_json_line() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger(f"{HUB_LOGGER}.test_logs")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        with log_context(tenant="acme", plugin="web"):
            log_event(log, "ingest.stored", messages=2, new=1)
            log.warning("record %s set aside", "42")
            try:
                raise ValueError("boom")
            except ValueError:
                log.exception("failed")
        log_event(log, "object.ignored", level=logging.WARNING, key="inbound/x")
    finally:
        log.removeHandler(handler)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 4, "a stack trace stays inside its line"
    event, plain, failed, outside = lines
    assert {k: event[k] for k in ("level", "logger", "event", "tenant", "plugin", "messages", "new")} == {
        "level": "INFO", "logger": "chalicelib.test_logs", "event": "ingest.stored", "tenant": "acme",
        "plugin": "web", "messages": 2, "new": 1}
    assert event["time"].endswith("+00:00")
    assert (plain["message"], plain["tenant"], plain["level"]) == ("record 42 set aside", "acme", "WARNING")
    assert failed["message"] == "failed"
    assert "ValueError: boom" in failed["error"]
    assert "tenant" not in outside, "a context ends with its scope"


def test_fields_given_win_over_bound_ones_and_nones_are_not_bound(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger(f"{HUB_LOGGER}.test_logs")
    with caplog.at_level(logging.INFO, logger=log.name), log_context(tenant="acme", plugin=None):
        log_event(log, "customer.erased", tenant="other", customer="cus_1")
    [record] = caplog.records
    assert json.loads(record.getMessage()) == {"event": "customer.erased", "tenant": "other", "customer": "cus_1"}
    assert record.funcName == "test_fields_given_win_over_bound_ones_and_nones_are_not_bound", "the caller's line"


def test_a_disabled_level_builds_nothing(caplog: pytest.LogCaptureFixture) -> None:
    class Loud:
        def __str__(self) -> str:
            raise AssertionError("formatted although nobody prints it")

    log = logging.getLogger(f"{HUB_LOGGER}.test_logs")
    with caplog.at_level(logging.WARNING, logger=log.name):
        log_event(log, "ingest.stored", value=Loud())
    assert caplog.records == []


def test_configure_sets_the_level_and_formats_the_given_handlers_once() -> None:
    hub_logger, before = logging.getLogger(HUB_LOGGER), logging.getLogger(HUB_LOGGER).level
    handler = logging.StreamHandler(io.StringIO())
    try:
        configure("WARNING", handlers=[handler])
        formatter = handler.formatter
        configure("WARNING", handlers=[handler])
        assert isinstance(formatter, JsonFormatter)
        assert handler.formatter is formatter
        assert hub_logger.level == logging.WARNING
    finally:
        hub_logger.setLevel(before)


def test_json_lines_are_on_in_lambda_only() -> None:
    assert Settings.from_env({"AWS_LAMBDA_FUNCTION_NAME": "switchboard-dev"}).log_json
    assert not Settings.from_env({}).log_json
