"""The administration commands of ``switchboard`` (see :mod:`.admin_cli`)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from .admin_cli import STATE_DIR, HubUnavailable, api_options, client, parse_settings, path_part, show

KEY_COLUMNS = ("key_id", "name", "scopes", "created_at", "expires_at", "revoked_at")
SCOPES = click.Choice(["platform-admin", "tenant-admin", "agent", "read-only", "reply"])


# -- tenants (platform-admin keys) -----------------------------------------------------


@click.group()
def tenants() -> None:
    """Create, list, suspend and resume tenants (platform-admin key)."""


@tenants.command("create")
@click.argument("tenant_id")
@click.option("--name", required=True, help="The business's name.")
@click.option("--set", "pairs", multiple=True, metavar="NAME=VALUE",
              help="A tenant setting, e.g. time_zone=Europe/Berlin")
@api_options
def tenants_create(tenant_id: str, name: str, pairs: tuple[str, ...], **api: Any) -> None:
    """Create tenant TENANT_ID."""
    body = {"id": tenant_id, "name": name, "settings": parse_settings(pairs)}
    tenant = client(*_api(api)).call("POST", "/v1/admin/tenants", body)
    show(tenant, api["as_json"])


@tenants.command("list")
@api_options
def tenants_list(**api: Any) -> None:
    """Every tenant, by id."""
    hub, rows, cursor = client(*_api(api)), [], None
    while True:
        page = hub.call("GET", "/v1/admin/tenants", query={"limit": "100"} | ({"cursor": cursor} if cursor else {}))
        rows += page["tenants"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    show(rows, api["as_json"], rows, ("id", "name", "status", "enabled_plugins", "created_at"))


@tenants.command("show")
@click.argument("tenant_id")
@api_options
def tenants_show(tenant_id: str, **api: Any) -> None:
    show(client(*_api(api)).call("GET", f"/v1/admin/tenants/{path_part(tenant_id)}"), api["as_json"])


@tenants.command("suspend")
@click.argument("tenant_id")
@api_options
def tenants_suspend(tenant_id: str, **api: Any) -> None:
    """Suspend: webhooks answer 403 and store nothing; the tenant's keys stop working."""
    _set_status(tenant_id, "suspended", api)


@tenants.command("resume")
@click.argument("tenant_id")
@api_options
def tenants_resume(tenant_id: str, **api: Any) -> None:
    _set_status(tenant_id, "active", api)


def _set_status(tenant_id: str, status: str, api: dict[str, Any]) -> None:
    tenant = client(*_api(api)).call("PATCH", f"/v1/admin/tenants/{path_part(tenant_id)}", {"status": status})
    show(tenant, api["as_json"])


# -- plugins (tenant keys) -------------------------------------------------------------


@click.group()
def plugins() -> None:
    """Check the installed plugins offline (`check`), or list, enable, disable and
    configure the tenant's plugins through the hub's API (tenant-admin key)."""


@plugins.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins_check(as_json: bool) -> None:
    """Offline: load and validate every installed plugin as the hub does at start-up
    (SWITCHBOARD_PLUGINS honoured). Needs no hub, API key or AWS: run it in the hub's
    environment. Exit 0 when the hub would start with every plugin, 1 when not."""
    from switchboard_sdk.hookspecs import CONTRACT_VERSION  # here: the API commands need no SDK

    from .scaffold.check import COLUMNS, check_installed

    report = check_installed()
    if as_json:
        show(report.as_json(), True)
    else:
        allowed = ", ".join(sorted(report.allowlist)) if report.allowlist is not None else "(unset: all installed)"
        click.echo(f"switchboard-sdk plugin contract {CONTRACT_VERSION}; SWITCHBOARD_PLUGINS {allowed}")
        show([], False, [asdict(row) for row in report.rows], COLUMNS)
        for warning in report.warnings:
            click.echo(f"warning: {warning}", err=True)
        for problem in report.problems:
            click.echo(f"problem: {problem}", err=True)
    if not report.ok:
        raise click.exceptions.Exit(1)


@plugins.command("list")
@api_options
def plugins_list(**api: Any) -> None:
    """Installed plugins and whether this tenant enabled them."""
    listing = client(*_api(api)).call("GET", "/v1/plugins")
    show(listing, api["as_json"], listing["plugins"], ("name", "kind", "enabled", "configured", "summary"))


