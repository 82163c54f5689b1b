"""The one way the project opens a DuckDB connection.

DuckDB draws a progress bar on stdout for queries over two seconds when it takes
the session for an interactive one (``python -c``, notebooks); our commands own
their stdout (``--json``, CSV on stdout), so every connection turns it off.
"""

from __future__ import annotations

import duckdb


def connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that never draws on stdout."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con
