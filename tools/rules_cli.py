"""``switchboard rules list|show|create|update|delete|versions|test``: the tenant's triage
and automation rules through ``/v1/rules`` (tenant-admin key to change them; any
reading key to list; ``test`` takes an admin key or a supervisor).

Rules and samples are JSON files (``--file``, ``-`` for standard input) in the API's
shapes. ``update`` replaces the whole rule; it sends the ``version`` the file names, or
else the current one (read just before), so a change made meanwhile is refused (409)
rather than overwritten. Output is a table for people, ``--json`` for scripts; exit
codes as the administration commands': 0 done, 1 refused, 2 usage, 3 hub unreachable or 5xx.
"""

from __future__ import annotations

import json
from typing import Any

import click

from .admin_cli import ApiClient, api_options, client, path_part, show

RULE_COLUMNS = ("position", "id", "trigger", "enabled", "version", "name")
VERSION_COLUMNS = ("version", "updated_at", "updated_by", "deleted", "enabled", "name")
FILE = click.option("--file", "source", type=click.File("r"), required=True, help="JSON file ('-': stdin).")


@click.group()
def rules() -> None:
    """Triage and automation rules: list, show, create, update, delete, versions, test."""


@rules.command("list")
@api_options
def rules_list(**api: Any) -> None:
    """The tenant's rules in the order they run (by position)."""
    listing = _client(api).call("GET", "/v1/rules")
    show(listing, api["as_json"], listing["rules"], RULE_COLUMNS)


@rules.command("show")
@click.argument("rule_id")
@api_options
def rules_show(rule_id: str, **api: Any) -> None:
    """One rule, with its conditions and actions."""
    _show_rule(_client(api).call("GET", f"/v1/rules/{path_part(rule_id)}"), api["as_json"])


@rules.command("create")
@FILE
@api_options
def rules_create(source: Any, **api: Any) -> None:
    """Create a rule from a JSON file (name, trigger, conditions, actions, …)."""
    _show_rule(_client(api).call("POST", "/v1/rules", _read(source)), api["as_json"])


@rules.command("update")
@click.argument("rule_id")
@FILE
@api_options
def rules_update(rule_id: str, source: Any, **api: Any) -> None:
    """Replace RULE_ID with the rule in the file."""
    hub, body = _client(api), _read(source)
    if "version" not in body:
        body["version"] = hub.call("GET", f"/v1/rules/{path_part(rule_id)}")["version"]
    _show_rule(hub.call("PUT", f"/v1/rules/{path_part(rule_id)}", body), api["as_json"])


@rules.command("delete")
@click.argument("rule_id")
@click.option("--version", "version", type=click.IntRange(1), default=None,
              help="Only if the rule is still at this version.")
@api_options
def rules_delete(rule_id: str, version: int | None, **api: Any) -> None:
    """Delete RULE_ID (its versions are kept: `rules versions`)."""
    query = {"version": str(version)} if version is not None else None
    deleted = _client(api).call("DELETE", f"/v1/rules/{path_part(rule_id)}", query=query)
    if api["as_json"]:
        show(deleted, True)
        return
    click.echo(f"deleted {deleted['rule']['id']} (kept as version {deleted['rule']['version']})")


@rules.command("versions")
@click.argument("rule_id")
@api_options
def rules_versions(rule_id: str, **api: Any) -> None:
    """Every saved version of RULE_ID, newest first."""
    listing = _client(api).call("GET", f"/v1/rules/{path_part(rule_id)}/versions")
    rows = [v["rule"] | {"deleted": v["deleted"]} for v in listing["versions"]]
    show(listing, api["as_json"], rows, VERSION_COLUMNS)


@rules.command("test")
@FILE
@api_options
def rules_test(source: Any, **api: Any) -> None:
    """Which rules would fire on the sample in the file (trigger, ticket, customer,
    message; ``rules`` to test unsaved ones), what they would change, and why the others would not."""
    result = _client(api).call("POST", "/v1/rules/test", _read(source))
    if api["as_json"]:
        show(result, True)
        return
    click.echo(f"trigger {result['trigger']}: {len(result['fired'])} rule(s) would fire")
    for number, fired in enumerate(result["fired"], 1):
        actions = ", ".join(a["type"] for a in fired["actions"])
        click.echo(f"  {number}. {fired['rule_id']}  {fired['name']}  → {actions}")
    click.echo(f"patch: {json.dumps(result['patch'], ensure_ascii=False)}")
    for effect in result["side_effects"]:
        click.echo(f"side effect: {json.dumps(effect['action'], ensure_ascii=False)} ({effect['rule_id']})")
    for missed in result["not_fired"]:
        click.echo(f"not fired: {missed['rule_id']}  {missed['name']}  ({_why(missed)})")


def _why(missed: dict[str, Any]) -> str:
    if missed["reason"] != "conditions":
        return str(missed["reason"]).replace("_", " ")
    if missed["group"] == "any":
        return "none of the `any` conditions held"
    return f"all[{missed['index']}] failed: {json.dumps(missed['condition'], ensure_ascii=False)}"


def _show_rule(rule: dict[str, Any], as_json: bool) -> None:
    if as_json:
        show(rule, True)
        return
    show({k: rule[k] for k in ("id", "name", "enabled", "trigger", "position", "version", "updated_at",
                               "updated_by")}, False)
    if rule["trigger"] == "time":
        click.echo(f"fires: {rule['hours_since']} h after {rule['since']}")
    for group in ("all", "any"):
        for condition in rule["conditions"][group]:
            click.echo(f"if {group}: {json.dumps(condition, ensure_ascii=False)}")
    for action in rule["actions"]:
        click.echo(f"then: {json.dumps(action, ensure_ascii=False)}")


def _read(source: Any) -> dict[str, Any]:
    try:
        body = json.load(source)
    except ValueError as err:
        raise click.BadParameter(f"not JSON: {err}", param_hint="--file") from None
    if not isinstance(body, dict):
        raise click.BadParameter("expected a JSON object", param_hint="--file")
    return body


def _client(api: dict[str, Any]) -> ApiClient:
    return client(api["api_url"], api["api_key"], api["state_dir"])


COMMANDS = (rules,)
