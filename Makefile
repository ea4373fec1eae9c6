# FDB's entry points. `make run` and `make test` work on a fresh Debian 12 machine.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
PORT ?= 6380
PYTHON ?= python3

.PHONY: all setup build run test unit blackbox compat asan lint format fuzz bench clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja:
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: setup $(BUILD)/build.ninja
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/fdb-server --bind 127.0.0.1 --port $(PORT) --dir ./fdb_data

unit: build
	$(BUILD)/fdb_unit_tests --gtest_brief=1

blackbox: build
	FDB_SERVER_BIN=$(abspath $(BUILD))/fdb-server $(PYTHON) -m pytest -q tests

test: build
	$(BUILD)/fdb_unit_tests --gtest_brief=1
	FDB_SERVER_BIN=$(abspath $(BUILD))/fdb-server $(PYTHON) -m pytest -q tests
	cd python && PYTHONPATH=$(abspath python/src) FDB_SERVER_BIN=$(abspath $(BUILD))/fdb-server \
	  $(PYTHON) -m pytest -q tests
	@$(MAKE) --no-print-directory compat

# The client tests again with redis-py 5.x (the newest is what setup installs), in a venv.
PY5_VENV ?= $(BUILD)/venv-redis-py5
compat: build
	@test -x $(PY5_VENV)/bin/python || ($(PYTHON) -m venv $(PY5_VENV) && \
	  $(PY5_VENV)/bin/pip install -q --disable-pip-version-check "redis[hiredis]>=5,<6" \
	  "pytest>=7" "pytest-asyncio>=0.23")
	FDB_SERVER_BIN=$(abspath $(BUILD))/fdb-server $(PY5_VENV)/bin/python -m pytest -q \
	  tests/test_clients.py tests/test_strings.py tests/test_protocol.py

# The whole C++ and black-box suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: setup
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFDB_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  $(ASAN_BUILD)/fdb_unit_tests --gtest_brief=1
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 FDB_SANITIZED=1 \
	  FDB_SERVER_BIN=$(abspath $(ASAN_BUILD))/fdb-server $(PYTHON) -m pytest -q tests

fuzz: setup
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DFDB_FUZZ=ON -DFDB_TESTS=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

lint: setup
	@clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h')

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')

bench: build
	bench/compare.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
