"""``switchboard assistant evaluate``: an assistant's figures on labelled CSV files.

``--train FILE --test FILE`` (CSV with columns ``text,category``): the training file
becomes a knowledge base of intents (one per category, its rows as examples, in file
order; a category's characters that an intent name cannot have become ``_``), trained
through the plugin registry exactly as the hub's trainer does (``registry.train`` →
``registry.load_model`` → ``registry.classify``); the threshold is the one training
chose from the training file alone for ``--precision``. Prints on
stdout, four decimals each::

    accuracy=…                 top intent = category, over every test message
    threshold=…                the confidence the model answers from
    coverage_at_precision=…    share of test messages whose confidence ≥ threshold
    precision_at_threshold=…   accuracy over those (nan when none is answered)

Progress goes to stderr. ``benchmarks/assistant.py`` uses the same functions.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click
from switchboard_sdk.assistant import AssistantQuery, IntentDefinition, KnowledgeBase, TrainedModel, intent_name
from switchboard_sdk.errors import SwitchboardError
from switchboard_sdk.registry import PluginRegistry

Labelled = list[tuple[str, str]]  # (text, category)
TENANT = "evaluation"


def read_labelled(path: Path) -> Labelled:
    """The ``text,category`` rows of a CSV file (a header row names the columns)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"text", "category"} <= set(reader.fieldnames):
            raise click.UsageError(f"{path}: expected the columns text,category")
        return [(row["text"], row["category"]) for row in reader if row["text"] and row["category"]]




def knowledge_of(rows: Labelled, tenant_id: str = TENANT) -> KnowledgeBase:
    """One intent per category, its rows as examples, in the order they come."""
    examples: dict[str, list[str]] = {}
    for text, category in rows:
        examples.setdefault(intent_name(category), []).append(text)
    intents = [IntentDefinition(name=name, examples=texts) for name, texts in examples.items()]
    return KnowledgeBase(tenant_id=tenant_id, version=1, intents=intents)


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    threshold: float
    coverage: float
    precision: float

    def lines(self) -> list[str]:
        return [f"accuracy={self.accuracy:.4f}", f"threshold={self.threshold:.4f}",
                f"coverage_at_precision={self.coverage:.4f}", f"precision_at_threshold={self.precision:.4f}"]


def score(registry: PluginRegistry, plugin: str, trained: TrainedModel, test: Sequence[tuple[str, str]],
          precision: float) -> Evaluation:
    """Classify every test message with the trained model, as the hub would."""
    config = registry.validate_config(plugin, {"precision": precision})
    handle = registry.load_model(plugin, trained.data, config)
    right = answered = answered_right = 0
    for text, category in test:
        top = registry.classify(plugin, handle, AssistantQuery(tenant_id=TENANT, text=text), config).top
        hit = top is not None and top.intent == intent_name(category)
        right += hit
        if top is not None and top.confidence >= trained.threshold:
            answered += 1
            answered_right += hit
    return Evaluation(accuracy=right / len(test), threshold=trained.threshold, coverage=answered / len(test),
                      precision=answered_right / answered if answered else float("nan"))


def train(registry: PluginRegistry, plugin: str, rows: Labelled, precision: float) -> TrainedModel:
    config = registry.validate_config(plugin, {"precision": precision})
    return registry.train(plugin, knowledge_of(rows), config)


@click.group()
def assistant() -> None:
    """The assistant's model: evaluate it on labelled data."""


@assistant.command()
@click.option("--train", "train_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV text,category to train on (the threshold is chosen from it alone).")
@click.option("--test", "test_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV text,category to measure on.")
@click.option("--precision", default=0.97, show_default=True, type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="The precision the threshold is chosen for.")
@click.option("--plugin", default="faq", show_default=True, help="The assistant plugin to evaluate.")
def evaluate(train_file: Path, test_file: Path, precision: float, plugin: str) -> None:
    """Train on --train as the hub does and print accuracy, threshold, coverage and precision on --test."""
    from switchboard_sdk import build_plugin_manager

    registry = build_plugin_manager()
    info = registry.info(plugin, "assistant")
    if info is None:
        raise click.UsageError(f"no assistant plugin named {plugin!r} is installed")
    rows, test = read_labelled(train_file), read_labelled(test_file)
    if not test:
        raise click.UsageError(f"{test_file}: no rows to measure on")
    click.echo(f"training {plugin} on {len(rows)} examples of {len({c for _, c in rows})} intents…", err=True)
    try:
        trained = train(registry, plugin, rows, precision)
        click.echo(f"classifying {len(test)} test messages…", err=True)
        result = score(registry, plugin, trained, test, precision)
    except SwitchboardError as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(1)
    for line in result.lines():
        click.echo(line)
