"""Benchmark of the ``faq`` assistant on BANKING77's training split and a Chinese knowledge base.

Prints ``name=value`` lines on stdout (progress on stderr):

``accuracy``, ``threshold``, ``coverage_at_precision``, ``precision_at_threshold``
    ``switchboard assistant evaluate``'s four figures (tools/assistant_cli.py, the same
    functions) with the model trained on four fifths of ``benchmarks/data/banking77/train.csv``
    and measured on the other fifth: each intent's rows shuffled with a fixed seed, every
    fifth held out. The threshold is chosen for ``--precision`` (0.97) from the four fifths.
``classify_us_p50``
    Median time of one ``registry.classify`` on a held-out message (the model loaded).
``train_seconds``, ``train_cpu_seconds``
    Wall and CPU time of training on the whole file (10,003 examples, 77 intents),
    cross-validation for the threshold included: what the trainer function spends per
    knowledge-base change (on a busy machine the wall time is the larger, the CPU time
    is what one Lambda core would take).
``assistant_cold_start_ms``
    A fresh Python process: import the plugin registry, load the model from its bytes and
    classify one message (numpy's import included), median of a few runs, minus nothing.
``model_bytes``
    Size of the stored model (what the hub keeps in S3 and the assistant function reads).
``zh_accuracy`` … ``zh_precision_at_threshold``
    The four figures on ``tests/data/assistant_zh`` (15 intents, written for the project:
    its SOURCE.md), trained on ``train.csv`` and measured on ``test.csv``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BANKING77 = ROOT / "benchmarks" / "data" / "banking77" / "train.csv"
CHINESE = ROOT / "tests" / "data" / "assistant_zh"
PLUGIN = "faq"
SEED = 2020
COLD_RUNS = 3
COLD_START = """
import sys, time
started = time.perf_counter()
from switchboard_sdk import build_plugin_manager
from switchboard_sdk.assistant import AssistantQuery
registry = build_plugin_manager(allowlist={"faq"})
config = registry.validate_config("faq", {})
model = registry.load_model("faq", open(sys.argv[1], "rb").read(), config)
registry.classify("faq", model, AssistantQuery(tenant_id="t", text="my card has not arrived yet"), config)
print((time.perf_counter() - started) * 1000)
"""

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from switchboard_sdk import build_plugin_manager  # noqa: E402
from switchboard_sdk.assistant import AssistantQuery  # noqa: E402
from switchboard_sdk.registry import PluginRegistry  # noqa: E402

from tools.assistant_cli import Labelled, read_labelled, score, train  # noqa: E402


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def held_out(rows: Labelled) -> tuple[Labelled, Labelled]:
    """Four fifths to train on and a fifth to measure on, per intent, in a seeded order."""
    by_intent: dict[str, list[str]] = {}
    for text, category in rows:
        by_intent.setdefault(category, []).append(text)
    rng = random.Random(SEED)
    kept: Labelled = []
    held: Labelled = []
    for category in sorted(by_intent):
        texts = by_intent[category][:]
        rng.shuffle(texts)
        for n, text in enumerate(texts):
            (held if n % 5 == 0 else kept).append((text, category))
    return kept, held


def classify_us_p50(registry: PluginRegistry, data: bytes, texts: list[str]) -> float:
    config = registry.validate_config(PLUGIN, {})
    model = registry.load_model(PLUGIN, data, config)
    timings = []
    for text in texts:
        query = AssistantQuery(tenant_id="bench", text=text)
        started = time.perf_counter()
        registry.classify(PLUGIN, model, query, config)
        timings.append((time.perf_counter() - started) * 1e6)
    return statistics.median(timings)


def cold_start_ms(data: bytes) -> float:
    with tempfile.NamedTemporaryFile(suffix=".faq") as handle:
        handle.write(data)
        handle.flush()
        runs = [float(subprocess.run([sys.executable, "-c", COLD_START, handle.name], check=True,
                                     capture_output=True, text=True, cwd=ROOT).stdout) for _ in range(COLD_RUNS)]
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precision", type=float, default=0.97)
    args = parser.parse_args(argv)
    registry = build_plugin_manager(allowlist={PLUGIN})
    rows = read_labelled(BANKING77)
    kept, held = held_out(rows)
    log(f"training on {len(kept)} BANKING77 examples, measuring on {len(held)}…")
    trained = train(registry, PLUGIN, kept, args.precision)
    figures = score(registry, PLUGIN, trained, held, args.precision)
    lines = figures.lines()
    lines.append(f"classify_us_p50={classify_us_p50(registry, trained.data, [t for t, _ in held[:500]]):.0f}")
    log(f"training on all {len(rows)} examples…")
    started, cpu = time.perf_counter(), time.process_time()
    full = train(registry, PLUGIN, rows, args.precision)
    lines.append(f"train_seconds={time.perf_counter() - started:.1f}")
    lines.append(f"train_cpu_seconds={time.process_time() - cpu:.1f}")
    lines.append(f"assistant_cold_start_ms={cold_start_ms(full.data):.0f}")
    lines.append(f"model_bytes={len(full.data)}")
    log("the Chinese knowledge base…")
    zh = train(registry, PLUGIN, read_labelled(CHINESE / "train.csv"), args.precision)
    zh_figures = score(registry, PLUGIN, zh, read_labelled(CHINESE / "test.csv"), args.precision)
    lines += [f"zh_{line}" for line in zh_figures.lines()]
    print("\n".join(lines), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
