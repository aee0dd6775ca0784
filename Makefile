# keyguard: `make audit` runs the gate on the built-in stack; `make test` runs every suite.
# Both create (or reuse) the environment at .venv from the pinned requirements.lock.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.keyguard-installed
PY := $(VENV)/bin/python

.PHONY: venv audit test test-unit test-integration bench vault toolchain preview bench-cli clean

venv: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (keyguard needs Python 3.11+)" >&2; exit 2; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check pip==25.3
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	$(PY) -m keyguard_policies.iam_index  # the IAM index, built once ahead of the first audit
	$(PY) -m compileall -q keyguard policy_pack/keyguard_policies  # bytecode ahead: no compiling at start-up where writing it is off
	@touch $(STAMP)

audit: $(STAMP)
	$(VENV)/bin/keyguard audit

vault:
	bash localstack/build-vault.sh

test: $(STAMP) vault
	$(PY) -m pytest tests integration_tests -q

test-unit: $(STAMP)
	$(PY) -m pytest tests -q

test-integration: $(STAMP) vault
	$(PY) -m pytest integration_tests -q

# The real Pulumi CLI, offline: build or reuse the toolchain (toolchain/build.sh), then
# `make preview [STACK=dir] [CONFIG=file]` runs `pulumi preview --policy-pack policy_pack` on a copy of
# the stack and exits with the CLI's code.
STACK ?= stack
CONFIG ?=
toolchain: $(STAMP)
	bash toolchain/build.sh

preview: $(STAMP)
	$(PY) toolchain/pulumi_workspace.py preview --stack $(STACK) $(if $(CONFIG),--config $(CONFIG))

bench: $(STAMP)
	$(PY) -m bench

bench-cli: $(STAMP)
	$(PY) -m bench.cli

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
