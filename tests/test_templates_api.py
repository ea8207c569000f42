"""The templates API against moto (the class, called as the edge will): CRUD with
versions and 409s, who may write, the audit log, CSV import checked whole before
anything is written and applied in chunks, export, rendering against a ticket stored
through the webhook and the pipeline, macros, and tenant isolation."""

from __future__ import annotations

import json
from typing import Any

import pytest
from chalice.test import Client
from switchboard_sdk import Conflict, Forbidden, InvalidInput, NotFound, ticket_ref

import app as app_module
from chalicelib.api.calls import ApiCall
from chalicelib.api.templates import TemplateApi
from chalicelib.hub import Hub
from chalicelib.storage.keys import TenantKeys
from chalicelib.workflow.template_csv import BOM, import_csv
from chalicelib.workflow.template_store import CHUNK, TemplateStore
from chalicelib.workflow.templates import MissingVariables
from tests.agents_support import signed_in
from tests.conftest import Pipeline, signed_web_headers, table_items, web_message
from tests.test_api import other_tenant_key
from tools.local.demo import DemoTenant

GREETING = {"code": "greet", "title": "Greeting", "tags": ["Welcome"],
            "texts": {"en": "Hello {{customer.name}}, ticket {{ticket.ref}}. {{agent.name}}",
                      "zh-CN": "{{customer.name}}您好、工单 {{ticket.ref}}。{{agent.name}}"}}


def stores(hub: Hub) -> Any:
    return lambda tenant_id: TemplateStore(hub.aws.dynamodb, hub.settings.table_name, TenantKeys(tenant_id))


@pytest.fixture
def api(hub: Hub, demo: DemoTenant) -> TemplateApi:
    return TemplateApi(hub.access, stores(hub), hub.audit, hub.clock, hub.store.reads,
                       tenant_language=lambda tenant_id: hub.tenants.get(tenant_id).settings.language)


def call(key: str, body: Any = None, **query: str) -> ApiCall:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    return ApiCall(authorization=f"Bearer {key}", body=raw, query=query)


def audit_actions(hub: Hub, tenant_id: str = "demo") -> list[str]:
    return [r.action for r in hub.audit.list(tenant_id, limit=100).records if r.action.startswith(("template",
                                                                                                     "macro"))]


# -- CRUD ----------------------------------------------------------------------------


def test_an_admin_creates_reads_updates_and_deletes_a_template_each_change_audited(
        hub: Hub, demo: DemoTenant, api: TemplateApi) -> None:
    key = demo.api_key
    created = api.create_template(call(key, GREETING))
    assert (created.version, created.tags, created.updated_by) == (1, ["welcome"], created.updated_by)
    assert api.get_template(call(key), "greet") == created
    assert [t.code for t in api.list_templates(call(key)).templates] == ["greet"]
    assert api.list_templates(call(key, tag="other")).templates == []
    with pytest.raises(Conflict):
        api.create_template(call(key, GREETING))

    change = {"title": "Hello", "texts": {"en": "Hi {{customer.name}}"}, "tags": [], "version": 1}
    updated = api.update_template(call(key, change), "greet")
    assert (updated.version, updated.title, list(updated.texts)) == (2, "Hello", ["en"])
    with pytest.raises(Conflict, match="version 2"):
        api.update_template(call(key, change), "greet")  # version 1 is stale now
    with pytest.raises(Conflict):
        api.delete_template(call(key, version="1"), "greet")
    assert api.delete_template(call(key, version="2"), "greet").version == 2
    with pytest.raises(NotFound):
        api.get_template(call(key), "greet")
    assert audit_actions(hub) == ["template.delete", "template.update", "template.create"]
    update = next(r for r in hub.audit.list("demo").records if r.action == "template.update")
    assert update.before
    assert update.after
    assert update.target == "template/greet"
    assert (update.before["title"], update.after["title"]) == ("Greeting", "Hello")


