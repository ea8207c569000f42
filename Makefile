# Switchboard developer commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck unit package schemas bench reliability clean

$(STAMP): pyproject.toml sdk/pyproject.toml plugins/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ./sdk -e ./plugins -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/switchboard dev

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

# two workers (this machine has two cores), tests handed out one by one so the long
# isolation and scope matrices spread over both; a module-scoped fixture (a local runtime, a
# built wheel) may be made once per worker, which costs less than an idle worker
unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist load

test: lint typecheck unit

schemas: $(STAMP)
	$(BIN)/switchboard schemas docs/schemas

# EXTRA_PLUGINS: third-party plugin wheels to deploy too, space-separated
# (make package EXTRA_PLUGINS="dist/acme-0.1.0-py3-none-any.whl other.whl")
package: $(STAMP)
	$(BIN)/python -m tools.packaging $(foreach wheel,$(EXTRA_PLUGINS),--plugin-wheel $(wheel))

bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/channels.py
	$(BIN)/python benchmarks/delivery.py
	$(BIN)/python benchmarks/outbound.py
	$(BIN)/python benchmarks/workflow.py

# the delivery reliability test alone (1,000 events across 50 tickets through failures,
# then dead letters replayed; about three minutes); `make test` runs it too
reliability: $(STAMP)
	$(BIN)/pytest tests/test_reliability.py

clean:
	rm -rf dist build .switchboard .pytest_cache .mypy_cache .ruff_cache
