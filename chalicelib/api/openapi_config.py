"""The OpenAPI operations of the workflow's configuration and customers (issue 12):
rules, SLA policies and calendars, reply templates and macros, customer profiles
and merges, and satisfaction surveys. Kept beside :mod:`.openapi`, which lists them."""

from __future__ import annotations

from pydantic import BaseModel

from ..workflow.calendar import BusinessCalendar, CalendarSchedule
from ..workflow.customer_moves import CustomerMerge
from ..workflow.rules.models import Rule, RuleBody, RuleVersion
from ..workflow.sla import SlaPolicy, SlaPolicyFields
from ..workflow.surveys import Survey
from ..workflow.templates import Macro, MacroDraft, ReplyTemplate, TemplateDraft
from .customers import CustomerProfile, MergeCustomers, MergeList, UpdateCustomer
from .openapi_types import Operation, Query
from .rules import RuleList, RuleTest, RuleTestResult, RuleUpdate, RuleVersions
from .sla import CalendarList, SlaPolicyList, UpdateCalendar, UpdateSlaPolicy
from .templates import (
    ImportReport,
    ImportRequest,
    MacroList,
    Rendered,
    RenderRequest,
    TemplateList,
    UpdateMacro,
    UpdateTemplate,
)

ADMIN = ("tenant-admin",)
CURATORS = ("tenant-admin", "supervisor")  # templates and macros: admins and supervisors
VERSION = Query("version", {"type": "integer", "minimum": 0}, "Refuse (409) unless the record is at this version.")
CHANGE_ERRORS = (400, 401, 403, 404, 409, 422, 429)
CREATE_ERRORS = (400, 401, 403, 409, 422, 429)
READ_ERRORS = (401, 403, 404, 429)
PAGE_ERRORS = (400, 403, 404, 409, 413, 429)  # a signed link: malformed, forged, gone, answered, form too big


class CsvText(BaseModel):
    """Templates as CSV (``text/csv``, UTF-8 with a BOM): code, title, language, text, tags — one row per
    language."""


class HtmlPage(BaseModel):
    """A page for a person following a signed link (HTML; JSON when asked)."""


def _crud(path: str, one: str, name: str, plural: str, tag: str, model: type[BaseModel], listing: type[BaseModel],
          create: type[BaseModel], update: type[BaseModel], scopes: tuple[str, ...],
          list_query: tuple[Query, ...] = ()) -> tuple[Operation, ...]:
    """list, create, get, replace (PUT with version) and delete of one kind of record."""
    item = f"{path}/{{{one}}}"
    return (
        Operation("get", path, f"list_{plural}", f"The tenant's {tag}", tag, listing, query=list_query),
        Operation("post", path, f"create_{name}", f"Create a {name.replace('_', ' ')}", tag, model, status=201,
                  body=create, scopes=scopes, errors=CREATE_ERRORS),
        Operation("get", item, f"get_{name}", f"One {name.replace('_', ' ')}", tag, model, errors=READ_ERRORS),
        Operation("put", item, f"update_{name}", f"Replace a {name.replace('_', ' ')} (at its version)", tag, model,
                  body=update, scopes=scopes, errors=CHANGE_ERRORS),
        Operation("delete", item, f"delete_{name}", f"Delete a {name.replace('_', ' ')}", tag,
                  RuleVersion if model is Rule else model, query=(VERSION,), scopes=scopes, errors=CHANGE_ERRORS),
    )


CONFIG_OPERATIONS: tuple[Operation, ...] = (
    *_crud("/v1/rules", "rule_id", "rule", "rules", "rules", Rule, RuleList, RuleBody, RuleUpdate,
           ADMIN),
    Operation("post", "/v1/rules/test", "test_rules", "Which rules would fire on a sample ticket, and why not",
              "rules", RuleTestResult, body=RuleTest, scopes=("tenant-admin", "supervisor"),
              errors=(400, 401, 403, 422, 429)),
    Operation("get", "/v1/rules/{rule_id}/versions", "rule_versions", "Every saved version of a rule", "rules",
              RuleVersions, errors=READ_ERRORS),
    *_crud("/v1/sla-policies", "policy_id", "sla_policy", "sla_policies", "sla", SlaPolicy, SlaPolicyList,
           SlaPolicyFields, UpdateSlaPolicy, ADMIN),
    *_crud("/v1/calendars", "calendar_id", "calendar", "calendars", "sla", BusinessCalendar, CalendarList,
           CalendarSchedule, UpdateCalendar, ADMIN),
    *_crud("/v1/templates", "code", "template", "templates", "templates", ReplyTemplate, TemplateList, TemplateDraft,
           UpdateTemplate, CURATORS, list_query=(Query("tag", {"type": "string", "maxLength": 64}),)),
    Operation("post", "/v1/templates/{code}/render", "render_template",
              "The template filled in for a ticket (422 lists missing variables)", "templates", Rendered,
              body=RenderRequest, errors=CHANGE_ERRORS),
    Operation("post", "/v1/templates/import", "import_templates", "Import templates from CSV (all or nothing)",
              "templates", ImportReport, body=ImportRequest, scopes=CURATORS,
              query=(Query("mode", {"type": "string", "enum": ["merge", "replace"]}),), errors=CREATE_ERRORS),
    Operation("get", "/v1/templates/export", "export_templates", "Every template as CSV", "templates", CsvText,
              media_type="text/csv"),
    *_crud("/v1/macros", "macro_id", "macro", "macros", "templates", Macro, MacroList, MacroDraft, UpdateMacro,
           CURATORS),
    Operation("patch", "/v1/customers/{customer_id}", "update_customer",
              "Change a customer's tags, attributes or name", "customers", CustomerProfile, body=UpdateCustomer,
              scopes=("tenant-admin", "agent"), errors=CHANGE_ERRORS),
    Operation("post", "/v1/customers/{customer_id}/merge", "merge_customers",
              "Merge another customer (identities, tickets) into this one", "customers", CustomerMerge,
              body=MergeCustomers, scopes=("tenant-admin", "supervisor"), errors=CHANGE_ERRORS),
    Operation("post", "/v1/customers/{customer_id}/unmerge", "unmerge_customer", "Undo a merge exactly",
              "customers", CustomerMerge, body=MergeCustomers, scopes=("tenant-admin", "supervisor"),
              errors=CHANGE_ERRORS),
    Operation("get", "/v1/customers/{customer_id}/merges", "list_customer_merges",
              "The merges into this customer (to undo them)", "customers", MergeList, errors=READ_ERRORS),
    Operation("get", "/csat/{token}", "open_survey_link",
              "A survey link (signed): a page that records the score when the customer confirms", "surveys",
              HtmlPage, scopes=(), errors=PAGE_ERRORS, page=True),
    Operation("post", "/csat/{token}", "answer_survey_link", "Record the score of a signed survey link", "surveys",
              HtmlPage, scopes=(), errors=PAGE_ERRORS, page=True),
    Operation("get", "/v1/tickets/{ticket_id}/survey", "get_ticket_survey",
              "The ticket's satisfaction survey: sent or why not, and the answer", "tickets", Survey,
              errors=READ_ERRORS),
)