def test_a_write_over_a_version_that_moved_meanwhile_is_a_conflict_not_an_overwrite(
        hub: Hub, demo: DemoTenant, api: TemplateApi) -> None:
    read = api.create_template(call(demo.api_key, GREETING))
    api.update_template(call(demo.api_key, {"title": "Theirs", "texts": {"en": "x"}, "version": 1}), "greet")
    store = stores(hub)("demo")
    mine = read.model_copy(update={"title": "Mine", "version": 2})
    entry = hub.audit.entry("demo", hub.access.tenant(call(demo.api_key)).actor, "template.update", "template/greet")
    with pytest.raises(Conflict):
        store.update_template(read.version, mine, entry[1])
    assert store.template("greet") == api.get_template(call(demo.api_key), "greet")
    assert api.get_template(call(demo.api_key), "greet").title == "Theirs"
    assert audit_actions(hub).count("template.update") == 1  # the lost write left no record either


def test_bad_templates_are_422_with_the_field(demo: DemoTenant, api: TemplateApi) -> None:
    for bad in [GREETING | {"code": "No Spaces"}, GREETING | {"texts": {"en": "{{ticket.__class__}}"}},
                GREETING | {"texts": {}}, GREETING | {"surprise": 1}]:
        with pytest.raises(InvalidInput):
            api.create_template(call(demo.api_key, bad))
    api.create_template(call(demo.api_key, GREETING))
    with pytest.raises(InvalidInput) as caught:
        api.update_template(call(demo.api_key, {"title": "t", "texts": {"en": "{{nope}}"}, "version": 1}), "greet")
    assert caught.value.fields[0]["field"] == "texts"


def test_readers_read_and_render_but_only_admins_and_supervisors_write(
        hub: Hub, demo: DemoTenant, api: TemplateApi, user_pool: None) -> None:
    reader = hub.api_keys.create("demo", ["read-only"])[1]
    api.create_template(call(demo.api_key, GREETING))
    assert api.get_template(call(reader), "greet").code == "greet"
    agent = signed_in(hub, role="agent").id_token
    for key in (reader, agent):
        with pytest.raises(Forbidden):
            api.create_template(call(key, GREETING | {"code": "x"}))
        with pytest.raises(Forbidden):
            api.import_templates(call(key, b"code,title,language,text\nx,t,en,hi\n"))
        with pytest.raises(Forbidden):
            api.delete_template(call(key), "greet")
    supervisor = signed_in(hub, role="supervisor", name="Sue").id_token
    made = api.create_template(call(supervisor, GREETING | {"code": "sup"}))
    assert made.updated_by.startswith("agent:")


# -- import and export ---------------------------------------------------------------


def csv_of(count: int, text: str = "Hello {{customer.name}}") -> bytes:
    rows = "".join(f"t{n:03},Title {n},en,\"{text} {n}\",tag{n}\r\n" for n in range(count))
    return (BOM + "code,title,language,text,tags\r\n" + rows).encode()


def test_a_file_with_one_bad_row_writes_nothing(hub: Hub, demo: DemoTenant, api: TemplateApi) -> None:
    bad = csv_of(40).decode() + "broken,B,en,\"{{ticket.__dict__}}\",\r\n"
    with pytest.raises(InvalidInput) as caught:
        api.import_templates(call(demo.api_key, bad.encode()))
    assert caught.value.fields == [{"field": "row 42", "message": caught.value.fields[0]["message"]}]
    assert table_items(hub, "template") == []
    assert audit_actions(hub) == []


def test_an_import_is_written_in_chunks_each_with_its_audit_record_and_is_idempotent(
        hub: Hub, demo: DemoTenant, api: TemplateApi) -> None:
    report = api.import_templates(call(demo.api_key, csv_of(CHUNK + 6)))
    assert (len(report.created), report.updated, report.deleted, report.unchanged) == (CHUNK + 6, [], [], 0)
    assert len(api.list_templates(call(demo.api_key)).templates) == CHUNK + 6
    assert audit_actions(hub) == ["template.import", "template.import"]
    again = api.import_templates(call(demo.api_key, {"csv": csv_of(CHUNK + 6).decode()}))  # the JSON form
    assert (again.created, again.updated, again.unchanged) == ([], [], CHUNK + 6)
    assert audit_actions(hub) == ["template.import", "template.import"]  # nothing written, nothing audited
    changed = api.import_templates(call(demo.api_key, csv_of(2, "Hi {{agent.name}}")))
    assert (changed.updated, changed.unchanged) == (["t000", "t001"], 0)
    assert api.get_template(call(demo.api_key), "t001").version == 2


