"""`import fdb_client` and `import fdb_server` are cheap: they import neither redis-py, nor
pydantic, nor asyncio (the names are loaded on first use, PEP 562), and every public name is
still there. (The time itself is measured in bench/python, not asserted here.)"""

import subprocess
import sys

import pytest

HEAVY = ("redis", "pydantic", "asyncio", "fdb.client", "fdb.config", "fdb._engine")


@pytest.mark.parametrize("module", ["fdb_client", "fdb_server", "fdb"])
def test_import_loads_nothing_heavy(module):
    code = (f"import sys, {module}; "
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == []


@pytest.mark.parametrize("module", ["fdb_client", "fdb_server", "fdb"])
def test_every_public_name_resolves(module):
    import importlib

    mod = importlib.import_module(module)
    for name in mod.__all__:
        assert getattr(mod, name) is not None, name
    assert set(mod.__all__) <= set(dir(mod))
    with pytest.raises(AttributeError):
        getattr(mod, "no_such_name")
