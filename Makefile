# Everything installs into the repository: uv (pinned) under .gecc/tools, the locked
# dependencies into .venv, the Kafka and S3Proxy jars into the Maven cache on first
# `gecc stack up` (Maven needs only Maven Central: no settings, no credentials).
# The system packages the tests and the demo use (Chromium, Thai fonts, Prometheus) are
# installed where they can be: on Debian as root; elsewhere `make install` says what to install.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV_HOME := .gecc/tools/uv
UV := $(UV_HOME)/bin/uv
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install system-packages demo test lint unit asyncapi screenshots down clean

install: system-packages $(VENV)/.installed

system-packages:
	@sh deploy/install-system-packages.sh

$(UV):
	$(PYTHON) -m venv $(UV_HOME)
	$(UV_HOME)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

## make demo: the local stack and a demo round of 1,343 centers
demo: install
	$(BIN)/gecc demo

## make test: lint, type check, then unit, integration and end-to-end tests, a module per
## worker at a time (TEST_WORKERS=0 for one process)
TEST_WORKERS ?= 2
test: lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit

## make screenshots: the portal's pages as the browser test sees them, into docs/screenshots/
screenshots: install
	GECC_SCREENSHOTS=1 $(BIN)/pytest tests/e2e/test_portal_browser.py tests/e2e/test_operator_browser.py tests/e2e/test_survey_portal_browser.py
	@if command -v pngquant >/dev/null; then \
		pngquant --force --ext .png --quality 70-90 --skip-if-larger docs/screenshots/*.png; \
	else echo "pngquant not installed: the screenshots stay as Chromium wrote them"; fi

## make asyncapi: regenerate docs/asyncapi.json from the services' FastStream brokers
asyncapi: install
	$(BIN)/gecc docs asyncapi --out docs/asyncapi.json

down: install
	$(BIN)/gecc stack down

clean: down
	rm -rf .gecc $(VENV)
