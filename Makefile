# The two commands: `make run` and `make test`. Both need only python3 (3.11+) on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
SCALE ?= region
# The suite runs in parallel, one worker per core (pytest-xdist).
PYTEST_ARGS ?= -n auto
BENCH ?=
export FLASK_APP := wsgi:app
# `make run`, `make test` and `make bench` are for developers' machines: production is the default elsewhere.
export PORTAL_ENV ?= development

.PHONY: run test install install-test db demo bench assets ci ci-check clean lock

$(BIN)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

install: $(BIN)/.installed
install-test: $(BIN)/.installed-test

db: install  ## upgrade the database schema (DATABASE_URL, default SQLite under instance/)
	$(BIN)/flask db upgrade

demo: db  ## (re)load the demo West Midlands region: make demo SCALE=small|region|large
	$(BIN)/flask demo load --scale $(SCALE) --replace

run: db  ## set everything up and serve the demo portal on http://$(HOST):$(PORT), with the notifications worker
	$(BIN)/flask demo load --scale $(SCALE) --if-empty
	$(BIN)/flask demo sign-ins
	@echo "Serving the portal on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	@echo "Emails it sends are kept, not sent: read them in the mail viewer, http://$(HOST):$(PORT)/development/mail"
	PORTAL_BASE_URL=$${PORTAL_BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/python scripts/serve.py -- \
		-c gunicorn.conf.py --bind $(HOST):$(PORT) --workers $(WORKERS) --threads 4 --access-logfile - wsgi:app

test: install-test  ## set everything up and run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install-test  ## measure the speed targets; writes docs/performance.md (one: make bench BENCH=contention_bench)
	$(BIN)/python -m bench $(BENCH)

assets:  ## rebuild portal/static/ from assets/ and the govuk-frontend npm package (needs Node 20+ and npm)
	bash scripts/build_assets.sh

ci:  ## what CI runs (as root on Debian 12)
	bash .ci/run

ci-check:  ## CI set-up without the suite
	CI_DRY_RUN=1 bash .ci/run

lock:  ## re-pin constraints.txt from a fresh environment (after changing pyproject.toml)
	rm -rf /tmp/portal-lock-venv && $(PYTHON) -m venv /tmp/portal-lock-venv
	/tmp/portal-lock-venv/bin/pip install --quiet -e '.[test]'
	/tmp/portal-lock-venv/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
