"""``python -m fdb_server [flags]``: start fdb-server (see ``fdb.server.main``)."""

import sys

from fdb.server import main

sys.exit(main())
