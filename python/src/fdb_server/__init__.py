"""FDB server side: ``FDBConfig`` (validated settings mapped to fdb-server's flags).

The embedded engine (``create_engine``) and the server runners (``create_server``,
``FDBServer``, ``python -m fdb_server``) are added here by later work; the implementation
lives in the :mod:`fdb` package.
"""

from fdb.config import FILE_EXTENSION, FDBConfig

__all__ = ["FDBConfig", "FILE_EXTENSION"]
