"""Message text and ticket subjects at rest (issue 15 §1-2, §5): customers' messages, agents'
replies and notes sealed under the customer's key (text, subject, metadata, file names, a
large message's parts, a reply's claim), and so is every copy of a ticket's subject; every
reader opens them (the API's ticket view and list pages, the stream's hooks, the worker), a
value moved to another message or ticket does not open, after erasure a copy of the table
taken before no longer opens (subjects included), and a cold list page of N customers'
tickets loads their keys with one BatchGetItem. Through the real webhook route, stream, API and table
(docs/encryption.md, chalicelib/storage/message_fields.py)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Message

from chalicelib.crypto.errors import Undecryptable
from chalicelib.crypto.service import Crypto
from chalicelib.hub import Hub
from chalicelib.storage.keys import key_of
from chalicelib.storage.payloads import PayloadArchive
from chalicelib.storage.store import TicketStore
from chalicelib.tenancy.erasure import CustomerEraser
from tests.conftest import Pipeline, table_items
from tests.erasure_support import probe_client, send
from tests.probe_plugin import spec
from tests.sealed_docs import clear_in as values_in_clear
from tests.sealed_docs import opened_item, opened_items
from tests.test_crypto_keys import CountingKms
from tests.test_widget_support import Visitor, enable_widget, unlimited
from tools.local.demo import DemoTenant

CARLA = {"identities": [{"kind": "email", "value": "carla@example.com"}]}
PHONE = {"identities": [{"kind": "phone", "value": "+14155550142"}]}
WECHAT = {"identities": [{"kind": "wechat_openid", "value": "oWx7SealOpenId"}]}
LARGE = "MSGSEAL-LARGE " + "the parcel never came " * 4000  # 88,000 characters: kept in parts
# every text, subject, metadata value and file name the run writes, as a search would look for it
CLEAR = ("msgseal-carla", "msgseal-subject", "msgseal-widget", "msgseal-phone", "msgseal-wechat", "msgseal-large",
         "msgseal-meta", "msgseal-file", "msgseal-reply", "msgseal-note", "msgseal-claimed")


@pytest.fixture
def probe(hub: Hub, demo: DemoTenant) -> Iterator[Client]:
    with probe_client(hub) as (client, _clock):
        yield client


@pytest.fixture
def seen(hub: Hub) -> list[dict[str, Any]]:
    """The message images the stream's workflow hook is handed (rules and routing read these)."""
    images: list[dict[str, Any]] = []
    workflow = hub.stream._workflow  # a spy on the hook, not a change of it
    assert workflow is not None
    real = workflow.on_message

    def spy(image: dict[str, Any]) -> object:
        images.append(image)
        return real(image)

    workflow.on_message = spy  # type: ignore[method-assign]
    return images


class CountingDb:
    """The DynamoDB client, counting calls by operation and table."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def on(self, table: str) -> dict[str, int]:
        counted: dict[str, int] = {}
        for name, tables in self.calls:
            if table in tables:
                counted[name] = counted.get(name, 0) + 1
        return counted

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            tables = (kwargs["TableName"],) if "TableName" in kwargs else tuple(kwargs.get("RequestItems") or ())
            self.calls.append((name, tables))
            return getattr(self.client, name)(**kwargs)

        return call


def agent_auth(hub: Hub) -> dict[str, str]:
    _, key = hub.api_keys.create("demo", ["tenant-admin"], name="Sam Sealer")
    return {"authorization": f"Bearer {key}", "content-type": "application/json"}


def clear_in(items: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Which of this module's values each kind of item holds in clear."""
    return values_in_clear(items, CLEAR)


def ticket_of(hub: Hub, provider_id: str) -> str:
    [item] = [m for m in table_items(hub, "message") if m["provider_message_id"] == provider_id]
    return str(item["ticket_id"])


