# FDB's entry points. `make run` and `make test` work on a fresh Debian 12 machine.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
TSA_BUILD ?= build-tsa
JOBS ?= $(shell nproc)
PORT ?= 6380
# Go for fdb-controller (controller/): the one in PATH, else the machine's /usr/local/go.
GO ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
# Everything Python runs in the project's virtualenv, which `make setup` creates
# (scripts/setup.sh): Debian 12's own python3 refuses pip installs (PEP 668), and the venv makes
# the python3 first in PATH irrelevant once it exists.
VENV ?= $(CURDIR)/.venv
PYTHON ?= $(VENV)/bin/python

.PHONY: all setup build controller run test unit blackbox compat asan lint threadsafety format fuzz \
  fuzz-smoke bench \
  bench-python python-install python-wheel-test install deb conf package-test clean

all: build

setup:
	@FDB_VENV=$(VENV) scripts/setup.sh

# The main build also links the Python module fdb._engine (python/CMakeLists.txt) from the same
# engine objects, into $(BUILD)/python/fdb/: the engine compiles once for the server, the unit
# tests and Python. The python/ tests import it with $(BUILD)/python on PYTHONPATH.
# CMake's Python_EXECUTABLE is the venv's python, so the module matches the interpreter that
# imports it (and nanobind is the venv's). Evaluated when a recipe runs, after setup made the venv.
PYTHON_EXE = $(shell $(PYTHON) -c 'import sys; print(sys.executable)')
CMAKE_PYTHON_FLAGS = -DFDB_PYTHON=ON -DPython_EXECUTABLE=$(PYTHON_EXE)

