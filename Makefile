# Two commands for a newcomer: `make run` and `make test`. See README.md.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Test services: the machine's PostgreSQL and Redis (started by bin/services if down).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/evetrade
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: setup run test lint format browser clean bench container-check

$(VENV)/.installed: requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

# Mode 0600 from the first byte (umask), since it holds SECRET_KEY and later other secrets.
.env:
	@umask 077 && echo "SECRET_KEY=$$(python3 -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@chmod 600 .env
	@echo "Created .env (mode 0600) with a fresh SECRET_KEY (see .env.example for every setting)."

setup: $(VENV)/.installed .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py sde_install --bundled --if-missing

## Run web, worker and beat on the embedded default (SQLite, file cache and broker).
run: setup
	bin/run-all

## Start PostgreSQL and Redis if down, then run the whole suite against them.
test: $(VENV)/.installed .env browser
	bin/services
	$(PY) manage.py sde_install --bundled --if-missing
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(PY) -m pytest

## Debian's Chromium, for the browser tests (Playwright drives it; it downloads nothing).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: $(VENV)/.installed .env
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: setup
	$(PY) benchmarks/search.py

## Build the image, run the compose stack with the ESI stand-in and check it end to end;
## needs a Docker engine (docs/deploy.md).
container-check:
	bin/container-check

clean:
	rm -rf var staticfiles .pytest_cache .mypy_cache .ruff_cache
