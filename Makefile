# heygen-core: every task a developer or CI runs. `make test` is the CI entry point.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo generate check-generated schema-lint lint typecheck test peers bench clean

## setup: create .venv and install the project (editable) with every extra (the
## framework adapters' Pipecat and LiveKit Agents included) and
## the dev tools, at the exact versions of constraints.txt.
setup: $(STAMP)

# Re-runs only when pyproject.toml or constraints.txt changes, so `make setup` is idempotent.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[media,cli,dev,pipecat,livekit-agents]"
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

# Third-party clients, each in its own cached folder under .peers/, at the
# exact versions of its requirements or lock file (re-installed when that changes).
PEERS := .peers
PEER_STAMPS := $(PEERS)/pipecat/.installed $(PEERS)/livekit-plugin/.installed $(PEERS)/web-sdk/.installed

# Three workers on two cores: most session tests wait on real-time audio and
# timers, so a third overlaps those waits (measured: 5:54 with two, 4:39 with three).
test: $(STAMP) lint typecheck schema-lint check-generated $(PEER_STAMPS)
	$(PY) -m pytest -q -n 3

## peers: install the third-party clients (cached in .peers/) and run only their
## conformance tests against the simulator (`make test` runs them too).
peers: $(STAMP) $(PEER_STAMPS)
	$(PY) -m pytest -q tests/peers

$(PEERS)/%/.installed: tests/peers/%/requirements.txt
	rm -rf $(PEERS)/$*
	$(PYTHON) -m venv $(PEERS)/$*
	$(PEERS)/$*/bin/python -m pip install --quiet --upgrade pip
	$(PEERS)/$*/bin/python -m pip install --quiet -r tests/peers/$*/requirements.txt
	touch $@

$(PEERS)/web-sdk/.installed: tests/peers/web-sdk/package.json tests/peers/web-sdk/package-lock.json
	rm -rf $(PEERS)/web-sdk
	mkdir -p $(PEERS)/web-sdk
	cp tests/peers/web-sdk/package.json tests/peers/web-sdk/package-lock.json $(PEERS)/web-sdk/
	cd $(PEERS)/web-sdk && npm ci --silent --no-audit --no-fund
	touch $@

## bench: CPU, memory, latency and import time against baselines measured in the same
## run (Pipecat 1.14's real HeyGen code in the cached bench-only venv .bench/pipecat,
## and a lean floor pipeline), the first open's event-loop stall (warm-up on / off), and
## 1,000 real-time sessions against a simulator in another process (with the library's
## start-up limits and without); prints every issue-14 target as met / NOT met
## (reported, never asserted). Results land in bench/results/ (untracked; README.md
## quotes the latest run).
BENCH_PIPECAT := .bench/pipecat

bench: $(STAMP) $(BENCH_PIPECAT)/.installed
	$(PY) bench/bench_protocol.py
	$(PY) bench/bench_pump.py
	$(PY) bench/bench_latency.py
	$(PY) bench/bench_memory.py
	$(PY) bench/bench_first_open.py
	$(PY) bench/bench_scale.py
	$(PY) bench/summary.py

# Pipecat at the exact pins of bench/requirements-pipecat.txt, in its own venv so its
# tree never meets ours; rebuilt only when that file changes.
$(BENCH_PIPECAT)/.installed: bench/requirements-pipecat.txt
	rm -rf $(BENCH_PIPECAT)
	$(PYTHON) -m venv $(BENCH_PIPECAT)
	$(BENCH_PIPECAT)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_PIPECAT)/bin/python -m pip install --quiet -r bench/requirements-pipecat.txt
	touch $@

clean:
	rm -rf $(VENV) $(PEERS) .bench .mypy_cache .pytest_cache .ruff_cache .hypothesis