@plugins.command("show")
@click.argument("name")
@click.option("--schema", is_flag=True, help="Include the config's JSON Schema.")
@api_options
def plugins_show(name: str, schema: bool, **api: Any) -> None:
    """One plugin: its config (secrets redacted), webhook URLs and setup steps."""
    plugin = client(*_api(api)).call("GET", f"/v1/plugins/{path_part(name)}")
    if not schema and not api["as_json"]:
        plugin.pop("config_schema")
    show(plugin, api["as_json"])


CONFIG_OPTIONS = (
    click.option("--set", "pairs", multiple=True, metavar="FIELD=VALUE",
                 help="A config field; JSON values allowed (e.g. secrets='[\"whsec_...\"]')."),
    click.option("--config-file", type=click.File("r"), default=None, help="The whole config as JSON."),
    click.option("--secret", "secret_fields", multiple=True, metavar="FIELD",
                 help="Prompt for this field without echoing it (keeps it out of shell history)."),
    click.option("--max-attempts", type=click.IntRange(1, 100), default=None,
                 help="Connectors: delivery attempts before the dead-letter queue."),
)


def config_options(func: Any) -> Any:
    for option in reversed(CONFIG_OPTIONS):
        func = option(func)
    return func


def _config_body(pairs: tuple[str, ...], config_file: Any, secret_fields: tuple[str, ...],
                 max_attempts: int | None) -> dict[str, Any] | None:
    config: dict[str, Any] | None = json.load(config_file) if config_file else None
    if pairs or secret_fields:
        config = (config or {}) | parse_settings(pairs)
        for field in secret_fields:
            config[field] = click.prompt(field, hide_input=True)
    body = {"config": config, "max_delivery_attempts": max_attempts}
    return {k: v for k, v in body.items() if v is not None} or None


@plugins.command("enable")
@click.argument("name")
@config_options
@api_options
def plugins_enable(name: str, pairs: tuple[str, ...], config_file: Any, secret_fields: tuple[str, ...],
                   max_attempts: int | None, **api: Any) -> None:
    """Enable NAME (optionally with its config); prints webhook URLs and setup steps."""
    body = _config_body(pairs, config_file, secret_fields, max_attempts)
    _show_plugin(client(*_api(api)).call("POST", f"/v1/plugins/{path_part(name)}/enable", body), api["as_json"])


@plugins.command("configure")
@click.argument("name")
@config_options
@api_options
def plugins_configure(name: str, pairs: tuple[str, ...], config_file: Any, secret_fields: tuple[str, ...],
                      max_attempts: int | None, **api: Any) -> None:
    """Set NAME's config. --set merges into the stored config (secrets kept unless given)."""
    hub = client(*_api(api))
    body = _config_body(pairs, config_file, secret_fields, max_attempts) or {}
    if "config" in body and config_file is None:  # --set alone changes only the named fields
        stored = hub.call("GET", f"/v1/plugins/{path_part(name)}")["config"] or {}
        body["config"] = stored | body["config"]
    _show_plugin(hub.call("PUT", f"/v1/plugins/{path_part(name)}/config", body), api["as_json"])


@plugins.command("disable")
@click.argument("name")
@api_options
def plugins_disable(name: str, **api: Any) -> None:
    """Disable NAME; its config is kept for a later enable."""
    _show_plugin(client(*_api(api)).call("POST", f"/v1/plugins/{path_part(name)}/disable"), api["as_json"])


def _show_plugin(plugin: dict[str, Any], as_json: bool) -> None:
    if as_json:
        show(plugin, True)
        return
    click.echo(f"{plugin['name']} ({plugin['kind']}): {'enabled' if plugin['enabled'] else 'disabled'}")
    click.echo(f"config: {json.dumps(plugin['config'])}")
    for url in plugin["webhook_urls"]:
        click.echo(f"webhook URL: {url}")
    for number, step in enumerate(plugin["setup_steps"], 1):
        click.echo(f"  {number}. {step}")


# -- keys --------------------------------------------------------------------------------


@click.group()
def keys() -> None:
    """Issue, list and revoke API keys (tenant-admin key; --tenant with a platform key)."""