build: setup
	@test -f $(BUILD)/build.ninja || \
	  cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_PYTHON_FLAGS) >/dev/null
	@grep -qs '^FDB_PYTHON:BOOL=ON' $(BUILD)/CMakeCache.txt && \
	  grep -qsx 'Python_EXECUTABLE:[A-Z]*=$(PYTHON_EXE)' $(BUILD)/CMakeCache.txt || \
	  cmake -S . -B $(BUILD) $(CMAKE_PYTHON_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@$(MAKE) --no-print-directory controller

# fdb-controller (docs/cluster.md), a Go program: its modules come from the Go module proxy into
# Go's module cache (go.sum pins them); -mod=mod lets a fresh clone resolve them.
controller:
	@cd controller && GOFLAGS=-mod=mod $(GO) build -o $(abspath $(BUILD))/fdb-controller .

# The server alone: Debian packages only (no virtualenv, no Python packages), and only the
# fdb-server target. A build directory made here has the Python module off; `make build` turns
# it on later.
run:
	@scripts/setup.sh --system
	@test -f $(BUILD)/build.ninja || \
	  cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFDB_PYTHON=OFF >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target fdb-server
	$(BUILD)/fdb-server --bind 127.0.0.1 --port $(PORT) --dir ./fdb_data

unit: build
	$(BUILD)/fdb_unit_tests --gtest_brief=1

blackbox: build
	FDB_SERVER_BIN=$(abspath $(BUILD))/fdb-server $(PYTHON) -m pytest -q tests

test: build
	$(BUILD)/fdb_unit_tests --gtest_brief=1
	cd controller && GOFLAGS=-mod=mod $(GO) test ./...
	FDB_SERVER_BIN=$(abspath $(BUILD))/fdb-server $(PYTHON) -m pytest -q tests
	cd python && PYTHONPATH=$(abspath python/src):$(abspath $(BUILD))/python \
	  FDB_SERVER_BIN=$(abspath $(BUILD))/fdb-server $(PYTHON) -m pytest -q tests
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
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fdb_fuzz_targets

# Every fuzz target (fuzz/*_fuzz.cc), each run for FUZZ_SECONDS; fails on the first crash,
# sanitizer report or timeout. The corpus each target grows stays in $(FUZZ_BUILD)/corpus/ for
# the next run; an input that failed is saved as $(FUZZ_BUILD)/artifacts/<target>-crash-<sha1>,
# and `$(FUZZ_BUILD)/<target> <that file>` replays it.
FUZZ_SECONDS ?= 30
fuzz-smoke: fuzz
	@set -e; targets=$$(find $(FUZZ_BUILD) -maxdepth 1 -name '*_fuzz' -type f -perm -u+x | sort); \
	test -n "$$targets" || { echo "fuzz-smoke: no fuzz targets in $(FUZZ_BUILD)"; exit 1; }; \
	mkdir -p $(FUZZ_BUILD)/artifacts; \
	for t in $$targets; do \
	  name=$$(basename $$t); mkdir -p $(FUZZ_BUILD)/corpus/$$name; \
	  echo "fuzz-smoke: $$name for $(FUZZ_SECONDS)s"; \
	  if ! $$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
	      -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$name- $(FUZZ_BUILD)/corpus/$$name \
	      > $(FUZZ_BUILD)/$$name.log 2>&1; then \
	    tail -n 40 $(FUZZ_BUILD)/$$name.log; echo "fuzz-smoke: $$name FAILED"; exit 1; \
	  fi; \
	  grep -h '^#[0-9]*[[:space:]]*DONE' $(FUZZ_BUILD)/$$name.log || true; \
	done

lint: setup
	@clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h')

# clang's thread-safety analysis over the server: ABSL_GUARDED_BY members, lock functions and
# scoped guards (base/adaptive_mutex.h). Compiles only fdb-server (every layer), with clang++,
# in its own build directory, unoptimized (only the analysis matters); any finding fails the
# build. Debian packages only.
threadsafety:
	@CXX=clang++ cmake -S . -B $(TSA_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG=-O0 -DFDB_TESTS=OFF -DFDB_PYTHON=OFF \
	  -DCMAKE_CXX_FLAGS="-Wthread-safety -Werror=thread-safety" >/dev/null
	@cmake --build $(TSA_BUILD) -j $(JOBS) --target fdb-server

format:
	@clang-format -i $$(git ls-files '*.cc' '*.h')

bench: build
	PYTHON=$(PYTHON) bench/compare.sh

# The embedded engine against lmdb, diskcache, sqlitedict and shelve; FDBSyncClient against
# redis-py on one fdb-server (bench/python/README.md).
bench-python: build
	FDB_SERVER_BIN=$(abspath $(BUILD))/fdb-server PYTHONPATH=$(abspath python/src):$(abspath $(BUILD))/python \
	  $(PYTHON) bench/python/bench.py

# Installs the Python package (fdb, fdb_client, fdb_server, the fdb-server script) for this
# interpreter. It compiles the engine again, in a temporary directory (-v: CMake's progress).
python-install: setup
	$(PYTHON) -m pip install -v --disable-pip-version-check ./python

# Slow (8 minutes on 2 busy cores, not part of `make test`): builds the wheel from a read-only copy
# of the checkout, repairs it with auditwheel, installs it into a fresh venv outside the
# checkout and runs the clients, the engine and the bundled server from there.
python-wheel-test: build
	cd python && FDB_WHEEL_TEST=1 PYTHONPATH=$(abspath python/src):$(abspath $(BUILD))/python \
	  FDB_SERVER_BIN=$(abspath $(BUILD))/fdb-server $(PYTHON) -m pytest -q tests/test_wheel.py

# `make install [PREFIX=/usr/local] [DESTDIR=...]`: fdb-server and fdb-check in PREFIX/bin, the
# documented config file in PREFIX/etc/fdb (/etc/fdb when PREFIX is /usr), the systemd unit, the
# logrotate file and the docs (packaging/packaging.cmake). The unit names the installed paths,
# so the prefix is set when configuring: the build directory is configured with it (nothing
# recompiles) and only the installed targets are built. Debian packages only, as `make run`.
PREFIX ?= /usr/local
INSTALL_TARGETS = fdb-server fdb-check fdb_conf
define configure_prefix
	@scripts/setup.sh --system
	@test -f $(BUILD)/build.ninja || \
	  cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFDB_PYTHON=OFF >/dev/null
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(1) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) --target $(INSTALL_TARGETS)
endef

install:
	$(call configure_prefix,$(PREFIX))
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# The Debian package fdb_<version>_<arch>.deb, in $(BUILD)/ (CPack's DEB generator): /usr/bin,
# /etc/fdb/fdb.conf (a conffile), /lib/systemd/system/fdb.service, /etc/logrotate.d/fdb, and
# maintainer scripts that make the fdb user and /var/lib/fdb. Its dependencies come from the
# binaries' shared libraries (dpkg-shlibdeps).
deb:
	$(call configure_prefix,/usr)
	cd $(BUILD) && cpack -G DEB

# Regenerates packaging/fdb.conf, the copy of the packaged config file kept for readers
# (tests/test_service.py fails when it is stale).
conf:
	@cmake --build $(BUILD) -j $(JOBS) --target fdb-server
	cmake -DFDB_SERVER=$(abspath $(BUILD))/fdb-server -DOUT=packaging/fdb.conf \
	  -P packaging/fdb-conf.cmake

# tests/test_package.py alone: builds the package, unpacks it and starts its binary.
package-test: build
	FDB_SERVER_BIN=$(abspath $(BUILD))/fdb-server $(PYTHON) -m pytest -q tests/test_package.py

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) $(TSA_BUILD)
