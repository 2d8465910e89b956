# The two set-up commands of README.md live here: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install servers browser sandbox-up sandbox-down sandbox-status clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

servers:
	scripts/install-servers.sh

browser:
	scripts/install-servers.sh --with-browser

DEMO_OUT ?= reports/course-launch-$(shell date -u +%Y%m%dT%H%M%SZ)

# The default game day (about 5 minutes). Exit 1 means the game day found SLO misses:
# that is its finding, written in the report, so the demo still succeeds; bad input (2)
# or an abort (3) fail it.
demo: install servers
	$(BIN)/edx-gameday sandbox up
	@$(BIN)/edx-gameday run gamedays/course-launch.yaml --out $(DEMO_OUT); code=$$?; \
	if [ $$code -gt 1 ]; then exit $$code; fi; \
	echo "make demo: done. The sandbox keeps running ('$(BIN)/edx-gameday sandbox down' stops it)."; \
	echo "make demo: open the report: $(DEMO_OUT)/index.html"

test: install browser
	$(BIN)/python -m pytest

sandbox-up: install servers
	$(BIN)/edx-gameday sandbox up

sandbox-down: install
	$(BIN)/edx-gameday sandbox down

sandbox-status: install
	$(BIN)/edx-gameday sandbox status

SANDBOX_STATE := $(HOME)/.local/state/chaostoolkit-edx/sandbox

# The sandbox's state (databases, ledger) goes too; other environments' ledgers stay.
clean: sandbox-down
	rm -rf $(VENV) $(SANDBOX_STATE)
