"""FDB clients: ``FDBClient`` (asyncio), ``FDBSyncClient`` and ``fdb_client()``.

The implementation lives in :mod:`fdb.client`; this module is the public entry point::

    from fdb_client import fdb_client, FDBClient, FDBSyncClient
"""

from fdb.client import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    FDBAsyncPipeline,
    FDBClient,
    FDBPipeline,
    FDBSyncClient,
    fdb_client,
)
from fdb.errors import (
    FDBAuthenticationError,
    FDBConnectionError,
    FDBError,
    FDBResponseError,
    FDBTimeoutError,
    FDBWrongTypeError,
)

__all__ = [
    "FDBClient",
    "FDBSyncClient",
    "FDBPipeline",
    "FDBAsyncPipeline",
    "fdb_client",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "FDBError",
    "FDBConnectionError",
    "FDBTimeoutError",
    "FDBResponseError",
    "FDBWrongTypeError",
    "FDBAuthenticationError",
]
