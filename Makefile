# GenreWeb. On a fresh machine with python3:
#   make run    install into .venv, migrate, start the web server and a Celery worker
#   make test   install the dev tools and system packages the tests need (ffmpeg, Chromium,
#               espeak-ng for a spoken-word fixture), run the whole suite
# Settings come from the environment (see README "Configuration"); HOST/PORT pick the address.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Extra pytest arguments, e.g. make test PYTEST_ARGS='-m "worker and not browser"'
PYTEST_ARGS ?=
# Installed once into the venv; stamps make later runs skip pip while requirements are unchanged.
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
MUSICNN := musicnn==0.1.0

# Install Debian packages when we are root, otherwise say what to install and stop.
define apt_install
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing system packages:$(1)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $(1); \
	else \
		echo "Missing system packages:$(1)" >&2; \
		echo "Install them first, e.g.: sudo apt-get install$(1)" >&2; \
		exit 1; \
	fi
endef

.DEFAULT_GOAL := help
.PHONY: help install run migrate superuser worker test test-deps test-system-deps clean-venv

help:
	@echo "make run        start GenreWeb at http://$(HOST):$(PORT)/ (web server + Celery worker)"
	@echo "make test       run the whole test suite (what CI runs)"
	@echo "make superuser  create an admin account"
	@echo "make worker     run only a Celery worker (when the web server runs elsewhere)"

# Debian's python3 ships venv without ensurepip; check first so a half-made .venv never stays behind.
$(PY):
	@if ! $(PYTHON) -c "import ensurepip, venv" 2>/dev/null; then \
		$(call apt_install, python3-venv); \
	fi
	$(PYTHON) -m venv $(VENV)

$(RUNTIME_STAMP): requirements.txt | $(PY)
	@echo "Installing Python packages into $(VENV) (the first time takes a few minutes)..."
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

# musicnn pins an old numpy that cannot install on Python 3.11; its code works with ours, and
# only the ml tests use it (checkpoint port), hence --no-deps.
$(DEV_STAMP): requirements-dev.txt $(RUNTIME_STAMP)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps $(MUSICNN)
	@touch $@

install: $(RUNTIME_STAMP)

migrate: $(RUNTIME_STAMP)
	$(PY) manage.py migrate --noinput

run: migrate
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py runapp --host $(HOST) --port $(PORT)

superuser: migrate
	$(PY) manage.py createsuperuser

worker: migrate
	$(PY) -m celery -A genreweb worker --loglevel=INFO

test-system-deps:
	@missing=""; \
	command -v ffmpeg >/dev/null || missing="$$missing ffmpeg"; \
	command -v ffprobe >/dev/null || missing="$$missing ffmpeg"; \
	command -v espeak-ng >/dev/null || missing="$$missing espeak-ng"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium fonts-liberation"; \
	if [ -n "$$missing" ]; then $(call apt_install,$$missing); fi

test-deps: $(DEV_STAMP) test-system-deps

# pytest exits 5 when it collected nothing: a suite that ran no test has not passed.
test: test-deps
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests; treating that as a failure." >&2; exit 1; fi; \
	exit $$rc

clean-venv:
	rm -rf $(VENV)
