# The two set-up commands of README.md live here: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install servers sandbox-up sandbox-down sandbox-status clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

servers:
	scripts/install-servers.sh

demo: install servers
	$(BIN)/edx-gameday sandbox up
	$(BIN)/edx-gameday sandbox smoke
	@echo "make demo: the game-day runner is not built yet; this demo ends after the sandbox smoke run."
	@echo "The sandbox keeps running: '$(BIN)/edx-gameday sandbox status', stop it with '$(BIN)/edx-gameday sandbox down'."

test: install servers
	$(BIN)/python -m pytest

sandbox-up: install servers
	$(BIN)/edx-gameday sandbox up

sandbox-down: install
	$(BIN)/edx-gameday sandbox down

sandbox-status: install
	$(BIN)/edx-gameday sandbox status

clean: sandbox-down
	rm -rf $(VENV) .sandbox
