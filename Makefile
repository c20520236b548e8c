# Quartier – the two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export QUARTIER_DATABASE_URL ?= sqlite:///var/quartier.sqlite3

.PHONY: run test install lint diagram clean

$(BIN)/quartier: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/quartier

install: $(BIN)/quartier

## run: set up, migrate, seed the ZiQ programme and demo accounts, start the main job
run: install
	$(BIN)/quartier db upgrade
	$(BIN)/quartier seed --if-empty
	QUARTIER=$(BIN)/quartier bash scripts/journey.sh

## test: the whole test suite (PostgreSQL tests need the server at 127.0.0.1:5432)
test: install
	$(BIN)/pytest -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check .

diagram: install
	$(BIN)/quartier workflow diagram

clean:
	rm -rf $(VENV) var
