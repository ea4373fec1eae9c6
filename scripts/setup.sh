#!/usr/bin/env bash
# Installs what FDB needs to build, test and benchmark on Debian 12.
# Idempotent: when everything is present it prints nothing and takes well under a second.
set -euo pipefail

APT_PACKAGES=(build-essential cmake ninja-build pkg-config libgtest-dev libgmock-dev
  libzstd-dev libxxhash-dev libabsl-dev redis-server redis-tools clang libclang-rt-14-dev clang-format
  procps)
PY_PACKAGES=("redis[hiredis]>=5" "pytest>=7" "pytest-asyncio>=0.23" "pydantic>=2"
  "nanobind>=2" "orjson>=3.6")

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
  # Debian starts the redis-server service on install; FDB's benchmarks start their own.
  $SUDO systemctl disable --now redis-server >/dev/null 2>&1 || true
fi

PY=${PYTHON:-python3}
if ! "$PY" - <<'PYEOF' 2>/dev/null; then
import importlib.metadata as m, sys
need = {"redis": (5,), "hiredis": (0,), "pytest": (7,), "pytest-asyncio": (0, 23), "pydantic": (2,),
        "nanobind": (2,), "orjson": (3, 6)}
for name, least in need.items():
    v = tuple(int(x) for x in m.version(name).split(".")[:2] if x.isdigit())
    if v < least:
        sys.exit(1)
PYEOF
  echo "setup: installing Python packages: ${PY_PACKAGES[*]}"
  "$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore "${PY_PACKAGES[@]}"
fi

# The Python package (python/) is not installed here: `make build` links its compiled module
# into build/python from the same engine objects as fdb-server, and the tests import this
# checkout through PYTHONPATH. `make python-install` (pip install ./python) installs it for use.
