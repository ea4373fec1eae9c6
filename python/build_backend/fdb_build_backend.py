"""The package's build backend: scikit-build-core, with an sdist that builds by itself.

The engine the extension module compiles is the repository's own C++ (``../CMakeLists.txt``,
``../src``, ``../include``), outside ``python/``, where scikit-build-core's sdist cannot reach.
``build_sdist`` therefore stages a copy of ``python/`` with the engine sources under
``engine/`` in a temporary directory and lets scikit-build-core write the sdist from there;
``python/CMakeLists.txt`` builds ``engine/`` when it exists (an unpacked sdist) and ``..``
otherwise (the checkout). Nothing is written into the checkout. Every other hook is
scikit-build-core's own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional

from scikit_build_core import build as _skbuild
from scikit_build_core.build import (  # noqa: F401 (the PEP 517/660 hooks, re-exported)
    build_editable,
    build_wheel,
    get_requires_for_build_editable,
    get_requires_for_build_sdist,
    get_requires_for_build_wheel,
)

try:  # newer scikit-build-core
    from scikit_build_core.build import (  # noqa: F401
        prepare_metadata_for_build_editable,
        prepare_metadata_for_build_wheel,
    )
except ImportError:  # pragma: no cover
    pass

PYTHON_DIR = Path(__file__).resolve().parent.parent
# What the engine's build needs: the root CMakeLists.txt, the sources, the embedded API's
# headers. Unit tests (*_test.cc) are not built by the package (FDB_TESTS is off).
ENGINE_FILES = ("CMakeLists.txt",)
ENGINE_DIRS = ("src", "include")
_SKIP = shutil.ignore_patterns("build", "build-*", "dist", "__pycache__", "*.pyc",
                               ".pytest_cache", "*.egg-info", "fdb_data", "*_test.cc")


def build_sdist(sdist_directory: str,
                config_settings: Optional[Dict[str, Any]] = None) -> str:
    root = PYTHON_DIR.parent
    if (PYTHON_DIR / "engine").is_dir() or not (root / "src" / "embedded" / "db.cc").is_file():
        # Already self-contained (an unpacked sdist): as it is.
        return _skbuild.build_sdist(sdist_directory, config_settings)
    out = os.path.abspath(sdist_directory)
    with tempfile.TemporaryDirectory(prefix="fdb-sdist-") as tmp:
        stage = Path(tmp) / "python"
        shutil.copytree(PYTHON_DIR, stage, ignore=_SKIP)
        engine = stage / "engine"
        engine.mkdir()
        for name in ENGINE_FILES:
            shutil.copy2(root / name, engine / name)
        for name in ENGINE_DIRS:
            shutil.copytree(root / name, engine / name, ignore=_SKIP)
        # The copy is writable even when the checkout is not (scikit-build-core only reads it).
        for dirpath, _, _ in os.walk(stage):
            os.chmod(dirpath, 0o755)
        cwd = os.getcwd()
        os.chdir(stage)
        try:
            return _skbuild.build_sdist(out, config_settings)
        finally:
            os.chdir(cwd)