@keys.command("create")
@click.option("--scope", "scopes", multiple=True, type=SCOPES, required=True)
@click.option("--name", default="", help="What the key is for.")
@click.option("--expires-at", default=None, help="ISO 8601 with offset, e.g. 2027-01-01T00:00:00Z")
@click.option("--tenant", "tenant_id", default=None, help="With a platform key: issue a key of this tenant.")
@api_options
def keys_create(scopes: tuple[str, ...], name: str, expires_at: str | None, tenant_id: str | None,
                **api: Any) -> None:
    """Issue a key; the key itself is printed this once."""
    body = {"scopes": list(scopes), "name": name} | ({"expires_at": expires_at} if expires_at else {})
    path = f"/v1/admin/tenants/{path_part(tenant_id)}/keys" if tenant_id else (
        "/v1/admin/keys" if "platform-admin" in scopes else "/v1/keys")
    created = client(*_api(api)).call("POST", path, body)
    if api["as_json"]:
        show(created, True)
        return
    click.echo(f"key id {created['key_id']} ({', '.join(created['scopes'])})")
    click.echo(created["key"])
    click.echo("Store it now: it is not shown again.", err=True)


@keys.command("list")
@click.option("--platform", is_flag=True, help="List platform-admin keys (platform key).")
@api_options
def keys_list(platform: bool, **api: Any) -> None:
    listing = client(*_api(api)).call("GET", "/v1/admin/keys" if platform else "/v1/keys")
    show(listing, api["as_json"], listing["keys"], KEY_COLUMNS)


@keys.command("revoke")
@click.argument("key_id")
@click.option("--platform", is_flag=True, help="Revoke a platform-admin key (platform key).")
@api_options
def keys_revoke(key_id: str, platform: bool, **api: Any) -> None:
    """Revoke KEY_ID at once."""
    path = f"/v1/admin/keys/{path_part(key_id)}" if platform else f"/v1/keys/{path_part(key_id)}"
    show(client(*_api(api)).call("DELETE", path), api["as_json"])


# -- settings, audit, customers -------------------------------------------------------


@click.command()
@click.option("--set", "pairs", multiple=True, metavar="NAME=VALUE",
              help="Change a setting (name, public_base_url, message_retention_days, raw_retention_days, "
                   "language, time_zone).")
@api_options
def settings(pairs: tuple[str, ...], **api: Any) -> None:
    """Show the tenant's settings, or change them with --set."""
    hub = client(*_api(api))
    tenant = hub.call("PATCH", "/v1/settings", parse_settings(pairs)) if pairs else hub.call("GET", "/v1/settings")
    show(tenant, api["as_json"])


@click.command()
@click.option("--action", default=None, help="Only this action, e.g. plugin.configure")
@click.option("--limit", type=click.IntRange(1, 100), default=50, show_default=True)
@api_options
def audit(action: str | None, limit: int, **api: Any) -> None:
    """The tenant's audit log, newest first."""
    query = {"limit": str(limit)} | ({"action": action} if action else {})
    page = client(*_api(api)).call("GET", "/v1/audit", query=query)
    rows = [r | {"key": r["actor"]["key_id"], "ip": r["actor"]["source_ip"]} for r in page["records"]]
    show(page, api["as_json"], rows, ("at", "action", "target", "key", "ip"))


@click.group()
def customers() -> None:
    """Customers' personal data (tenant-admin key)."""