def test_replace_deletes_what_the_file_leaves_out_unless_a_macro_uses_it(
        hub: Hub, demo: DemoTenant, api: TemplateApi) -> None:
    api.import_templates(call(demo.api_key, csv_of(5)))
    macro = api.create_macro(call(demo.api_key, {"name": "Greet", "actions": {"reply_template": "t004"}}))
    with pytest.raises(InvalidInput) as caught:
        api.import_templates(call(demo.api_key, csv_of(3), mode="replace"))
    assert caught.value.fields == [{"field": "template t004", "message": "a macro uses it"}]
    assert len(table_items(hub, "template")) == 5
    api.delete_macro(call(demo.api_key), macro.id)
    report = api.import_templates(call(demo.api_key, csv_of(3), mode="replace"))
    assert (report.deleted, report.unchanged) == (["t003", "t004"], 3)
    assert [t.code for t in api.list_templates(call(demo.api_key)).templates] == ["t000", "t001", "t002"]
    with pytest.raises(Exception, match="mode must be"):
        api.import_templates(call(demo.api_key, csv_of(1), mode="upsert"))


def test_an_import_body_must_be_utf8_csv(demo: DemoTenant, api: TemplateApi) -> None:
    with pytest.raises(InvalidInput, match="UTF-8"):
        api.import_templates(call(demo.api_key, "code,title,language,text\nx,t,en,привет\n".encode("cp1251")))
    with pytest.raises(InvalidInput):
        api.import_templates(call(demo.api_key, b""))
    with pytest.raises(InvalidInput):
        api.import_templates(call(demo.api_key, {"csv": 1}))


def test_export_gives_back_what_is_stored_as_csv(demo: DemoTenant, api: TemplateApi) -> None:
    api.create_template(call(demo.api_key, GREETING))
    api.create_template(call(demo.api_key, GREETING | {"code": "danger", "title": "=1+1"}))
    exported = api.export_templates(call(demo.api_key))
    assert exported.startswith(BOM)
    assert "'=1+1" in exported
    assert "工单" in exported
    stored = {t.code: t.draft() for t in api.list_templates(call(demo.api_key)).templates}
    assert {d.code: d for d in import_csv(exported)} == stored


# -- rendering -----------------------------------------------------------------------


@pytest.fixture
def ticket_id(hub: Hub, demo: DemoTenant, pipeline: Pipeline) -> str:
    """A ticket from Ada, stored through the web webhook and the pipeline."""
    body = web_message("Where is my order?")
    with Client(app_module.app) as client:
        answer = client.http.post("/hooks/demo/web", body=body, headers=signed_web_headers(demo.web_secret, body))
        assert answer.status_code == 202, answer.body
    pipeline.drain()
    (ticket,), _ = hub.store.reads("demo").list_tickets()
    return ticket.id


def test_render_fills_a_template_in_for_a_stored_ticket_and_the_caller(
        hub: Hub, demo: DemoTenant, api: TemplateApi, ticket_id: str) -> None:
    api.create_template(call(demo.api_key, GREETING))
    bot = hub.api_keys.create("demo", ["read-only"], name="Helpdesk Bot")[1]
    rendered = api.render_template(call(bot, {"ticket_id": ticket_id, "language": "en-GB"}), "greet")
    assert rendered.text == f"Hello Ada, ticket {ticket_ref(ticket_id)}. Helpdesk Bot"
    assert (rendered.language, rendered.version) == ("en", 1)
    tenant = hub.tenants.get("demo")
    hub.tenants.put(tenant.model_copy(update={"settings": tenant.settings.model_copy(update={"language": "zh-CN"})}))
    assert api.render_template(call(bot, {"ticket_id": ticket_id}), "greet").language == "zh-CN"