def a_busy_desk(hub: Hub, probe: Client, pipeline: Pipeline) -> dict[str, str]:
    """Messages on several identities' channels (one large, one with metadata and a file),
    an agent's reply (claimed by a client_message_id) and note, and a merge. Ticket ids by name."""
    send(probe, spec("c1", customer=CARLA, text="MSGSEAL-CARLA where is my parcel", subject="MSGSEAL-SUBJECT late",
                     metadata={"from_name": "MSGSEAL-META Carla"},
                     attachments_b64=[{"filename": "MSGSEAL-FILE.png", "type": "image/png",
                                       "b64": base64.b64encode(b"PNG").decode()}]),
         spec("p1", email=None, customer=PHONE, text="MSGSEAL-PHONE call me"),
         spec("w1", email=None, customer=WECHAT, text="MSGSEAL-WECHAT 你好"))
    pipeline.drain()
    send(probe, spec("c2", customer=CARLA, text=LARGE))
    pipeline.drain()
    carla, phone = ticket_of(hub, "c1"), ticket_of(hub, "p1")
    import app as app_module

    auth = agent_auth(hub)
    with Client(app_module.app) as api:
        for body in ({"text": "MSGSEAL-REPLY it leaves today", "client_message_id": "tab-1:1"},
                     {"text": "MSGSEAL-NOTE customer is upset", "internal": True}):
            answer = api.http.post(f"/v1/tickets/{carla}/messages", body=json.dumps(body), headers=auth)
            assert answer.status_code == 202, answer.body
        pipeline.drain()
        answer = api.http.post(f"/v1/tickets/{phone}/merge", body=json.dumps({"into": carla}), headers=auth)
        assert answer.status_code == 200, answer.body
    pipeline.drain()
    return {"carla": carla, "phone": phone}


def test_no_message_text_or_subject_is_in_clear_in_the_table(hub: Hub, probe: Client, pipeline: Pipeline,
                                                             seen: list[dict[str, Any]]) -> None:
    tickets = a_busy_desk(hub, probe, pipeline)
    items = table_items(hub)
    # the delivery log's envelopes are sealed by the outbound side (tests of chalicelib/outbound)
    assert set(clear_in([i for i in items if i.get("type") != "delivery_log"])) == set()
    kinds = {str(i.get("type")) for i in items}
    assert {"message", "message_part", "ticket", "ticket_history", "client_message"} <= kinds
    assert all(str(i["text"]).startswith("sc1.") for i in table_items(hub, "message") if i.get("text"))
    assert all(str(i["subject"]).startswith("sc1.") for i in table_items(hub, "ticket"))  # the customer's key
    assert all(str(e["ticket"]["subject"]).startswith("sc1.") for e in table_items(hub, "ticket_history")
               if isinstance(e.get("ticket"), dict) and e["ticket"].get("subject"))
    copies = [m for m in table_items(hub, "message") if m.get("ticket_subject")]
    assert copies
    assert all(str(m["ticket_subject"]).startswith("sc1.") for m in copies)
    assert all(str(m["ticket_state"]["subject"]).startswith("sc1.") for m in table_items(hub, "message")
               if isinstance(m.get("ticket_state"), dict) and m["ticket_state"].get("subject"))
    assert all(str(p["blob"]).startswith("sc1.") for p in table_items(hub, "message_part"))
    [claim] = table_items(hub, "client_message")
    assert str(claim["doc"]).startswith("sc1.")
    assert str(claim["ticket_subject"]).startswith("sc1.")
    # what the hub's readers see: everything, in clear
    assert set(clear_in(opened_items(hub, items))) >= {"message", "ticket", "ticket_history"}
    ticket, messages = hub.store.reads("demo").get_ticket(tickets["carla"])
    assert ticket.subject == "MSGSEAL-SUBJECT late"
    texts = [m.text for m in messages]
    assert "MSGSEAL-CARLA where is my parcel" in texts
    assert LARGE in texts, "a large message read back whole from its sealed parts"
    assert "MSGSEAL-PHONE call me" in texts, "a merged ticket's message opens in the target"
    assert {"MSGSEAL-REPLY it leaves today", "MSGSEAL-NOTE customer is upset"} <= set(texts)
    [first] = [m for m in messages if m.provider_message_id == "c1"]
    assert first.metadata == {"from_name": "MSGSEAL-META Carla"}
    assert [a.filename for a in first.attachments] == ["MSGSEAL-FILE.png"]
    assert first.subject == "MSGSEAL-SUBJECT late"
    history = hub.store.tickets("demo").history(tickets["carla"])
    assert {e["ticket"]["subject"] for e in history if "ticket" in e} == {"MSGSEAL-SUBJECT late"}
    # the stream's hooks (rules, routing, the assistant) were handed the text opened
    by_text = {str(i.get("text")) for i in seen}
    assert {"MSGSEAL-CARLA where is my parcel", "MSGSEAL-WECHAT 你好", "MSGSEAL-REPLY it leaves today"} <= by_text
    assert {str((i.get("ticket_state") or {}).get("subject")) for i in seen if i.get("ticket_state")} >= {
        "MSGSEAL-SUBJECT late"}


