# heygen-core: every task a developer or CI runs. `make test` is the CI entry point.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo generate check-generated schema-lint lint typecheck test bench clean

## setup: create .venv and install the project (editable) with every extra and
## the dev tools, at the exact versions of constraints.txt.
setup: $(STAMP)

# Re-runs only when pyproject.toml or constraints.txt changes, so `make setup` is idempotent.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[media,cli,dev]"
	touch $(STAMP)

## demo: set up, then speak the bundled sample through the embedded simulator
## (no key, no network): progress bars, live events, then the session report.
demo: $(STAMP)
	$(VENV)/bin/heygen-avatar say heygen_core/data/hello.wav

## generate: rewrite generated/ from schemas/ (run after every schema change).
generate: $(STAMP)
	$(PY) codegen/generate.py

## check-generated: fail when generated/ does not match schemas/.
check-generated: $(STAMP)
	$(PY) codegen/generate.py --check

## schema-lint: event tags, unions, examples, typed operations, open/closed objects.
schema-lint: $(STAMP)
	$(PY) codegen/lint_schemas.py

lint: $(STAMP)
	$(VENV)/bin/ruff check heygen_core codegen tests bench examples
	$(VENV)/bin/ruff format --check heygen_core codegen tests bench examples

typecheck: $(STAMP)
	$(VENV)/bin/mypy -p heygen_core -p heygen_models
	$(VENV)/bin/mypy examples

test: $(STAMP) lint typecheck schema-lint check-generated
	$(PY) -m pytest -q -n 2

## bench: throughput and latency measurements; results land in bench/results/.
bench: $(STAMP)
	$(PY) bench/bench_protocol.py
	$(PY) bench/bench_pump.py
	$(PY) bench/bench_resample.py
	$(PY) bench/bench_sessions.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis
