# Quartier – the two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export QUARTIER_DATABASE_URL ?= sqlite:///var/quartier.sqlite3

.PHONY: run journey test browser clamav bench install lint wheel-smoke diagram clean

$(BIN)/quartier: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/quartier

install: $(BIN)/quartier

## run: set up, migrate, seed ZiQ with demo accounts, then serve the API with a local mail
## catcher and the delivery/reminder worker in the background (Ctrl-C stops all three)
run: install
	$(BIN)/quartier db upgrade
	$(BIN)/quartier seed --if-empty
	$(BIN)/quartier mail catch --background
	@$(BIN)/quartier worker > var/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; $(BIN)/quartier mail catch --stop >/dev/null 2>&1' EXIT INT TERM; \
	$(BIN)/quartier serve --host $${HOST:-127.0.0.1} --port $${PORT:-8000}

## journey: the whole ZiQ journey from the command line against the configured database
journey: install
	$(BIN)/quartier db upgrade
	$(BIN)/quartier seed --if-empty
	QUARTIER=$(BIN)/quartier bash scripts/journey.sh

## test: the whole test suite (PostgreSQL tests need the server at 127.0.0.1:5432)
test: install browser clamav
	$(BIN)/pytest -n 2 --dist loadfile

## browser: Debian's Chromium for the browser tests (tests/journeys/test_docs_page.py), installed
## only if /usr/bin/chromium is missing and only as root; with CI=true a missing one is an error
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	elif [ "$${CI:-}" = true ]; then \
	  echo "make browser: /usr/bin/chromium is missing and only root can install it" >&2; exit 1; \
	else \
	  echo "make browser: /usr/bin/chromium is missing (as root: apt-get install chromium);" \
	    "the browser tests skip" >&2; \
	fi

## clamav: Debian's clamd (clamav-daemon) for the virus-scan tests (tests/workflow/test_scanner.py
## starts its own clamd with its own signatures) and libmagic for the type of an upload; installed
## only if missing and only as root; with CI=true a missing one is an error
clamav:
	@if [ -x /usr/sbin/clamd ] && ldconfig -p | grep -q libmagic.so.1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y clamav-daemon libmagic1; \
	elif [ "$${CI:-}" = true ]; then \
	  echo "make clamav: /usr/sbin/clamd or libmagic1 is missing and only root can install them" >&2; exit 1; \
	else \
	  echo "make clamav: /usr/sbin/clamd is missing (as root: apt-get install clamav-daemon" \
	    "libmagic1); the clamd tests skip" >&2; \
	fi

## bench: the five benchmarks of BENCHMARKS.md, one table each (several minutes; PostgreSQL needed)
bench: install
	@for b in engine http mail memory scaleout upload_memory; do echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py || exit 1; done

## lint: ruff, and the import contract of pyproject.toml (api -> workflow -> notifications -> states)
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-logo --no-cache

## wheel-smoke: build the wheel, install it into a fresh venv, migrate and serve from outside the repo
wheel-smoke:
	bash scripts/wheel_smoke.sh

diagram: install
	$(BIN)/quartier workflow diagram

clean:
	rm -rf $(VENV) var
