"""Past calls for the console: the newest event logs in the data directory, each read
whole into a `CallView` (cached while the file is unchanged), and one call by its key.

A key is a log's file stem (`engine.transcripts.file_stem` made it: a sanitised prefix and
a hash), checked against a strict pattern and looked up only inside the directory, so a
URL can never name another file. Reading runs in a thread (the callers await
`asyncio.to_thread`). Touches: reads the data directory.
"""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

from engine.records.log import SUFFIX

from .feed import LogTail
from .view import CallView

KEY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,159}")
PAGE = 50
MAX_CALLS = 8  # whole calls kept for their pages (a view holds up to 20,000 items)
MAX_ROWS = 1024  # calls kept as list rows only (no items)

_calls: dict[str, tuple[tuple[int, int], CallView]] = {}
_rows: dict[str, tuple[tuple[int, int], CallView]] = {}


def valid_key(key: str) -> bool:
    return bool(KEY.fullmatch(key)) and ".." not in key


def log_path(calls_dir: Path | None, key: str) -> Path | None:
    """The log file of `key` inside `calls_dir`, or None."""
    if calls_dir is None or not valid_key(key):
        return None
    path = calls_dir / f"{key}{SUFFIX}"
    return path if path.is_file() and path.parent == calls_dir else None


def read_call(path: Path, rows_only: bool = False) -> CallView:
    """The whole log as a view (or, `rows_only`, without its items: what a list row needs);
    the same file unchanged is read once."""
    stat = path.stat()
    stamp = (stat.st_size, stat.st_mtime_ns)
    for cache in (_rows, _calls) if rows_only else (_calls,):
        cached = cache.get(path.name)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    view = LogTail(path).read_all()
    _keep(_calls, MAX_CALLS, path.name, stamp, view)
    _keep(_rows, MAX_ROWS, path.name, stamp, replace(view, items=[], _pending=set()))
    return _rows[path.name][1] if rows_only else view


def _keep(cache: dict[str, tuple[tuple[int, int], CallView]], limit: int, name: str,
          stamp: tuple[int, int], view: CallView) -> None:
    cache.pop(name, None)
    if len(cache) >= limit:
        cache.pop(next(iter(cache)))
    cache[name] = (stamp, view)


def newest(calls_dir: Path | None, skip: set[str], limit: int = PAGE,
           offset: int = 0, known: dict[str, CallView] | None = None
           ) -> tuple[list[CallView], int]:
    """(the views of the newest logs not in `skip`, from `offset` on; how many there are);
    a key in `known` (calls the live feed saw end) is taken from there, not read again."""
    known = known or {}
    if calls_dir is None:
        return [], 0
    entries = []
    try:
        with os.scandir(calls_dir) as found:
            for entry in found:
                if entry.name.endswith(SUFFIX) and entry.name[:-len(SUFFIX)] not in skip:
                    try:
                        entries.append((entry.stat().st_mtime, entry.name))
                    except OSError:
                        continue
    except OSError:
        return [], 0
    entries.sort(reverse=True)
    views = []
    for _, name in entries[offset:offset + limit]:
        if name[:-len(SUFFIX)] in known:
            views.append(known[name[:-len(SUFFIX)]])
            continue
        try:
            views.append(read_call(calls_dir / name, rows_only=True))
        except OSError:
            continue
    return views, len(entries)
