"""FDBConfig: the settings of an FDB server (or, later, of the embedded engine).

Each field maps to an ``fdb-server`` flag (:meth:`FDBConfig.to_server_args`):

=================== ============================ ==========================================
field               fdb-server flag              notes
=================== ============================ ==========================================
``host``            ``--bind HOST``              address to listen on
``port``            ``--port N``                 1..65535
``max_connections`` ``--maxclients N``           > 0
``data_dir``        ``--dir PATH``               created by the server if missing
``file_extension``  (none)                       must be ``".fdb"``: the data files' suffix
``cache_size``      ``--cache-size N``           > 0; entries in the server's value cache
``flush_interval``  ``--fsync everysec|always``  > 0 -> ``everysec`` (the log is fsynced once a
                                                 second, whatever the interval); 0 ->
                                                 ``always`` (fsync before every reply)
``max_workers``     ``--threads N``              > 0; default: the number of CPU cores
``compression``     ``--compression yes|no``
=================== ============================ ==========================================
"""

from __future__ import annotations

import os
from typing import Any, List

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["FDBConfig", "FILE_EXTENSION"]

#: The suffix of FDB's data files; the only value ``file_extension`` accepts.
FILE_EXTENSION = ".fdb"


def _cores() -> int:
    return os.cpu_count() or 1


class FDBConfig(BaseModel):
    """Validated settings of an FDB server. Invalid values raise ``pydantic.ValidationError``;
    unknown field names are refused too (a typo should not pass silently)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    host: str = Field("127.0.0.1", min_length=1, description="Address to listen on (--bind).")
    port: int = Field(6380, ge=1, le=65535, description="TCP port (--port).")
    max_connections: int = Field(10000, gt=0, description="Most simultaneous clients (--maxclients).")
    data_dir: str = Field("./fdb_data", min_length=1, description="Data directory (--dir).")
    file_extension: str = Field(FILE_EXTENSION, description="Data file suffix; must be '.fdb'.")
    cache_size: int = Field(10000, gt=0, description="Value cache entries (--cache-size).")
    flush_interval: float = Field(
        1.0, ge=0, allow_inf_nan=False,
        description="Seconds between fsyncs: > 0 maps to --fsync everysec, 0 to --fsync always.",
    )
    max_workers: int = Field(default_factory=_cores, gt=0, description="I/O threads (--threads).")
    compression: bool = Field(False, description="Compress stored values (--compression yes|no).")

    @field_validator("data_dir", mode="before")
    @classmethod
    def _path_to_str(cls, v: Any) -> Any:
        return os.fspath(v) if isinstance(v, os.PathLike) else v

    @field_validator("host")
    @classmethod
    def _check_host(cls, v: str) -> str:
        if v != v.strip() or any(c.isspace() for c in v):
            raise ValueError("host must not contain whitespace")
        return v

    @field_validator("file_extension")
    @classmethod
    def _check_extension(cls, v: str) -> str:
        if v != FILE_EXTENSION:
            raise ValueError(f"file_extension must be {FILE_EXTENSION!r} (FDB's data files use it)")
        return v

    @property
    def fsync_policy(self) -> str:
        """The server's fsync policy for :attr:`flush_interval`: ``"everysec"`` or ``"always"``."""
        return "everysec" if self.flush_interval > 0 else "always"

    def to_server_args(self) -> List[str]:
        """The ``fdb-server`` command-line flags for this configuration (see the module table).

        >>> FDBConfig(port=7000, max_workers=2).to_server_args()[:4]
        ['--bind', '127.0.0.1', '--port', '7000']
        """
        return [
            "--bind", self.host,
            "--port", str(self.port),
            "--maxclients", str(self.max_connections),
            "--dir", self.data_dir,
            "--cache-size", str(self.cache_size),
            "--fsync", self.fsync_policy,
            "--threads", str(self.max_workers),
            "--compression", "yes" if self.compression else "no",
        ]