def test_the_api_ticket_view_opens_text_and_subject(hub: Hub, probe: Client, pipeline: Pipeline) -> None:
    tickets = a_busy_desk(hub, probe, pipeline)
    import app as app_module

    auth = agent_auth(hub)
    with Client(app_module.app) as api:
        view = json.loads(api.http.get(f"/v1/tickets/{tickets['carla']}", headers=auth).body)
        listed = json.loads(api.http.get("/v1/tickets", headers=auth).body)["tickets"]
    assert view["ticket"]["subject"] == "MSGSEAL-SUBJECT late"
    assert "MSGSEAL-REPLY it leaves today" in [m["text"] for m in view["messages"]]
    assert "MSGSEAL-SUBJECT late" in [t["subject"] for t in listed]
    assert not any(str(t["subject"]).startswith(("sb1.", "sc1.")) for t in listed)


def test_a_value_moved_to_another_message_or_ticket_does_not_open(hub: Hub, probe: Client,
                                                                    pipeline: Pipeline) -> None:
    send(probe, spec("c1", customer=CARLA, text="MSGSEAL-CARLA one"), spec("c2", customer=CARLA, text="two"),
         spec("p1", email=None, customer=PHONE, text="MSGSEAL-PHONE three"))
    pipeline.drain()
    messages = {m["provider_message_id"]: m for m in table_items(hub, "message")}
    fields = hub.store.fields("demo")
    assert fields.open_message(messages["c1"])["text"] == "MSGSEAL-CARLA one"
    with pytest.raises(Undecryptable):  # the same customer's other message: bound to the message id
        fields.open_message(messages["c2"] | {"text": messages["c1"]["text"]})
    with pytest.raises(Undecryptable):  # the same field name, another message of another customer
        fields.open_message(messages["p1"] | {"id": messages["c1"]["id"], "text": messages["c1"]["text"]})
    with pytest.raises(Undecryptable):  # another field of the same message
        fields.open_message(messages["c1"] | {"subject": messages["c1"]["text"]})
    tickets = {t["ticket_id"]: t for t in table_items(hub, "ticket")}
    one, other = sorted(tickets)
    with pytest.raises(Undecryptable):  # the same customer's key, another ticket: bound to the ticket id
        fields.open_ticket(tickets[other] | {"subject": tickets[one]["subject"],
                                             "customer_id": tickets[one]["customer_id"]})
    # under another customer: that customer's key is not the one it was sealed under (reads as none)
    assert fields.open_ticket(tickets[other] | {"subject": tickets[one]["subject"]})["subject"] == ""
    # another tenant's key space: no key of that customer there, nothing opens
    elsewhere = hub.store.fields("other-co").open_message(messages["c1"] | {"tenant_id": "other-co"})
    assert (elsewhere["text"], elsewhere.get("ticket_subject", "")) == ("", "")


