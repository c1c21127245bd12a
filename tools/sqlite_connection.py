"""How `Storage` sets up each SQLite connection, and the one sqlite3 detail it tidies.

Every connection gets a busy timeout, WAL (entered with a retry: see `_enter_wal`),
`synchronous=FULL` and foreign keys, and every transaction starts as `BEGIN IMMEDIATE`, so
concurrent processes serialise their writes and each committed row survives `kill -9`.
`purge_cursor_refs` makes sqlite3 drop its weakrefs to closed cursors now rather than at its
next every-200-cursors purge (a burst's memory release). Touches only the given connection.
"""

from __future__ import annotations

import gc
import sqlite3
import time
from typing import Any

from sqlalchemy import Engine, event


def _enter_wal(cursor: Any, timeout_s: float) -> None:
    """Switch the file to WAL, waiting out other processes doing the same.

    Changing the journal mode needs the file's exclusive lock, and SQLite does not call the
    busy handler when two connections that both read the header race for it (it would be a
    deadlock), so the loser gets "database is locked" at once. Processes opening a fresh file
    together (workers at start-up) hit exactly that; retry until the busy timeout is spent.
    """
    deadline = time.monotonic() + timeout_s
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """On `engine` (a SQLite one): each connection set up as the module says, each
    transaction begun `BEGIN IMMEDIATE`."""
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        _enter_wal(cursor, busy_timeout_ms / 1000)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: no stale-snapshot upgrades, waits use busy_timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def purge_cursor_refs(raw: Any) -> int:
    """Make and close cursors on `raw` until its list of cursor weakrefs (the one list among
    its referents that changes when a cursor is made) gets shorter instead of longer."""
    lists = [r for r in gc.get_referents(raw) if type(r) is list]
    for made in range(1, 202):
        sizes = [len(x) for x in lists]
        raw.cursor().close()
        changed = [(x, n) for x, n in zip(lists, sizes, strict=True) if len(x) != n]
        if len(changed) != 1 or len(changed[0][0]) <= changed[0][1]:
            return made  # purged (or no such list to watch: stop)
    return 201
