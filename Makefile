# The project's commands. `make run` and `make test` are the two a newcomer needs (see README).

# The first interpreter that is Python 3.12 or newer; .python-version picks 3.12 under pyenv.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The demo receiver's port; run_demo picks PORT + 1 when it is empty.
RECEIVER_PORT ?=

.PHONY: install run test lint format lock bench clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements/dev.lock
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed (python3 --version)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.lock
	@touch $@

# The inbox's e-mails (printed on the console here) link to the server `make run` starts.
run: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
# The demo: seeded, then the server, a webhook worker, a receiver for the demo service's webhooks
# and the scheduled commands, all stopped by one Ctrl-C (config/accounts/management/commands/run_demo.py).
run: install
	@DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --no-input -v 0
	@DEBUG=$${DEBUG:-true} $(BIN)/python manage.py run_demo --host $(HOST) --port $(PORT) \
		$(if $(RECEIVER_PORT),--receiver-port $(RECEIVER_PORT))

# The TypeScript Standard Webhooks library, for the test that verifies our signatures with it.
SIGNATURE_CHECK := tests/outbound/typescript

$(SIGNATURE_CHECK)/node_modules/.installed: $(SIGNATURE_CHECK)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(SIGNATURE_CHECK) --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the TypeScript signature test will be skipped (apt-get install nodejs npm)"; fi

test: install $(SIGNATURE_CHECK)/node_modules/.installed
	@$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy .

format: install
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

# Re-resolve the pinned dependencies from pyproject.toml.
lock: install
	@$(BIN)/python -m pip install --quiet uv
	@$(BIN)/uv pip compile pyproject.toml --python-version 3.12 -q -o requirements/base.lock
	@$(BIN)/uv pip compile pyproject.toml --python-version 3.12 -q --extra dev -o requirements/dev.lock

# The performance benchmark (docs/benchmarks.md): PostgreSQL and Redis on 127.0.0.1, wrk installed
# when absent. Parts: make bench BENCH_ARGS="--only http" (or "--only scale", "--rows 10000").
bench: install
	@command -v wrk >/dev/null 2>&1 || { SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get install -y wrk || { $$SUDO apt-get update && $$SUDO apt-get install -y wrk; }; }
	@$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache staticfiles $(SIGNATURE_CHECK)/node_modules