def test_after_erasure_a_copy_taken_before_opens_no_text(hub: Hub, probe: Client, pipeline: Pipeline) -> None:
    send(probe, spec("c1", customer=CARLA, text="MSGSEAL-CARLA before", subject="MSGSEAL-SUBJECT x"),
         spec("p1", email=None, customer=PHONE, text="MSGSEAL-PHONE stays"))
    pipeline.drain()
    send(probe, spec("c2", customer=CARLA, text=LARGE))
    pipeline.drain()
    [carlas] = [t for t in table_items(hub, "ticket") if t["ticket_id"] == ticket_of(hub, "c1")]
    reply = Message(id="msg_r1", tenant_id="demo", ticket_id=str(carlas["ticket_id"]),
                    customer_id=str(carlas["customer_id"]), direction="outbound", channel="probe",
                    provider_message_id="out:msg_r1", text="MSGSEAL-REPLY", received_at=hub.clock(),
                    status="queued", client_message_id="tab-9:1")
    hub.store.replies("demo").add(reply, ticket_subject="MSGSEAL-SUBJECT x")  # a claim, a message copy
    before = table_items(hub)  # a copy of the table (a backup) taken before the erasure
    carla = next(str(m["customer_id"]) for m in before if m.get("provider_message_id") == "c1")
    # before the erasure, every copy of her ticket's subject opens
    fields = hub.store.fields("demo")
    [claim] = [i for i in before if i.get("type") == "client_message"]
    assert fields.open_claim(key_of(claim), claim)[1] == "MSGSEAL-SUBJECT x"
    assert {fields.open_ticket(t)["subject"] for t in before
            if t.get("type") == "ticket" and t["customer_id"] == carla} == {"MSGSEAL-SUBJECT x"}
    CustomerEraser(hub.store, PayloadArchive(hub.aws.s3, hub.settings.bucket), hub.clock).erase("demo", carla)

    fresh = Hub(settings=hub.settings, aws=hub.aws, registry=hub.registry)  # a new container: nothing cached
    for fields in (hub.store.fields("demo"), fresh.store.fields("demo")):
        opened = {m["provider_message_id"]: fields.open_message(m) for m in before if m.get("type") == "message"}
        assert opened["c1"]["text"] == "", "shredded: reads as erased"
        assert opened["c1"]["subject"] is None
        assert opened["p1"]["text"] == "MSGSEAL-PHONE stays", "another customer's text still opens"
        parts = [p for p in before if p.get("type") == "message_part"]
        assert parts
        assert all(fields.open_part(carla, str(p["message_id"]), int(str(p["sk"]).rsplit("P", 1)[1]), p["blob"])
                   is None for p in parts)
        # every copy of her ticket's subject: the ticket item, its history, the messages', the claim's
        assert {fields.open_ticket(t)["subject"] for t in before
                if t.get("type") == "ticket" and t["customer_id"] == carla} == {""}
        snapshots = [fields.open_item(h)["ticket"] for h in before
                     if h.get("type") == "ticket_history" and isinstance(h.get("ticket"), dict)
                     and h["ticket"].get("customer_id") == carla and h["ticket"].get("subject")]
        assert snapshots
        assert {t["subject"] for t in snapshots} == {""}
        mine = [fields.open_message(m) for m in before if m.get("type") == "message" and m["customer_id"] == carla]
        assert [m["ticket_subject"] for m in mine if "ticket_subject" in m]
        assert {m["ticket_subject"] for m in mine if "ticket_subject" in m} == {""}
        assert {m["ticket_state"]["subject"] for m in mine if isinstance(m.get("ticket_state"), dict)
                and "subject" in m["ticket_state"]} <= {""}
        assert fields.open_claim(key_of(claim), claim) == (None, "")
        phones = [fields.open_ticket(t) for t in before if t.get("type") == "ticket" and t["customer_id"] != carla]
        assert phones
        assert all(t["subject"] for t in phones), "another customer's subject still opens"
        assert values_in_clear([i for i in before if i.get("type") != "delivery_log"], ("msgseal-subject",)) == {}


