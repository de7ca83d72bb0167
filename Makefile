# Tavern — two commands on a fresh machine:
#   make run    install into .venv, start embedded PostgreSQL + Redis, migrate, load demo data,
#               serve on http://127.0.0.1:$(PORT) (WEB_WORKERS web processes, default 1) with a
#               Celery worker on every queue and beat
#   make test   the same set-up, then lint, migration and deploy checks, and the whole suite

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.txt | cut -d' ' -f1)
PORT ?= 8000

.PHONY: run test install lint services-start services-stop bench clean browser-deps

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

run: install
	DJANGO_SETTINGS_MODULE=tavern.settings.local DEBUG=1 PORT=$(PORT) $(PY) -m tavern.supervisor

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m mypy

test: lint
	$(PY) -m tavern.embedded run -- $(MAKE) --no-print-directory _test-steps

# The browser test (chats/tests/test_browser_chat.py) drives Debian's Chromium; install it
# when it is missing and we are root. Otherwise say nothing: that test skips itself.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Note: installing Debian's chromium for the browser test (apt-get)"; \
	  apt-get update -qq && apt-get install -y -qq chromium \
	    || echo "Note: chromium could not be installed; the browser test will be skipped"; \
	fi

_test-steps: browser-deps
	DJANGO_SETTINGS_MODULE=tavern.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=tavern.settings.test $(PY) manage.py spectacular --fail-on-warn --validate --file /dev/null
	DJANGO_SETTINGS_MODULE=tavern.settings.production SECRET_KEY=check-deploy-$$RANDOM-not-a-real-key-0123456789abcdefghijklmnop \
	  ALLOWED_HOSTS=tavern.example.com FIELD_ENCRYPTION_KEYS=$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') $(PY) manage.py check --deploy --fail-level WARNING
	$(PY) -m pytest $(PYTEST_ARGS)

services-start: install
	$(PY) -m tavern.embedded start

services-stop:
	$(PY) -m tavern.embedded stop

clean:
	$(PY) -m tavern.embedded stop || true
	rm -rf var
