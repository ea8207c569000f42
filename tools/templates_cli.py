"""``switchboard templates``: the reply templates (话术库) through the API.

``list``, ``show CODE`` and ``render CODE --ticket ID`` for anyone who reads the
tenant; ``create``, ``update``, ``delete``, ``import`` for tenant admins and
supervisors. Calls go as the signed-in agent (``switchboard login``) or with
``--api-key``. ``create --file`` and ``update --file`` take a JSON file
(``{"code", "title", "texts": {"en": "...", "zh-CN": "..."}, "tags"}``); ``update``
sends the version in the file, else the version it reads first. ``import FILE.csv``
sends a UTF-8 CSV file (``code,title,language,text,tags``; Excel's "CSV UTF-8" works)
and changes nothing when a row is wrong, listing the rows; ``export`` writes the
same format, safe to open in a spreadsheet. Exit codes: 0 done, 1 refused, 2 usage,
3 hub unreachable or 5xx.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .admin_cli import path_part, show
from .agent_cli import agent_client, agent_options

TEMPLATE_COLUMNS = ("code", "title", "languages", "tags", "version")


@click.group()
def templates() -> None:
    """Reply templates: list, show, create, update, delete, import/export CSV, render for a ticket."""


def _client(options: dict[str, Any]) -> Any:
    return agent_client(options["api_url"], options["api_key"], options["session_file"], options["state_dir"])


def _path(code: str) -> str:
    return f"/v1/templates/{path_part(code)}"


@templates.command("list")
@click.option("--tag", default=None, help="Only templates with this tag.")
@agent_options
def templates_list(tag: str | None, **options: Any) -> None:
    """Every template, by code."""
    page = _client(options).call("GET", "/v1/templates", query={"tag": tag} if tag else None)
    rows = [t | {"languages": list(t["texts"])} for t in page["templates"]]
    show(page, options["as_json"], rows, TEMPLATE_COLUMNS)


@templates.command("show")
@click.argument("code")
@agent_options
def templates_show(code: str, **options: Any) -> None:
    """A template with each language's text."""
    template = _client(options).call("GET", _path(code))
    if options["as_json"]:
        click.echo(json.dumps(template, indent=2, ensure_ascii=False))
        return
    for name in ("code", "title", "tags", "version", "updated_at", "updated_by"):
        value = template.get(name)
        click.echo(f"{name}: {', '.join(value) if isinstance(value, list) else value}")
    for language, text in template["texts"].items():
        click.echo(f"\n[{language}]\n{text}")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise click.BadParameter(f"{path}: not a readable JSON file ({err})", param_hint="--file") from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path}: a JSON object is needed", param_hint="--file")
    return data


FILE = click.option("--file", "file", type=click.Path(path_type=Path, exists=True, dir_okay=False), required=True,
                    help='JSON: {"code", "title", "texts": {"en": "..."}, "tags": [...]}')


@templates.command("create")
@FILE
@agent_options
def templates_create(file: Path, **options: Any) -> None:
    """A new template from a JSON file."""
    body = {k: v for k, v in _read_json(file).items() if k in ("code", "title", "texts", "tags")}
    show(_client(options).call("POST", "/v1/templates", body), options["as_json"])


@templates.command("update")
@click.argument("code")
@FILE
@agent_options
def templates_update(code: str, file: Path, **options: Any) -> None:
    """Replace a template's title, texts and tags with a JSON file's."""
    data, client = _read_json(file), _client(options)
    version = data.get("version") or client.call("GET", _path(code))["version"]
    body = {k: v for k, v in data.items() if k in ("title", "texts", "tags")} | {"version": version}
    show(client.call("PUT", _path(code), body), options["as_json"])


@templates.command("delete")
@click.argument("code")
@click.option("--version", type=click.IntRange(1), default=None, help="Only if it is still at this version.")
@agent_options
def templates_delete(code: str, version: int | None, **options: Any) -> None:
    """Delete a template (refused while a macro replies with it)."""
    gone = _client(options).call("DELETE", _path(code), query={"version": str(version)} if version else None)
    if options["as_json"]:
        click.echo(json.dumps(gone, indent=2, ensure_ascii=False))
        return
    click.echo(f"deleted {gone['code']} (version {gone['version']})")


@templates.command("import")
@click.argument("csv_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Also delete the templates the file leaves out.")
@agent_options
def templates_import(csv_file: Path, replace: bool, **options: Any) -> None:
    """Create and update templates from a CSV file (checked whole first: a bad row changes nothing)."""
    try:
        text = csv_file.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise click.BadParameter(f"{csv_file} is not UTF-8: in Excel, Save As → CSV UTF-8",
                                 param_hint="CSV_FILE") from None
    report = _client(options).call("POST", "/v1/templates/import", {"csv": text},
                                   query={"mode": "replace" if replace else "merge"})
    if options["as_json"]:
        click.echo(json.dumps(report, indent=2))
        return
    for change in ("created", "updated", "deleted"):
        codes = report[change]
        click.echo(f"{change}: {len(codes)}" + (f" ({', '.join(codes[:20])}{' …' if len(codes) > 20 else ''})"
                                                 if codes else ""))
    click.echo(f"unchanged: {report['unchanged']}")


@templates.command("export")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the CSV here (default: print it).")
@agent_options
def templates_export(output: Path | None, **options: Any) -> None:
    """Every template as CSV (one row per language), as `import` reads it."""
    from chalicelib.workflow.template_csv import export_csv
    from chalicelib.workflow.templates import ReplyTemplate

    page = _client(options).call("GET", "/v1/templates")
    text = export_csv(ReplyTemplate.model_validate(t) for t in page["templates"])
    if output is None:
        click.echo(text.removeprefix("\ufeff"), nl=False)
        return
    output.write_bytes(text.encode("utf-8"))  # with its byte-order mark: Excel reads it as UTF-8
    click.echo(f"wrote {len(page['templates'])} template(s) to {output}")


@templates.command("render")
@click.argument("code")
@click.option("--ticket", "ticket_id", required=True, help="The ticket to fill it in for.")
@click.option("--language", default=None, help="Default: the ticket's, then the tenant's.")
@agent_options
def templates_render(code: str, ticket_id: str, language: str | None, **options: Any) -> None:
    """The template filled in for a ticket and you (nothing is sent)."""
    body = {"ticket_id": ticket_id} | ({"language": language} if language else {})
    rendered = _client(options).call("POST", f"{_path(code)}/render", body)
    if options["as_json"]:
        click.echo(json.dumps(rendered, indent=2, ensure_ascii=False))
        return
    click.echo(rendered["text"])


COMMANDS = [templates]