def test_a_cold_list_page_of_n_customers_costs_one_key_batch_and_one_decrypt(hub: Hub, probe: Client,
                                                                             pipeline: Pipeline) -> None:
    n = 7
    send(probe, *[spec(f"n{i}", email=f"list{i}@example.com", text=f"MSGSEAL-CARLA {i}",
                       subject=f"MSGSEAL-SUBJECT {i}") for i in range(n)])
    pipeline.drain()
    assert len({t["customer_id"] for t in table_items(hub, "ticket")}) == n
    fresh = Hub(settings=hub.settings, aws=hub.aws, registry=hub.registry)  # a cold container
    kms, db = CountingKms(hub.aws.client("kms")), CountingDb(hub.aws.dynamodb)
    fresh.__dict__["crypto"] = Crypto(kms, db, hub.settings.table_name, hub.settings.kms_key_id,
                                      fresh.tenant_kms_key, hub.clock, key_table_name=hub.settings.key_table_name)
    page, _ = fresh.store.reads("demo").list_tickets(limit=50)
    assert sorted(t.subject or "" for t in page) == sorted(f"MSGSEAL-SUBJECT {i}" for i in range(n))
    key_table = hub.settings.key_table_name
    assert db.on(key_table) == {"batch_get_item": 1}, "the page's customers' keys: one BatchGetItem"
    assert kms.calls.get("decrypt", 0) <= 1
    assert set(kms.calls) <= {"decrypt"}
    kms.calls.clear()
    db.calls.clear()
    fresh.store.reads("demo").list_tickets(limit=50)  # warm: nothing more
    assert db.on(key_table) == {}
    assert kms.calls == {}


def test_messages_written_before_encryption_still_read(hub: Hub, demo: DemoTenant) -> None:
    plain = TicketStore(hub.aws.dynamodb, hub.settings.table_name)  # no crypto: as items were written before
    at = hub.clock()
    message = Message(id="msg_old", tenant_id="demo", ticket_id="tkt_old", customer_id="cus_old", channel="probe",
                      provider_message_id="old-1", text="written before", subject="old subject",
                      received_at=at, metadata={"k": "v"})
    assert plain.conversations("demo").add_message(message, ticket_subject="old ticket")
    [item] = table_items(hub, "message")
    assert item["text"] == "written before"
    read = hub.store.reads("demo").get_message("tkt_old", at, "msg_old")
    assert (read.text, read.subject, read.metadata) == ("written before", "old subject", {"k": "v"})
    assert opened_item(hub, item)["ticket_subject"] == "old ticket"


def test_the_widget_poll_shows_the_visitor_their_messages_and_the_agents_reply(hub: Hub, demo: DemoTenant,
                                                                                pipeline: Pipeline) -> None:
    enable_widget(hub, demo.tenant_id)
    unlimited(hub)
    visitor = Visitor.start(hub, demo.tenant_id)
    visitor.say("MSGSEAL-WIDGET where is my parcel?")
    pipeline.drain()
    ticket_id = visitor.poll()[1]["ticket_id"]
    import app as app_module

    with Client(app_module.app) as api:
        answer = api.http.post(f"/v1/tickets/{ticket_id}/messages", headers=agent_auth(hub),
                               body=json.dumps({"text": "MSGSEAL-REPLY on its way"}))
        assert answer.status_code == 202, answer.body
    pipeline.drain()
    _, body = visitor.poll()
    assert [m["text"] for m in body["messages"]] == ["MSGSEAL-WIDGET where is my parcel?", "MSGSEAL-REPLY on its way"]
    assert clear_in([i for i in table_items(hub) if i.get("type") != "delivery_log"]) == {}


def test_a_reply_given_the_ticket_as_stored_keeps_its_subject_readable(hub: Hub, probe: Client,
                                                                        pipeline: Pipeline) -> None:
    send(probe, spec("c1", customer=CARLA, text="MSGSEAL-CARLA hi", subject="MSGSEAL-SUBJECT as stored"))
    pipeline.drain()
    [ticket] = table_items(hub, "ticket")
    assert str(ticket["subject"]).startswith("sc1.")
    reply = Message(id="msg_r1", tenant_id="demo", ticket_id=str(ticket["ticket_id"]),
                    customer_id=str(ticket["customer_id"]), direction="outbound", channel="probe",
                    provider_message_id="out:msg_r1", text="MSGSEAL-REPLY", received_at=hub.clock(),
                    status="queued", client_message_id="tab-2:1")
    hub.store.replies("demo").add(reply, ticket_subject=str(ticket["subject"]))  # a ticket read without opening
    [item] = [m for m in table_items(hub, "message") if m["id"] == "msg_r1"]
    assert opened_item(hub, item)["ticket_subject"] == "MSGSEAL-SUBJECT as stored"
    again = hub.store.replies("demo").add(reply, ticket_subject="ignored: the claim's")
    assert again.text == "MSGSEAL-REPLY"
