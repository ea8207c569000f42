"""The SDK's small helpers every plugin shares: one formatter of pydantic errors,
one way to stop a delivery with an outcome, one fake HTTP receiver."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes import loopback_transport
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from switchboard_sdk import (
    CONTRACT_VERSION,
    ConnectorError,
    DeliveryContext,
    DeliveryOutcome,
    InvalidInput,
    OutcomeReached,
    PluginInfo,
    SwitchboardError,
    build_plugin_manager,
    hookimpl,
    outcomes,
)
from switchboard_sdk.errors import MAX_FIELDS_SHOWN, describe_validation_error, validation_fields
from switchboard_sdk.testing import Recorded, Reply, StatusServer, sample_event
from switchboard_sdk.transport import TransportError

SECRET_LOOKING = "sk_live_do-not-echo-me"  # noqa: S105 -- the point: it must never be echoed
TRANSPORT = loopback_transport()


class Contact(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=5)
    age: int
    tags: list[int] = Field(default_factory=list)


def refusal(raw: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Contact.model_validate(raw)
    return caught.value


def root_refusal() -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        Contact.model_validate_json(b"not json")
    return caught.value


# -- pydantic errors -------------------------------------------------------------------------


def test_fields_name_locations_and_messages_but_never_the_input() -> None:
    err = refusal({"name": SECRET_LOOKING, "age": SECRET_LOOKING})
    fields = validation_fields(err)
    assert [field["field"] for field in fields] == ["name", "age"]
    assert "at most 5 characters" in fields[0]["message"]
    assert SECRET_LOOKING not in json.dumps(fields)
    assert SECRET_LOOKING not in describe_validation_error(err)


def test_nested_locations_are_dotted_and_prefixed() -> None:
    err = refusal({"name": "ada", "age": 3, "tags": [1, "x"]})
    assert describe_validation_error(err, prefix="config.") == (
        "config.tags.1: Input should be a valid integer, unable to parse string as an integer"
    )


def test_an_error_about_the_whole_value_is_named_by_root() -> None:
    assert describe_validation_error(root_refusal()).startswith("(body): Invalid JSON")
    assert describe_validation_error(root_refusal(), root="body").startswith("body: Invalid JSON")


def test_long_lists_are_cut_with_a_count_of_the_rest() -> None:
    raw = {"name": "ada", "age": 3, "tags": ["x"] * (MAX_FIELDS_SHOWN + 3)} | {f"extra{i}": 1 for i in range(2)}
    err = refusal(raw)
    text = describe_validation_error(err)
    assert text.count("; ") == MAX_FIELDS_SHOWN - 1
    assert text.endswith(f" (and {err.error_count() - MAX_FIELDS_SHOWN} more)")


def test_names_only_for_models_whose_messages_may_quote_input() -> None:
    err = refusal({"name": SECRET_LOOKING, "age": "x", "tags": ["a", "b"]})
    assert describe_validation_error(err, messages=False) == "age, name, tags.0, tags.1"


def test_invalid_input_from_a_validation_error_lists_every_field() -> None:
    err = refusal({"name": SECRET_LOOKING, "tags": ["x"] * 8})
    invalid = InvalidInput.from_validation_error(err, "invalid contact", prefix="contact.")
    assert invalid.status == 422
    assert invalid.message.startswith("invalid contact: contact.name: String should have at most 5 characters")
    assert len(invalid.fields) == err.error_count() == 10
    assert {"field": "contact.age", "message": "Field required"} in invalid.fields
    assert invalid.to_body()["error"]["fields"] == invalid.fields
    assert SECRET_LOOKING not in json.dumps(invalid.to_body())


# -- stopping a delivery with an outcome ----------------------------------------------------------


def test_outcome_reached_belongs_to_the_one_tree_and_mirrors_its_outcome() -> None:
    retry = OutcomeReached(DeliveryOutcome.retry("busy", status_code=503))
    failed = OutcomeReached(DeliveryOutcome.failed("gone", status_code=410))
    assert isinstance(retry, ConnectorError)
    assert isinstance(retry, SwitchboardError)
    assert (retry.retryable, failed.retryable) == (True, False)
    assert (retry.message, failed.outcome.status_code) == ("busy", 410)


def test_settle_returns_a_returned_or_a_raised_outcome() -> None:
    delivered = DeliveryOutcome.delivered(201)
    assert outcomes.settle(lambda: delivered) == delivered

    def deep() -> DeliveryOutcome:
        raise OutcomeReached(DeliveryOutcome.failed("refused", status_code=403))

    assert outcomes.settle(deep) == DeliveryOutcome.failed("refused", status_code=403)


def test_settle_lets_bugs_through() -> None:
    def buggy() -> DeliveryOutcome:
        raise KeyError("oops")

    with pytest.raises(KeyError):
        outcomes.settle(buggy)


class EmptyConfig(BaseModel):
    pass


class Raising:
    """A connector that raises OutcomeReached out of its hook instead of settling it."""

    @hookimpl
    def switchboard_plugin_info(self) -> PluginInfo:
        return PluginInfo(name="raising", kind="connector", config_model=EmptyConfig, contract_version=CONTRACT_VERSION)

    @hookimpl
    def switchboard_connector_deliver(self, event: Any, config: BaseModel, context: DeliveryContext) -> Any:
        raise OutcomeReached(DeliveryOutcome.retry("later", after=30.0))


def test_the_hub_reads_an_escaped_outcome_reached_as_the_outcome() -> None:
    registry = build_plugin_manager(extra_plugins=[Raising()], load_entry_points=False)
    outcome = registry.deliver("raising", sample_event(), EmptyConfig(), DeliveryContext(http=TRANSPORT))
    assert outcome == DeliveryOutcome.retry("later", after=30.0)


# -- the fake HTTP receiver -----------------------------------------------------------------------


def call(server: StatusServer, method: str = "POST", path: str = "/", body: bytes = b"", timeout: float = 2.0) -> Any:
    return TRANSPORT.request(method, server.url + path, headers={"x-test": "1"}, body=body, timeout=timeout)


def test_records_each_request_and_answers_the_fixed_status() -> None:
    with StatusServer(202, b'{"ok": true}') as server:
        response = call(server, "PUT", "/in?x=1", b'{"a": 1}')
    assert (response.status, response.body) == (202, b'{"ok": true}')
    [request] = server.requests
    method, path, headers, body = request  # still unpacks like the tuples it recorded before
    assert (method, path, headers["x-test"], body) == ("PUT", "/in?x=1", "1", b'{"a": 1}')
    assert request.json() == {"a": 1}


def test_scripted_replies_come_first_in_order_and_only_where_they_match() -> None:
    with StatusServer(200, b"default") as server:
        server.script(Reply(404), when="GET /never")
        server.script(Reply.json(201, {"id": 7}), when="POST /tickets")
        server.script(Reply(503, b"one"), Reply(429, b"two", {"Retry-After": "3"}))
        answers = [call(server, path=path) for path in ("/tickets", "/a", "/b", "/c")]
    assert [(a.status, a.body) for a in answers] == [
        (201, b'{"id": 7}'), (503, b"one"), (429, b"two"), (200, b"default"),
    ]
    assert answers[2].headers["Retry-After"] == "3"
    assert answers[0].headers["Content-Type"] == "application/json"
    assert [r.path for r in server.requests] == ["/tickets", "/a", "/b", "/c"]


def test_a_responder_answers_like_a_fake_api() -> None:
    def respond(request: Recorded) -> Reply:
        return Reply.json(200, {"echo": request.json(), "path": request.path})

    with StatusServer(respond=respond) as server:
        server.script(Reply(500))
        first, second = call(server, body=b"[1]"), call(server, path="/x", body=b"[2]")
    assert first.status == 500
    assert json.loads(second.body) == {"echo": [2], "path": "/x"}


def test_a_held_reply_times_the_client_out_and_a_dropped_one_gets_no_answer() -> None:
    with StatusServer() as server:
        server.script(Reply(200, delay=1.0), Reply(drop=True))
        with pytest.raises(TransportError) as held:
            call(server, timeout=0.2)
        assert held.value.timeout
        with pytest.raises(TransportError):
            call(server)
        assert call(server).status == 200
    assert len(server.requests) == 3


def test_it_listens_where_asked() -> None:
    with StatusServer(host="127.0.0.2") as server:
        assert server.url == f"http://127.0.0.2:{server.port}"
        assert call(server).status == 200
