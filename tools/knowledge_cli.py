"""``switchboard knowledge``: the tenant's knowledge base and its assistant model, through the API.

``import FILE.csv|FILE.json [--replace]`` sends the file (CSV ``text,category`` for
labelled examples, or ``id,language,question,answer[,intent]`` for FAQ articles; JSON
as ``export`` writes it), checked whole by the hub first: a bad file changes nothing
and the rows at fault are listed. ``export`` writes the JSON; ``status`` shows the
model (state, versions, threshold, figures, the last error); ``train`` trains again.
Writes need a tenant admin. Exit codes: 0 done, 1 refused, 2 usage, 3 hub unreachable or 5xx.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .agent_cli import agent_client, agent_options


@click.group()
def knowledge() -> None:
    """The knowledge base (FAQ articles, intents) and the assistant's model: import, export, status, train."""


def _client(options: dict[str, Any]) -> Any:
    """The API client: the signed-in agent's or the key's; a caller may hand one in (``obj={"client": ...}``)."""
    given = (click.get_current_context().obj or {}).get("client")
    if given is not None:
        return given
    return agent_client(options["api_url"], options["api_key"], options["session_file"], options["state_dir"])


def _body(path: Path, replace: bool) -> dict[str, Any]:
    """The import request: a JSON file as it is, a CSV file read into the same shape here."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise click.BadParameter(f"{path} is not UTF-8: in Excel, Save As → CSV UTF-8", param_hint="FILE") from None
    if path.suffix.lower() == ".json" or text.lstrip("\ufeff \t\r\n").startswith("{"):
        try:
            data = json.loads(text.lstrip("\ufeff"))
        except ValueError as err:
            raise click.BadParameter(f"{path}: not JSON ({err})", param_hint="FILE") from None
        if not isinstance(data, dict):
            raise click.BadParameter(f"{path}: a JSON object is needed", param_hint="FILE")
        return data | ({"replace": True} if replace else {})
    return _from_csv(text, replace)


def _from_csv(text: str, replace: bool) -> dict[str, Any]:
    from switchboard_sdk import InvalidInput

    from chalicelib.assistant.knowledge_import import parse_csv

    try:
        parsed = parse_csv(text, replace)
    except InvalidInput as err:
        rows = "".join(f"\n  {f['field']}: {f['message']}" for f in err.fields)
        raise click.ClickException(f"nothing was imported: {err}{rows}") from None
    return {"articles": [a.model_dump(exclude={"updated_at"}) for a in parsed.articles],
            "intents": [i.model_dump(exclude={"updated_at"}) for i in parsed.intents], "replace": replace}


@knowledge.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--replace", is_flag=True, help="Also delete the articles and intents the file leaves out.")
@agent_options
def knowledge_import(file: Path, replace: bool, **options: Any) -> None:
    """Import articles or labelled examples from FILE (CSV or JSON); training follows by itself."""
    report = _client(options).call("POST", "/v1/knowledge/import", _body(file, replace))
    if options["as_json"]:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"articles: {report['articles']}\nintents: {report['intents']}\nexamples: {report['examples']}\n"
               f"knowledge_version: {report['knowledge_version']} (training is queued; see `switchboard knowledge "
               "status`)")


@knowledge.command("export")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the JSON here (default: print it).")
@agent_options
def knowledge_export(output: Path | None, **options: Any) -> None:
    """The whole knowledge base as JSON, as `import` reads it."""
    data = _client(options).call("GET", "/v1/knowledge/export")
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    click.echo(f"wrote {len(data['articles'])} article(s) and {len(data['intents'])} intent(s) to {output}")


@knowledge.command("status")
@agent_options
def knowledge_status(**options: Any) -> None:
    """The assistant's model: training state, knowledge and model versions, threshold, figures."""
    status = _client(options).call("GET", "/v1/knowledge/model")
    if options["as_json"]:
        click.echo(json.dumps(status, indent=2))
        return
    for name in ("assistant", "state", "knowledge_version", "model_version", "trained_at", "threshold",
                 "effective_threshold", "labels"):
        click.echo(f"{name}: {status[name]}")
    for name, value in sorted(status["figures"].items()):
        click.echo(f"{name}: {value:g}")
    if status["error"]:
        click.echo(f"error: {status['error']}")


@knowledge.command("train")
@agent_options
def knowledge_train(**options: Any) -> None:
    """Train the model again from the current knowledge base (asynchronously)."""
    queued = _client(options).call("POST", "/v1/knowledge/train", {})
    if options["as_json"]:
        click.echo(json.dumps(queued, indent=2))
        return
    click.echo(f"training queued for knowledge version {queued['knowledge_version']}")