def test_render_names_the_missing_variables(demo: DemoTenant, api: TemplateApi, ticket_id: str) -> None:
    texts = {"en": "{{ticket.category}} / {{customer.attributes.order_no}} / {{customer.name}}"}
    api.create_template(call(demo.api_key, GREETING | {"code": "needs", "texts": texts}))
    with pytest.raises(MissingVariables) as caught:
        api.render_template(call(demo.api_key, {"ticket_id": ticket_id}), "needs")
    assert caught.value.missing == ["ticket.category", "customer.attributes.order_no"]
    with pytest.raises(NotFound):
        api.render_template(call(demo.api_key, {"ticket_id": "tkt_nope"}), "needs")
    with pytest.raises(NotFound):
        api.render_template(call(demo.api_key, {"ticket_id": ticket_id}), "absent")


# -- macros --------------------------------------------------------------------------


def test_macros_are_created_updated_and_deleted_with_versions_and_their_template_checked(
        hub: Hub, demo: DemoTenant, api: TemplateApi) -> None:
    key = demo.api_key
    body = {"name": "Refund", "actions": {"patch": {"status": "pending", "assignee_id": None},
                                          "reply_template": "greet", "note": "{{agent.name}} refunded"}}
    with pytest.raises(InvalidInput) as caught:
        api.create_macro(call(key, body))
    assert caught.value.fields[0]["field"] == "actions.reply_template"
    api.create_template(call(key, GREETING))
    macro = api.create_macro(call(key, body))
    stored = api.get_macro(call(key), macro.id)
    assert stored == macro
    assert stored.actions.patch.model_fields_set == {"status", "assignee_id"}  # null clears; absent stays
    with pytest.raises(Conflict, match="Refund"):
        api.delete_template(call(key), "greet")
    change = body | {"name": "Refund 2", "actions": {"patch": {"priority": "high"}}, "version": 1}
    updated = api.update_macro(call(key, change), macro.id)
    assert (updated.version, updated.actions.reply_template) == (2, None)
    with pytest.raises(Conflict):
        api.update_macro(call(key, change), macro.id)
    assert [m.name for m in api.list_macros(call(key)).macros] == ["Refund 2"]
    api.delete_template(call(key), "greet")  # no macro replies with it any more
    api.delete_macro(call(key, version="2"), macro.id)
    with pytest.raises(NotFound):
        api.get_macro(call(key), macro.id)
    assert audit_actions(hub) == ["macro.delete", "template.delete", "macro.update", "macro.create",
                                  "template.create"]
    with pytest.raises(InvalidInput):
        api.create_macro(call(key, {"name": "Nothing", "actions": {}}))


# -- isolation -----------------------------------------------------------------------


def test_another_tenant_sees_none_of_it(hub: Hub, demo: DemoTenant, api: TemplateApi, ticket_id: str) -> None:
    api.create_template(call(demo.api_key, GREETING))
    macro = api.create_macro(call(demo.api_key, {"name": "M", "actions": {"note": "hi"}}))
    other = other_tenant_key(hub)
    assert api.list_templates(call(other)).templates == []
    assert api.list_macros(call(other)).macros == []
    assert api.export_templates(call(other)).count("\n") == 1  # the header only
    for attempt in (lambda: api.get_template(call(other), "greet"), lambda: api.get_macro(call(other), macro.id),
                    lambda: api.delete_template(call(other), "greet")):
        with pytest.raises(NotFound):
            attempt()
    api.create_template(call(other, GREETING))  # the same code, its own
    with pytest.raises(NotFound):  # its template, demo's ticket
        api.render_template(call(other, {"ticket_id": ticket_id}), "greet")
    assert api.get_template(call(demo.api_key), "greet").version == 1
