# The two commands of the README: `make demo` (the main job on the embedded PostgreSQL) and `make test`.
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= 1

PREFECT_UI_URL ?= http://127.0.0.1:4200
.PHONY: install lock demo demo-manual ui test system-packages lint db-down

# Installs exactly requirements.lock (every package pinned, every file checked by its sha256), then the project
# itself; `make lock` re-resolves the lock from pyproject.toml (docs/installing.md).
$(BIN)/tenant-migrate: pyproject.toml requirements.lock
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

install: $(BIN)/tenant-migrate

# LOCK_ARGS="--upgrade-package NAME" moves one package to its newest allowed version, LOCK_ARGS=--upgrade all
lock: install
	$(BIN)/uv pip compile pyproject.toml requirements-build.in --extra dev --generate-hashes --universal \
		--python-version 3.11 --quiet --custom-compile-command "make lock" -o requirements.lock $(LOCK_ARGS)

demo: install
	$(BIN)/tenant-migrate demo --scale $(SCALE)

ui: install
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200

demo-manual: install
	$(BIN)/tenant-migrate db up
	-$(BIN)/tenant-migrate demo-db --scale $(SCALE) --name whatsapp_manual  # exists already: go on with it
	PREFECT_API_URL=$(PREFECT_UI_URL)/api $(BIN)/tenant-migrate migrate --approval manual \
		--dsn postgresql://postgres@127.0.0.1:54329/whatsapp_manual

# Each test worker starts its own private server (the embedded one, or $TENANT_MIGRATE_PG_BIN's); one shared
# server (TEST_DATABASE_URL) runs them one at a time: the tests create cluster-wide roles and a template database.
TEST_WORKERS ?= 2
test: install system-packages
	$(BIN)/pytest --durations=15 $(if $(TEST_DATABASE_URL),,-n $(TEST_WORKERS) --dist loadfile)

# Debian packages some tests run: chromium (the browser test drives the Prefect UI in it), pgbouncer (the pooler
# tests). Installed when missing where make runs as root with apt-get; elsewhere their tests skip, saying why.
# Citus is not among them (no Debian package): its tests skip where it is not installed.
SYSTEM_PACKAGES := chromium pgbouncer
system-packages:
	@.ci/install-system-packages $(SYSTEM_PACKAGES)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

db-down: install
	$(BIN)/tenant-migrate db down
