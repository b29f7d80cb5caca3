# The two commands of the README: `make demo` (the main job on the embedded PostgreSQL) and `make test`.
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= 1

PREFECT_UI_URL ?= http://127.0.0.1:4200
.PHONY: install demo demo-manual ui test lint db-down

$(BIN)/tenant-migrate: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/tenant-migrate

demo: install
	$(BIN)/tenant-migrate demo --scale $(SCALE)

ui: install
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200

demo-manual: install
	$(BIN)/tenant-migrate db up
	-$(BIN)/tenant-migrate demo-db --scale $(SCALE) --name whatsapp_manual  # exists already: go on with it
	PREFECT_API_URL=$(PREFECT_UI_URL)/api $(BIN)/tenant-migrate migrate --approval manual \
		--dsn postgresql://postgres@127.0.0.1:54329/whatsapp_manual

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

db-down: install
	$(BIN)/tenant-migrate db down
