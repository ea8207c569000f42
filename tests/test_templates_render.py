"""Reply templates without AWS: the variable grammar, safe rendering (no code, no
attribute access, values never re-expanded, a missing value is an error naming it),
the language fallback, macros' plans, and CSV import/export (BOM, Chinese text,
formula injection, numbered row errors)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from switchboard_sdk import Conflict, Customer, Identity, InvalidInput, Ticket, ticket_ref

from chalicelib.workflow.changes import TicketPatch
from chalicelib.workflow.template_csv import BOM, MAX_ROWS, export_csv, import_csv
from chalicelib.workflow.templates import (
    Macro,
    MacroActions,
    MissingVariables,
    TemplateDraft,
    macro_plan,
    pick_language,
    render,
    render_text,
    variables_for,
)

NOW = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TICKET_ID = "tkt_01hzx3k4m5n6p7q8r9s0t1v2w3"


def ticket(**fields: object) -> Ticket:
    values = {"id": TICKET_ID, "tenant_id": "demo", "customer_id": "cus_1", "channel": "wechat",
              "subject": "Refund", "created_at": NOW, "last_activity_at": NOW} | fields
    return Ticket.model_validate(values)


def customer(name: str | None = "王小明", **attributes: str) -> Customer:
    return Customer(id="cus_1", tenant_id="demo", display_name=name, created_at=NOW, attributes=attributes,
                    identities=[Identity(kind="phone", value="+8613800000000"),
                                Identity(kind="email", value="wang@example.com")])


def template(texts: dict[str, str] | None = None, code: str = "refund.ok") -> TemplateDraft:
    return TemplateDraft(code=code, title="Refund accepted", texts=texts or {"en": "Hi {{customer.name}}"})


# -- variables and rendering ---------------------------------------------------------


def test_a_template_is_filled_from_the_ticket_its_customer_and_the_agent() -> None:
    text = ("Dear {{customer.name}}, ticket {{ticket.ref}} ({{ticket.priority}}, {{ticket.channel}}): "
            "{{agent.name}} here. Level {{ customer.attributes.vip_level }}, mail {{customer.email}}")
    values = variables_for(ticket(priority="urgent"), customer(vip_level="gold"), "Lin")
    assert render(template({"en": text}), "en", values) == (
        f"Dear 王小明, ticket {ticket_ref(TICKET_ID)} (urgent, wechat): Lin here. Level gold, mail wang@example.com")
    assert values["customer.phone"] == "+8613800000000"
    assert all(isinstance(v, str) for v in values.values())


def test_a_missing_or_blank_variable_is_an_error_naming_every_one_never_a_blank() -> None:
    text = "Hi {{customer.name}}, about {{ticket.category}} and {{customer.attributes.order}} {{customer.name}}"
    with pytest.raises(MissingVariables) as caught:
        render_text(text, variables_for(ticket(), customer(name="  "), "Lin"))
    assert caught.value.missing == ["customer.name", "ticket.category", "customer.attributes.order"]
    assert caught.value.status == 422
    body = caught.value.to_body()["error"]
    assert body["code"] == "missing_variables"
    assert [f["field"] for f in body["fields"]] == caught.value.missing


def test_no_customer_at_all_leaves_its_variables_missing() -> None:
    with pytest.raises(MissingVariables) as caught:
        render_text("{{customer.name}} {{ticket.ref}}", variables_for(ticket(), None, None))
    assert caught.value.missing == ["customer.name"]


def test_a_default_fills_in_for_a_missing_or_blank_value_only() -> None:
    text = '''Hi {{customer.name | default: "there"}}{{ customer.attributes.title|default:'' }}!'''
    assert render_text(text, {"customer.name": ""}) == "Hi there!"
    assert render_text(text, {"customer.name": "Ada", "customer.attributes.title": " (VIP)"}) == "Hi Ada (VIP)!"


def test_values_are_inserted_as_they_are_never_read_as_templates() -> None:
    sly = customer(name="{{agent.name}} {{ticket.__class__}} {% raw %} ${x} %s {0}")
    text = render_text("To {{customer.name}} from {{agent.name}}", variables_for(ticket(), sly, "Lin"))
    assert text == "To {{agent.name}} {{ticket.__class__}} {% raw %} ${x} %s {0} from Lin"


@pytest.mark.parametrize("text", [
    "{{__class__}}", "{{ticket.__dict__}}", "{{ticket.__class__.__mro__}}", "{{customer.attributes.__x}}",
    "{{customer}}", "{{ticket}}", "{{ticket.customer_id}}", "{{agent.email}}", "{{os.environ}}",
    "{{ticket.ref()}}", "{{ticket['ref']}}", "{{customer.name|upper}}", "{{ticket.ref | default: x}}",
    "{{ {{ticket.ref}} }}", "Hello {{customer.name", "{{}}", "{{ }}", "{{customer.attributes.a.b}}",
    "{{ticket.ref | default: \"a\" | default: \"b\"}}",
])
def test_only_the_fixed_grammar_of_known_names_is_accepted_when_saved(text: str) -> None:
    with pytest.raises(ValidationError):
        template({"en": f"x {text}"})
    with pytest.raises(InvalidInput):  # a text that bypassed validation is refused, not evaluated
        render_text(text, {"ticket.ref": "R", "customer.name": "Ada"})


def test_attribute_keys_may_be_written_in_any_script() -> None:
    assert render_text("{{customer.attributes.会员等级}}", {"customer.attributes.会员等级": "金卡"}) == "金卡"


def test_braces_that_are_not_variables_stay_as_text() -> None:
    assert render_text("a } b }} c {x} {{agent.name}}", {"agent.name": "Lin"}) == "a } b }} c {x} Lin"


# -- languages -----------------------------------------------------------------------


@pytest.mark.parametrize(("available", "wanted", "default", "chosen"), [
    (["en", "zh-CN"], "zh-CN", "en", "zh-CN"),
    (["en", "zh-cn"], "zh-CN", "en", "zh-cn"),  # case does not matter
    (["en", "zh"], "zh-CN", "en", "zh"),  # the base
    (["en", "zh-CN"], "zh-TW", "en", "zh-CN"),  # a sibling beats another language
    (["en", "zh-CN"], "zh", "en", "zh-CN"),
    (["de", "en"], "fr", "en", "en"),  # the tenant's
    (["de", "en-GB"], "fr", "en", "en-GB"),
    (["de", "es"], "fr", "en", "de"),  # the first
    (["de", "en"], None, None, "de"),
])
def test_the_language_falls_back_from_exact_to_base_to_the_tenants_to_the_first(
        available: list[str], wanted: str | None, default: str | None, chosen: str) -> None:
    assert pick_language(available, wanted, default) == chosen


def test_render_uses_the_fallback() -> None:
    both = template({"en": "Hello", "zh-CN": "您好"})
    assert render(both, "zh", {}) == "您好"
    assert render(both, "fr", {}, default_language="zh-CN") == "您好"
    assert render(both, "fr", {}, default_language="de") == "Hello"


def test_a_template_is_refused_without_text_or_with_bad_languages_or_codes() -> None:
    bads: list[dict[str, Any]] = [
        {"texts": {}}, {"texts": {"en": "  "}}, {"texts": {"EN": "x"}}, {"texts": {"en": "x", "En": "y"}},
        {"code": "Refund"}, {"code": "-x"}, {"code": "import"}, {"code": "export"}, {"code": "a" * 41},
        {"title": " "}, {"tags": ["a b"]},
        {"texts": {"en": "x" * 4001}},
    ]
    for bad in bads:
        with pytest.raises(ValidationError):
            TemplateDraft.model_validate({"code": "ok", "title": "t", "texts": {"en": "x"}, **bad})
    assert TemplateDraft(code="a.b-c_1", title=" t ", texts={"en": "x"}, tags=["VIP", "vip"]).tags == ["vip"]


# -- macros --------------------------------------------------------------------------


def macro(**actions: object) -> Macro:
    return Macro(id="mac_abcdefgh", name="Refund", version=1, updated_at="", updated_by="",
                 actions=MacroActions.model_validate(actions))


def test_a_macro_plans_its_patch_reply_and_note_without_changing_anything() -> None:
    refund = macro(patch={"status": "pending", "add_tags": ["refund"]}, reply_template="refund.ok",
                   note="{{agent.name}} offered a refund")
    reply = template({"en": "Hi {{customer.name}}", "zh-CN": "{{customer.name}}、您好"})
    plan = macro_plan(refund, reply, ticket(language="zh-CN"), customer(), "Lin", None)
    assert (plan.reply_text, plan.note, plan.reply_language) == ("王小明、您好", "Lin offered a refund", "zh-CN")
    assert plan.patch.status == "pending"
    assert plan.patch.model_fields_set == {"status", "add_tags"}  # nothing else is cleared
    assert macro_plan(refund, reply, ticket(), customer(), "Lin", "en").reply_text == "Hi 王小明"


def test_a_macro_lists_what_its_reply_and_note_lack_together() -> None:
    refund = macro(reply_template="refund.ok", note="order {{customer.attributes.order}}")
    with pytest.raises(MissingVariables) as caught:
        macro_plan(refund, template(), ticket(), customer(name=None), "Lin", "en")
    assert caught.value.missing == ["customer.name", "customer.attributes.order"]


def test_a_macro_whose_template_is_gone_is_a_conflict() -> None:
    with pytest.raises(Conflict):
        macro_plan(macro(reply_template="refund.ok"), None, ticket(), customer(), "Lin", "en")
    with pytest.raises(Conflict):
        macro_plan(macro(reply_template="refund.ok"), template(code="other"), ticket(), customer(), "Lin", "en")


def test_a_macro_may_assign_the_ticket_to_whoever_applies_it() -> None:
    mine = macro(patch={"assignee_id": "@me", "status": "open"})
    assert macro_plan(mine, None, ticket(), customer(), "Lin", None, agent_id="agent-7").patch.assignee_id == "agent-7"
    with pytest.raises(InvalidInput):
        macro_plan(mine, None, ticket(), customer(), "bot", None)


def test_a_macro_must_do_something_and_keeps_a_cleared_field_apart_from_an_absent_one() -> None:
    with pytest.raises(ValidationError):
        MacroActions()
    with pytest.raises(ValidationError):
        MacroActions(note="{{ticket.__dict__}}")
    clearing = macro(patch={"assignee_id": None})
    again = Macro.model_validate_json(clearing.model_dump_json())
    assert again.actions.patch.model_fields_set == {"assignee_id"}
    assert again.actions.patch.assignee_id is None
    assert again == clearing
    assert TicketPatch.model_validate({}).model_fields_set == set()


# -- CSV -----------------------------------------------------------------------------


def sample() -> list[TemplateDraft]:
    return [
        TemplateDraft(code="greet", title="问候", texts={"zh-CN": "{{customer.name}}您好、工单号 {{ticket.ref}}。",
                                                       "en": 'Hello {{customer.name | default: "there"}},\nthanks'},
                      tags=["greeting", "vip"]),
        TemplateDraft(code="formula", title="=HYPERLINK(\"http://evil\")",
                      texts={"en": "-2+3 cmd|' /C calc'!A0", "de": "@SUM(A1)", "fr": "'quoted", "it": "+x",
                             "es": "\tTab"}),
    ]


def test_csv_round_trips_chinese_text_newlines_quotes_and_tags() -> None:
    exported = export_csv(sample())
    assert exported.startswith(BOM)  # Excel reads it as UTF-8
    assert sorted(import_csv(exported), key=lambda t: t.code) == sorted(sample(), key=lambda t: t.code)


def test_exported_cells_never_start_a_formula() -> None:
    rows = list(csv.reader(io.StringIO(export_csv(sample()).removeprefix(BOM))))
    assert rows[0] == ["code", "title", "language", "text", "tags"]
    for row in rows[1:]:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row
    formula = [r for r in rows if r[0] == "formula"]
    assert formula[0][1] == "'=HYPERLINK(\"http://evil\")"
    assert {r[3] for r in formula} >= {"'-2+3 cmd|' /C calc'!A0", "'@SUM(A1)", "''quoted", "'+x", "'\tTab"}


def test_import_accepts_a_bom_any_column_order_blank_lines_and_comma_tags() -> None:
    text = (BOM + "Language,Code,Text,Tags,Title\r\n"
            "zh-CN,greet,您好,\"a, b\",问候\r\n\r\n,,,,\r\nen,greet,Hello,,\r\n")
    (draft,) = import_csv(text)
    assert draft == TemplateDraft(code="greet", title="问候", texts={"zh-CN": "您好", "en": "Hello"}, tags=["a", "b"])


def test_import_lists_every_bad_row_by_its_spreadsheet_number() -> None:
    text = ("code,title,language,text,tags\n"
            "ok,Fine,en,Hello,\n"            # row 2
            "Bad Code,x,en,Hello,\n"          # row 3
            "ok,Other title,de,Hallo,\n"      # row 4
            "ok,,en,Again,\n"                 # row 5: en twice
            "vars,V,en,Hi {{ticket.__class__}},\n"  # row 6
            "lang,L,english,Hi,\n"           # row 7
            "empty,E,en,,\n"                  # row 8
            "notitle,,en,Hi,\n"               # row 9
            "extra,X,en,Hi,,surplus\n"       # row 10
            "export,X,en,Hi,\n")              # row 11: a route's name
    with pytest.raises(InvalidInput) as caught:
        import_csv(text)
    fields = caught.value.fields
    assert [f["field"] for f in fields] == [f"row {n}" for n in (3, 4, 5, 6, 7, 8, 9, 10, 11)]
    assert "nothing was imported" in caught.value.message
    assert "unknown variable" in fields[3]["message"]
    assert "row 2" in fields[1]["message"]


def test_import_refuses_a_bad_header_too_many_rows_and_too_many_bytes() -> None:
    for header in ("code,text\n", "code,title,language,text,tags,colour\n", "code,language,text,code\n", ""):
        with pytest.raises(InvalidInput) as caught:
            import_csv(header + "a,en,x\n")
        assert caught.value.fields[0]["field"] == "row 1"
    many = "code,language,text\n" + "".join(f"c{n},en,x\n" for n in range(MAX_ROWS + 1))
    with pytest.raises(InvalidInput, match="2,000 rows"):
        import_csv(many)
    assert len(import_csv("code,title,language,text\n" + "".join(f"c{n},t,en,x\n" for n in range(MAX_ROWS)))) == \
        MAX_ROWS
    with pytest.raises(InvalidInput, match="larger than"):
        import_csv("code,title,language,text\n" + "a,t,en," + "好" * 340_000 + "\n")


def test_import_reports_unreadable_csv() -> None:
    with pytest.raises(InvalidInput, match="not a readable CSV"):
        import_csv("code,title,language,text\na,t,en,\"x\0y\"\n" + "b,t,en," + "x" * 200_000)
