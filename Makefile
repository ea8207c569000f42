# Switchboard developer commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test lint typecheck unit package schemas bench reliability clean \
	console console-check chromium screenshots publish-console widget

# The console (console/, Vite + React + TypeScript): `npm ci` from the lockfile when the
# lockfile changed (the stamp sits inside node_modules, so deleting it reinstalls too), then
# `vite build` into console/dist when a source changed. The local runtime serves the build.
NPM           := npm
CONSOLE_STAMP := console/node_modules/.installed-stamp
CONSOLE_BUILT := console/dist/index.html
CONSOLE_SRC   := $(shell find console/src console/public -type f 2>/dev/null) \
	console/index.html console/vite.config.ts console/tsconfig.json console/package.json

$(STAMP): pyproject.toml sdk/pyproject.toml plugins/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ./sdk -e ./plugins -e '.[dev]'
	touch $@

install: $(STAMP)

run: $(STAMP) console
	$(BIN)/switchboard dev

$(CONSOLE_STAMP): console/package-lock.json console/package.json
	@command -v $(NPM) >/dev/null 2>&1 || { echo "make: the console needs Node.js 20+ and npm" \
		"(Debian: apt-get install nodejs npm; or https://nodejs.org); '$(NPM)' was not found" >&2; exit 1; }
	cd console && $(NPM) ci --no-audit --no-fund
	touch $@

$(CONSOLE_BUILT): $(CONSOLE_STAMP) $(CONSOLE_SRC)
	cd console && npx --no-install vite build --logLevel warn
	touch $@

# The web chat widget (widget/: TypeScript, no dependencies of its own) is built with the
# console's toolchain (widget/node_modules links to console/node_modules) into
# chalicelib/widget/static/widget.js: the hub serves GET /widget.js from there, and
# `make package` stages it with chalicelib (docs/widget.md, "How it is served").
WIDGET_BUILT := chalicelib/widget/static/widget.js
WIDGET_SRC   := $(shell find widget/src -type f 2>/dev/null) widget/vite.config.ts widget/tsconfig.json

widget/node_modules: | $(CONSOLE_STAMP)
	ln -sfn ../console/node_modules $@

$(WIDGET_BUILT): $(WIDGET_SRC) | widget/node_modules
	cd widget && VITE_CONFIG_NATIVE_IGNORE_WARNING=true ./node_modules/.bin/vite build --config vite.config.ts
	touch $@

widget: $(WIDGET_BUILT)

console: $(CONSOLE_BUILT) $(WIDGET_BUILT)

# the console's and the widget's type-check and lint (part of `make test`)
console-check: $(CONSOLE_STAMP) | widget/node_modules
	cd console && npx --no-install tsc --noEmit -p tsconfig.json
	cd console && npx --no-install eslint --max-warnings 0 src
	cd widget && ./node_modules/.bin/tsc --noEmit -p tsconfig.json
	cd widget && ./node_modules/.bin/eslint --max-warnings 0 src

# Debian's chromium for the browser tests (tests/test_console_browser.py drives it with
# Playwright; never `playwright install`), and a CJK font so Chinese text renders (the
# Chinese UI, screenshots). Installed when missing, as root; `apt-get update` only if the
# install fails. Elsewhere, the browser tests skip with the reason unless CI is set.
BROWSER_PACKAGES = $$([ -x /usr/bin/chromium ] || echo chromium) \
	$$(fc-list :lang=zh 2>/dev/null | grep -q . || echo fonts-wqy-microhei)
chromium:
	@missing="$(BROWSER_PACKAGES)"; missing=$$(echo $$missing); \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		export DEBIAN_FRONTEND=noninteractive; echo "make: installing $$missing"; \
		apt-get install -y -q $$missing || { apt-get update -q && apt-get install -y -q $$missing; }; \
	elif [ -n "$$CI" ]; then echo "make: $$missing missing and cannot be installed (need root and apt-get)" >&2; exit 1; \
	else echo "make: $$missing missing (sudo apt-get install $$missing): the browser tests may skip" >&2; fi

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) console chromium
	$(BIN)/pytest -n 2 --dist loadgroup

test: lint typecheck console-check unit

# docs/images/console-*.png from the local runtime with seeded demo data
screenshots: $(STAMP) console chromium
	$(BIN)/python -m tools.screenshots docs/images

# upload console/dist to the stack's console bucket (docs/deploy.md): STACK=switchboard-dev
publish-console: $(STAMP) console
	$(BIN)/python -m tools.console_publish --stack $(or $(STACK),switchboard-dev)

schemas: $(STAMP)
	$(BIN)/switchboard schemas docs/schemas

# EXTRA_PLUGINS: third-party plugin wheels to deploy too, space-separated
# (make package EXTRA_PLUGINS="dist/acme-0.1.0-py3-none-any.whl other.whl")
package: $(STAMP) widget
	$(BIN)/python -m tools.packaging $(foreach wheel,$(EXTRA_PLUGINS),--plugin-wheel $(wheel))

bench: $(STAMP) console
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/channels.py
	$(BIN)/python benchmarks/delivery.py
	$(BIN)/python benchmarks/outbound.py
	$(BIN)/python benchmarks/workflow.py
	$(BIN)/python benchmarks/console.py

# the delivery reliability test alone (1,000 events across 50 tickets through failures,
# then dead letters replayed; about three minutes); `make test` runs it too
reliability: $(STAMP)
	$(BIN)/pytest tests/test_reliability.py

clean:
	rm -rf dist build .switchboard .pytest_cache .mypy_cache .ruff_cache