@customers.command("erase")
@click.argument("customer_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@api_options
def customers_erase(customer_id: str, yes: bool, **api: Any) -> None:
    """Erase CUSTOMER_ID's messages, identities, tickets' personal data and files."""
    if not yes:
        click.confirm(f"Erase everything about {customer_id}? This cannot be undone", abort=True)
    show(client(*_api(api)).call("DELETE", f"/v1/customers/{path_part(customer_id)}"), api["as_json"])


# -- what the hub set aside ----------------------------------------------------------------

ASIDE_COLUMNS = ("id", "kind", "at", "error", "reason", "names")
ASIDE_BATCH = 100  # ids per replay call (the API's limit)


@click.group()
def aside() -> None:
    """Stream records and stored objects the hub could not process (list: any tenant key;
    replay: tenant-admin key)."""


@aside.command("list")
@api_options
def aside_list(**api: Any) -> None:
    """Every set-aside entry of the key's tenant: what it names and why it failed."""
    hub, rows, cursor = client(*_api(api)), [], None
    while True:
        page = hub.call("GET", "/v1/stream/aside", query={"limit": "100"} | ({"cursor": cursor} if cursor else {}))
        rows += page["entries"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    show(rows, api["as_json"], [row | {"names": _names(row)} for row in rows], ASIDE_COLUMNS)


def _names(entry: dict[str, Any]) -> str:
    if entry.get("object_key"):
        return str(entry["object_key"])
    keys = entry.get("record_keys") or {}
    return " ".join(f"{name}={keys[name]}" for name in sorted(keys))


@aside.command("replay")
@click.option("--id", "ids", multiple=True, metavar="ID", help="Only this entry (repeat for several); default: all.")
@api_options
def aside_replay(ids: tuple[str, ...], **api: Any) -> None:
    """Run the stream (or stored-object) handler again on set-aside entries; those it
    takes are forgotten, those still failing stay with their reason."""
    hub = client(*_api(api))
    totals, results = {"replayed": 0, "still_failing": 0, "gone": 0}, []
    bodies = iter([{"ids": list(ids[i:i + ASIDE_BATCH])} for i in range(0, len(ids), ASIDE_BATCH)] if ids else [{}])
    body = next(bodies, None)
    while body is not None:
        report = hub.call("POST", "/v1/stream/aside/replay", body)
        totals = {k: n + report[k] for k, n in totals.items()}
        results += report["results"]
        # all of them: go on after the last entry looked at (those still failing stay behind)
        body = {"cursor": report["next_cursor"]} if not ids and report["next_cursor"] else next(bodies, None)
    if api["as_json"]:
        show(totals | {"results": results}, True)
        return
    click.echo(f"replayed {totals['replayed']}, still failing {totals['still_failing']}, gone {totals['gone']}")
    failing = [r for r in results if r["outcome"] == "still_failing"]
    if failing:
        show(failing, False, failing, ("id", "reason"))


# -- bootstrap (AWS credentials, no API key) ----------------------------------------------


def operator_table(table: str | None, aws_endpoint: str | None, state_dir: Path) -> tuple[str, str | None]:
    """The table (and endpoint) an operator command with AWS credentials works on: as given,
    else the local runtime's (``make run``'s state file; its emulator takes any credentials)."""
    local = state_dir / "demo.json"
    if table is None and local.exists():
        state = json.loads(local.read_text())
        table, aws_endpoint = state["table"], aws_endpoint or state["aws_endpoint"]
        for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            os.environ.setdefault(variable, "local")
    if table is None:
        raise click.UsageError("give --table (or SWITCHBOARD_TABLE)")
    return table, aws_endpoint


@click.command()
@click.option("--name", default="first platform key", show_default=True)
@click.option("--table", envvar="SWITCHBOARD_TABLE", default=None, help="The hub's table (env SWITCHBOARD_TABLE).")
@click.option("--aws-endpoint", envvar="SWITCHBOARD_AWS_ENDPOINT", default=None)
@click.option("--state-dir", type=click.Path(path_type=Path), default=STATE_DIR, hidden=True)
def bootstrap(name: str, table: str | None, aws_endpoint: str | None, state_dir: Path) -> None:
    """Issue a platform-admin key with your AWS credentials (the first key)."""
    from chalicelib.hub import utc_now
    from chalicelib.settings import Settings
    from chalicelib.storage.aws import AwsClients
    from chalicelib.tenancy.apikeys import ApiKeyInfo, ApiKeys
    from chalicelib.tenancy.audit import Actor, AuditLog

    table, aws_endpoint = operator_table(table, aws_endpoint, state_dir)
    db = AwsClients(region=Settings.from_env().region, endpoint=aws_endpoint).dynamodb
    audit = AuditLog(db, table, utc_now)

    def entry(info: ApiKeyInfo) -> dict[str, Any]:
        return audit.entry(None, Actor(key_id="aws", via="cli"), "key.create", f"key/{info.key_id}",
                           after=info.model_dump(mode="json"))[1]

    try:
        info, plain = ApiKeys(db, table, utc_now).create(None, ["platform-admin"], name=name, created_by="aws",
                                                         audit=entry)
    except Exception as err:  # credentials, table name, network: say which, no trace
        raise HubUnavailable(f"could not write the key to table {table}: {type(err).__name__}: {err}") from None
    click.echo(plain)
    click.echo(f"platform key {info.key_id} issued; export SWITCHBOARD_API_KEY=<the key above>", err=True)


def _api(api: dict[str, Any]) -> tuple[str | None, str | None, Path]:
    return api["api_url"], api["api_key"], api["state_dir"]


COMMANDS = (tenants, plugins, keys, settings, audit, customers, aside, bootstrap)
