"""FDB server side: the embedded engine, the server runner, and their configuration.

* ``create_engine(config)`` -- the C++ engine in this process over ``config.data_dir``, with
  async methods (``await db.start()``, ``await db.set(...)``); ``create_engine(config,
  sync=True)`` / ``SyncEngine(config)`` is its blocking twin.
* ``create_server(config)`` / ``FDBServer(config)`` -- run the bundled ``fdb-server`` binary
  with the configuration's flags (``await server.start()`` / ``await server.stop()``).
* ``FDBConfig`` -- the validated settings, shared by both.

``python -m fdb_server [flags]`` and the ``fdb-server`` console script start a server from the
command line. The implementation lives in the :mod:`fdb` package.
"""


# Imported on first use (PEP 562): `import fdb_server` itself takes a few milliseconds; the first
# use of a name below imports what it needs (redis-py, pydantic, asyncio).
_LAZY = {'FDBConfig': 'fdb.config', 'FILE_EXTENSION': 'fdb.config', 'create_engine': 'fdb.engine', 'AsyncEngine': 'fdb.engine', 'SyncEngine': 'fdb.engine', 'FDBError': 'fdb.errors', 'FDBLockedError': 'fdb.errors', 'FDBServerError': 'fdb.errors', 'FDBServer': 'fdb.server', 'create_server': 'fdb.server', 'find_server_binary': 'fdb.server'}


def __getattr__(name: str):  # noqa: ANN201 - PEP 562
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():  # noqa: ANN201
    return sorted(list(globals()) + list(_LAZY))


__all__ = ['FDBConfig', 'FILE_EXTENSION', 'create_engine', 'AsyncEngine', 'SyncEngine', 'create_server', 'FDBServer', 'find_server_binary', 'FDBError', 'FDBLockedError', 'FDBServerError']
