# The two set-up commands of README.md live here: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install other-pythons servers browser sandbox-up sandbox-down sandbox-status clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The other supported interpreters, each in its own venv made once and reused: pyenv's
# newest patch release of each. Binary wheels only: on 3.13 pip otherwise backtracks to a
# matplotlib it must build from source (which downloads freetype).
OTHER_PYTHONS ?= 3.12 3.13
PYENV_VERSIONS ?= $(HOME)/.pyenv/versions
pyenv_python = $(lastword $(sort $(wildcard $(PYENV_VERSIONS)/$(1).*/bin/python$(1))))

.venv-%/.installed: pyproject.toml
	@test -n "$(call pyenv_python,$*)" || { echo "make: Python $* is not under $(PYENV_VERSIONS) (pyenv install $*)" >&2; exit 2; }
	$(call pyenv_python,$*) -m venv .venv-$*
	.venv-$*/bin/pip install -q --upgrade pip
	.venv-$*/bin/pip install -q --only-binary=:all: -e '.[test]'
	touch $@

other-pythons: $(foreach v,$(OTHER_PYTHONS),.venv-$(v)/.installed)

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

# The whole suite on the default interpreter, then on the others the unit tier and the
# tests of the ecosystem's own commands (`chaos run`, `chaos validate`, `locust -f`). Most
# tests wait on real time (a fault held, a game day's warm-up), so workers overlap the waits:
# each takes a whole file at a time (its module fixtures and sandbox state stay together),
# each worker has its own sandbox and port range. The other interpreters run side by side,
# each in its own port range (EDX_PORTS; all below the kernel's ephemeral ports, from
# 32768, which any client's connection may hold), their output shown when both are done. Every
# pytest runs even when one fails; any failure (pytest's 5, "no tests", too) fails the target.
TEST_WORKERS ?= 3
test: install browser other-pythons
	@failed=0; \
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile || failed=1; \
	low=20000; set --; \
	for v in $(OTHER_PYTHONS); do \
	  EDX_PORTS=$$low-$$((low + 6000)) .venv-$$v/bin/python -m pytest -m 'unit or plain' \
	    -n 2 --dist loadfile -p no:cacheprovider > .venv-$$v/test.log 2>&1 & set -- "$$@" $$!; \
	  low=$$((low + 6000)); \
	done; \
	for v in $(OTHER_PYTHONS); do \
	  wait $$1 || failed=1; shift; \
	  echo "make test: Python $$v: the unit tier and the ecosystem's own commands"; \
	  cat .venv-$$v/test.log; \
	done; \
	exit $$failed

sandbox-up: install servers
	$(BIN)/edx-gameday sandbox up

sandbox-down: install
	$(BIN)/edx-gameday sandbox down

sandbox-status: install
	$(BIN)/edx-gameday sandbox status

SANDBOX_STATE := $(HOME)/.local/state/chaostoolkit-edx/sandbox

# The sandbox's state (databases, ledger) goes too; other environments' ledgers stay.
clean: sandbox-down
	rm -rf $(VENV) $(foreach v,$(OTHER_PYTHONS),.venv-$(v)) $(SANDBOX_STATE)
