# The two commands of the README: `make demo` (the main job on the embedded PostgreSQL) and `make test`.
VENV := .venv
BIN := $(VENV)/bin
SCALE ?= 1

.PHONY: install demo test lint db-down clean

$(BIN)/tenant-migrate: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/tenant-migrate

demo: install
	$(BIN)/tenant-migrate demo --scale $(SCALE)

test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .

db-down: install
	$(BIN)/tenant-migrate db down
