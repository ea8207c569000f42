"""The widget's hub side (chalicelib/widget) on moto: CORS and origins, visitor tokens, identity
hashes, messages through ingestion (idempotent), the poll (304, replies delivered), tenant
isolation, and the script route. Uploads, rate limits and CSAT: tests/test_widget_actions.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.test import Client
from switchboard_sdk import Identity, visitor_tokens

import app as app_module
from chalicelib.hub import Hub
from chalicelib.widget.script import WidgetScript
from tests.conftest import Pipeline, table_items
from tests.test_widget_support import (
    IDENTITY_SECRET,
    SITE,
    TOKEN_SECRET,
    Visitor,
    call,
    enable_widget,
    expired_token,
    unlimited,
)
from tools.local.demo import DemoTenant


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(app_module.app) as test_client:
        yield test_client


@pytest.fixture
def widget(hub: Hub, demo: DemoTenant) -> str:
    enable_widget(hub, demo.tenant_id)
    unlimited(hub)
    return demo.tenant_id


# -- CORS and origins -----------------------------------------------------------------------


def test_an_allowed_origins_preflight_is_answered_with_that_origin(client: Client, widget: str) -> None:
    answer = client.http.request("OPTIONS", f"/widget/{widget}/messages",
                                 headers={"origin": SITE, "access-control-request-method": "POST"})
    assert answer.status_code == 204
    assert answer.headers["Access-Control-Allow-Origin"] == SITE
    assert "authorization" in answer.headers["Access-Control-Allow-Headers"]
    assert answer.headers["Vary"] == "Origin"


@pytest.mark.parametrize("origin", ["https://evil.example.com", "null", None])
def test_other_origins_get_403_and_no_cors_header(client: Client, widget: str, origin: str | None) -> None:
    headers = {"content-type": "application/json"} | ({"origin": origin} if origin else {})
    for method, path in (("OPTIONS", "messages"), ("POST", "session"), ("GET", "messages")):
        answer = client.http.request(method, f"/widget/{widget}/{path}", headers=headers, body=b"{}")
        assert answer.status_code == 403, (method, path)
        assert json.loads(answer.body)["error"]["code"] == "origin_not_allowed"
        assert not any(name.lower().startswith("access-control-") for name in answer.headers)


def test_a_tenant_without_the_widget_answers_404(client: Client, hub: Hub, demo: DemoTenant) -> None:
    answer = client.http.post(f"/widget/{demo.tenant_id}/session", headers={"origin": SITE,
                                                                           "content-type": "application/json"})
    assert answer.status_code == 404


def test_errors_of_an_allowed_origin_are_readable_by_the_page(widget: str, hub: Hub) -> None:
    response, body = call(hub, "messages", widget, method="GET")
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert body["error"]["code"] == "unauthorized"


# -- visitor tokens ---------------------------------------------------------------------------


def test_a_session_issues_a_token_for_a_new_visitor_and_renews_it_for_the_same_one(hub: Hub, widget: str) -> None:
    response, first = call(hub, "session", widget)
    assert response.status_code == 200
    assert first["visitor_id"].startswith("v_")
    assert first["identity"] == "visitor"
    assert first["config"]["help_centre_url"] == f"https://hub.example.com/help/{widget}"
    assert first["config"]["welcome"]["zh"]
    _, again = call(hub, "session", widget, body={"visitor_token": first["token"]})
    _, other = call(hub, "session", widget)
    assert again["visitor_id"] == first["visitor_id"]
    assert other["visitor_id"] != first["visitor_id"]


def test_a_forged_previous_token_gets_a_new_visitor(hub: Hub, widget: str) -> None:
    forged = visitor_tokens.issue(visitor_tokens.VisitorClaims(tenant=widget, visitor="v_victim", issued_at=0,
                                                               expires_at=2**40), "not-the-tenants-secret-at-all!!")
    _, body = call(hub, "session", widget, body={"visitor_token": forged})
    assert body["visitor_id"] != "v_victim"


@pytest.mark.parametrize("case", ["forged", "expired", "other_tenant", "garbage"])
def test_messages_and_polls_refuse_bad_tokens(hub: Hub, widget: str, case: str) -> None:
    enable_widget(hub, "t-other")
    token = {
        "forged": visitor_tokens.issue(visitor_tokens.VisitorClaims(tenant=widget, visitor="v_x", issued_at=0,
                                                                    expires_at=2**40), "x" * 40),
        "expired": expired_token(widget, hub.clock()),
        "other_tenant": Visitor.start(hub, "t-other").token,  # same secret, other tenant
        "garbage": "sbv1.e30.AAAA",
    }[case]
    for method, body in (("POST", {"client_message_id": "c", "text": "hi"}), ("GET", None)):
        response, answer = call(hub, "messages", widget, method=method, body=body, token=token)
        assert response.status_code == 401, answer
        assert token not in json.dumps(answer)


# -- identity verification ------------------------------------------------------------------


def test_a_valid_user_hash_makes_the_visitor_that_user_with_their_email(hub: Hub, widget: str,
                                                                       pipeline: Pipeline) -> None:
    identity = {"user_id": "u-1042", "user_hash": visitor_tokens.identity_hash(IDENTITY_SECRET, "u-1042"),
                "email": "ada@example.com", "email_hash": visitor_tokens.identity_hash(IDENTITY_SECRET,
                                                                                       "ada@example.com"),
                "name": "Ada"}
    visitor = Visitor.start(hub, widget, **identity)
    assert visitor.claims.identity_value == "user:u-1042"
    assert visitor.say("My card has not arrived")[0].status_code == 202
    pipeline.drain()
    customer = hub.store.reads(widget).find_customer(Identity(kind="visitor", value="user:u-1042"))
    assert customer is not None
    assert "email:ada@example.com" in {i.key for i in customer.identities}
    assert customer.display_name == "Ada"
    [item] = [c for c in table_items(hub, "customer") if c["customer_id"] == customer.id]
    assert item["display_name"] != "Ada", "stored sealed"
    assert "ada@example.com" not in json.dumps(item, default=sorted), "stored sealed"
    assert "user:u-1042" not in json.dumps(item, default=sorted), "stored sealed"


@pytest.mark.parametrize("identity", [
    {"user_id": "u-1", "user_hash": "0" * 64},
    {"user_id": "u-1"},
    {"user_id": "u-1", "user_hash": visitor_tokens.identity_hash(IDENTITY_SECRET, "u-2")},
    {"user_id": "u-1", "user_hash": visitor_tokens.identity_hash(IDENTITY_SECRET, "u-1"), "email": "a@b.example"},
    {"user_id": "u-1", "user_hash": visitor_tokens.identity_hash(IDENTITY_SECRET, "u-1"), "email": "a@b.example",
     "email_hash": visitor_tokens.identity_hash(IDENTITY_SECRET, "c@d.example")},
])
def test_an_invalid_identity_hash_is_401_never_an_anonymous_session(hub: Hub, widget: str,
                                                                    identity: dict[str, str]) -> None:
    response, body = call(hub, "session", widget, body=identity)
    assert response.status_code == 401, body
    assert "token" not in body


def test_identity_needs_the_tenants_identity_secret(hub: Hub, demo: DemoTenant) -> None:
    enable_widget(hub, demo.tenant_id, identity_secret=None)
    asked = {"user_id": "u-1", "user_hash": visitor_tokens.identity_hash(IDENTITY_SECRET, "u-1")}
    assert call(hub, "session", demo.tenant_id, body=asked)[0].status_code == 401


# -- messages and the poll ---------------------------------------------------------------------


def test_a_message_resent_with_its_client_message_id_is_one_message(hub: Hub, widget: str,
                                                                    pipeline: Pipeline) -> None:
    visitor = Visitor.start(hub, widget)
    first, accepted = visitor.say("Where is my parcel?", "c-7")
    again, repeated = visitor.say("Where is my parcel?", "c-7")
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.headers["Access-Control-Allow-Origin"] == SITE
    assert accepted == repeated
    assert accepted["status"] == "accepted"
    pipeline.drain()
    _, body = visitor.poll()
    assert [m["text"] for m in body["messages"]] == ["Where is my parcel?"]
    assert body["messages"][0]["client_message_id"] == "c-7"


def test_the_poll_shows_the_agents_reply_and_marks_it_delivered_then_304(client: Client, hub: Hub, widget: str,
                                                                        demo: DemoTenant, pipeline: Pipeline) -> None:
    visitor = Visitor.start(hub, widget)
    visitor.say("Hello, is anyone there?")
    pipeline.drain()
    _, body = visitor.poll()
    ticket_id = body["ticket_id"]
    posted = client.http.post(f"/v1/tickets/{ticket_id}/messages", body=json.dumps({"text": "Yes, Grace here."}),
                              headers={"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"})
    assert posted.status_code == 202, posted.body
    pipeline.drain()
    response, body = visitor.poll(shown=True)
    assert response.status_code == 200
    reply = body["messages"][-1]
    assert (reply["from"], reply["text"], reply["status"]) == ("agent", "Yes, Grace here.", "sent")
    [stored] = [m for m in table_items(hub, "message") if m["id"] == reply["id"]]
    assert stored["status"] == "read"  # handed to an open widget
    pipeline.drain()  # the status change moved the feed on: the next poll shows it
    _, body = visitor.poll(shown=True)
    assert body["messages"][-1]["status"] == "read"
    unchanged, nothing = visitor.poll(etag=f'"{visitor.cursor}"')
    assert unchanged.status_code == 304, nothing
    assert unchanged.headers["ETag"] == f'"{visitor.cursor}"'


def test_internal_notes_never_reach_the_widget(client: Client, hub: Hub, widget: str, demo: DemoTenant,
                                              pipeline: Pipeline) -> None:
    visitor = Visitor.start(hub, widget)
    visitor.say("Hi")
    pipeline.drain()
    ticket_id = visitor.poll()[1]["ticket_id"]
    client.http.post(f"/v1/tickets/{ticket_id}/messages", body=json.dumps({"text": "VIP, be nice", "internal": True}),
                     headers={"authorization": f"Bearer {demo.api_key}", "content-type": "application/json"})
    pipeline.drain()
    _, body = visitor.poll(pending=True)
    assert [m["text"] for m in body["messages"]] == ["Hi"]


def test_a_visitor_of_one_tenant_never_sees_another_tenants_conversation(hub: Hub, widget: str,
                                                                        pipeline: Pipeline) -> None:
    enable_widget(hub, "t-other")
    ours, theirs = Visitor.start(hub, widget), Visitor.start(hub, "t-other")
    theirs.say("Tenant B's secret order")
    ours.say("Tenant A's question")
    pipeline.drain()
    _, mine = ours.poll()
    assert [m["text"] for m in mine["messages"]] == ["Tenant A's question"]
    # B's token on A's routes, and A's cursor in B's poll, are refused
    assert call(hub, "messages", widget, method="GET", token=theirs.token)[0].status_code == 401
    theirs.cursor = ours.cursor
    assert theirs.poll()[0].status_code == 400


def test_another_visitors_cursor_cannot_read_their_ticket(hub: Hub, widget: str, pipeline: Pipeline) -> None:
    alice, mallory = Visitor.start(hub, widget), Visitor.start(hub, widget)
    alice.say("My address is 1 Main St")
    pipeline.drain()
    alice.poll()
    mallory.cursor = alice.cursor
    assert mallory.poll()[0].status_code == 400
    mallory.cursor = None
    assert mallory.poll()[1]["messages"] == []


def test_a_message_straight_to_the_webhook_door_is_refused(client: Client, hub: Hub, widget: str) -> None:
    visitor = Visitor.start(hub, widget)
    answer = client.http.post(f"/hooks/{widget}/widget", body=json.dumps({"client_message_id": "c", "text": "hi"}),
                              headers={"authorization": f"Bearer {visitor.token}", "origin": SITE,
                                       "content-type": "application/json"})
    assert answer.status_code == 401
    assert table_items(hub, "inbound") == []


def test_the_session_and_message_routes_work_over_http(client: Client, widget: str) -> None:
    headers = {"origin": SITE, "content-type": "application/json"}
    session = client.http.post(f"/widget/{widget}/session", headers=headers, body=b"")
    assert session.status_code == 200, session.body
    token = json.loads(session.body)["token"]
    sent = client.http.post(f"/widget/{widget}/messages", headers=headers | {"authorization": f"Bearer {token}"},
                            body=json.dumps({"client_message_id": "c-1", "text": "hello"}))
    assert sent.status_code == 202, sent.body
    assert sent.headers["Access-Control-Allow-Origin"] == SITE


# -- the script ----------------------------------------------------------------------------------


def test_the_script_is_served_with_cache_headers_and_an_etag(hub: Hub, tmp_path: Path) -> None:
    built = tmp_path / "widget.js"
    built.write_text("console.log('widget');\n")
    hub.__dict__["widget_script"] = WidgetScript(built)
    with Client(app_module.app) as client:
        first = client.http.get("/widget.js")
        assert first.status_code == 200
        assert first.headers["Content-Type"].startswith("text/javascript")
        assert "max-age" in first.headers["Cache-Control"]
        again = client.http.get("/widget.js", headers={"if-none-match": first.headers["ETag"]})
        assert again.status_code == 304
    assert TOKEN_SECRET not in first.body.decode()


def test_an_unbuilt_script_is_a_404_that_says_how_to_build_it(hub: Hub, tmp_path: Path) -> None:
    hub.__dict__["widget_script"] = WidgetScript(tmp_path / "missing.js")
    with Client(app_module.app) as client:
        answer = client.http.get("/widget.js")
    assert answer.status_code == 404
    assert "make widget" in json.loads(answer.body)["error"]["message"]
