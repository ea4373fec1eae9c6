"""FDB clients: ``FDBClient`` (asyncio), ``FDBSyncClient`` and ``fdb_client()``.

The implementation lives in :mod:`fdb.client`; this module is the public entry point::

    from fdb_client import fdb_client, FDBClient, FDBSyncClient
"""


# Imported on first use (PEP 562): `import fdb_client` itself takes a few milliseconds; the first
# use of a name below imports what it needs (redis-py, pydantic, asyncio).
_LAZY = {'DEFAULT_HOST': 'fdb.client', 'DEFAULT_PORT': 'fdb.client', 'FDBAsyncPipeline': 'fdb.client', 'FDBClient': 'fdb.client', 'FDBPipeline': 'fdb.client', 'FDBSyncClient': 'fdb.client', 'fdb_client': 'fdb.client', 'FDBAuthenticationError': 'fdb.errors', 'FDBConnectionError': 'fdb.errors', 'FDBError': 'fdb.errors', 'FDBResponseError': 'fdb.errors', 'FDBTimeoutError': 'fdb.errors', 'FDBWrongTypeError': 'fdb.errors'}


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


__all__ = ['FDBClient', 'FDBSyncClient', 'FDBPipeline', 'FDBAsyncPipeline', 'fdb_client', 'DEFAULT_HOST', 'DEFAULT_PORT', 'FDBError', 'FDBConnectionError', 'FDBTimeoutError', 'FDBResponseError', 'FDBWrongTypeError', 'FDBAuthenticationError']
