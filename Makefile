# One venv, refreshed only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-redis chromium redis-server lint bench fuzz contract-full contract-paced clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Serve all five mocks (Ctrl-C stops them).
run: install
	$(BIN)/mockserver serve all

# Every test: specs, the mocks over HTTP and in headless Chromium, the contract suite against good
# and broken servers, its HTML report in Chromium (Debian's chromium installed when missing, as root).
test: install chromium redis-server
	$(BIN)/python -m pytest

# Every API's behaviour tests on both store backends (make test runs Amar's on both, the rest in memory).
test-redis: install redis-server
	MOCK_STORES=memory,redis $(BIN)/python -m pytest tests/mock

redis-server:
	@test -x /usr/bin/redis-server \
	  || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	      && (apt-get install -y -qq redis-server || (apt-get update -qq && apt-get install -y -qq redis-server))) \
	  || echo "redis-server not installed: the shared-store tests will fail (apt-get install redis-server)"

chromium:
	@test -x /usr/bin/chromium -a -x /usr/bin/chromedriver \
	  || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	      && (apt-get install -y -qq chromium chromium-driver \
	          || (apt-get update -qq && apt-get install -y -qq chromium chromium-driver))) \
	  || echo "chromium not installed: the browser tests will fail (apt-get install chromium chromium-driver)"

lint: install
	$(BIN)/python -m apispec.lint
	$(BIN)/ruff check apispec mockserver contract_tests specdiff tests bench

# Deep runs, not part of `make test`.
contract-full: install
	CONTRACT_MAX_EXAMPLES=200 $(BIN)/python -m pytest tests/harness/test_against_mocks.py -k conforms

# The README's contract-test against Amar's mock at its documented limits (one-minute window):
# paced to 300 requests a minute, it takes about 7½ minutes.
contract-paced: install
	$(BIN)/python -m tests.harness.paced amarevents

fuzz: install
	FUZZ_CASES=10000 $(BIN)/python -m pytest tests/hostile/test_fuzz.py

bench: install
	command -v wrk >/dev/null || (command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk) || echo "wrk not installed: using the Python load generator"
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .schemathesis
