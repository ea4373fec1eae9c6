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

from fdb.config import FILE_EXTENSION, FDBConfig
from fdb.engine import AsyncEngine, SyncEngine, create_engine
from fdb.errors import FDBError, FDBLockedError, FDBServerError
from fdb.server import FDBServer, create_server, find_server_binary

__all__ = [
    "FDBConfig",
    "FILE_EXTENSION",
    "create_engine",
    "AsyncEngine",
    "SyncEngine",
    "create_server",
    "FDBServer",
    "find_server_binary",
    "FDBError",
    "FDBLockedError",
    "FDBServerError",
]
