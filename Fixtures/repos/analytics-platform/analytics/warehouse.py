"""A thin client over the product warehouse.

Locally the warehouse is a SQLite file; production runs the same SQL against the replica.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any


class WarehouseError(RuntimeError):
    """A warehouse query failed."""


class Warehouse:
    """Read access to warehouse tables, returning rows as plain dicts."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._connection = connection
        self._connection.row_factory = sqlite3.Row

    @classmethod
    def connect(cls, path: str) -> Warehouse:
        """Open the warehouse at ``path`` (``:memory:`` for an empty in-memory one)."""
        return cls(sqlite3.connect(path, detect_types=sqlite3.PARSE_DECLTYPES))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Run ``sql`` with ``params`` and return every row as a dict."""
        try:
            cursor = self._connection.execute(sql, tuple(params))
        except sqlite3.Error as error:
            raise WarehouseError(f"query failed: {error}; sql: {sql.strip()}") from error
        return [dict(row) for row in cursor.fetchall()]

    def fetch(
        self,
        table: str,
        *,
        time_column: str,
        start: datetime,
        end: datetime,
        columns: Sequence[str] = ("*",),
    ) -> list[dict[str, Any]]:
        """Rows of ``table`` whose ``time_column`` lies in ``[start, end)``, oldest first."""
        if not table.replace("_", "").isalnum() or not time_column.replace("_", "").isalnum():
            raise WarehouseError(f"invalid table or column name: {table}.{time_column}")
        sql = (
            f"SELECT {', '.join(columns)} FROM {table} "
            f"WHERE {time_column} >= ? AND {time_column} < ? ORDER BY {time_column}"
        )
        return self.query(sql, (start.isoformat(), end.isoformat()))

    def execute_script(self, script: str) -> None:
        """Run a SQL script (used by tests and local seeding)."""
        self._connection.executescript(script)

    def close(self) -> None:
        """Close the connection."""
        self._connection.close()
