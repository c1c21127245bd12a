"""Where a process's memory is: glibc's `mallinfo2` (in use vs. kept free by malloc),
`/proc/self/smaps_rollup`, pymalloc's block count and, when started with tracemalloc on,
the allocation sites that grew between two snapshots. Used by the soak bench's server
process to explain its RSS figures; reads only this process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _libc() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


LIBC = _libc()


def malloc_figures() -> dict[str, float]:
    """MiB: `heap` = malloc's arenas (sbrk + per-thread), `mmapped` = large blocks mapped
    on their own, `in_use` = what the program holds, `free_kept` = freed but kept."""
    if LIBC is None or not hasattr(LIBC, "mallinfo2"):
        return {}
    LIBC.mallinfo2.restype = _MallInfo2
    info = LIBC.mallinfo2()
    mib = 1024 * 1024
    return {"heap": info.arena / mib, "mmapped": info.hblkhd / mib,
            "in_use": (info.uordblks + info.hblkhd) / mib, "free_kept": info.fordblks / mib}


def smaps_rollup() -> dict[str, float]:
    figures: dict[str, float] = {}
    path = Path("/proc/self/smaps_rollup")
    if path.exists():
        for line in path.read_text().splitlines()[1:]:
            key, _, rest = line.partition(":")
            if rest.strip().endswith("kB"):
                figures[key.strip()] = int(rest.split()[0]) / 1024
    return {key: figures[key] for key in ("Rss", "Anonymous", "Private_Dirty", "Shared_Clean")
            if key in figures}


def python_arenas() -> float:
    """MiB of pymalloc arenas (1 MiB each since 3.10) still mapped; an arena is unmapped
    only when every block in it is free, so one long-lived object pins its arena."""
    import os
    import tempfile

    with tempfile.TemporaryFile("w+") as out:  # the stats go to the C-level stderr
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(out.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        for line in out:
            if line.startswith("# arenas allocated current"):
                return int(line.split("=")[-1].replace(",", "")) * ARENA_MIB
    return 0.0


ARENA_MIB = 1.0
_snapshots: dict[str, tracemalloc.Snapshot] = {}
_types: dict[str, Counter[str]] = {}


def type_counts() -> Counter[str]:
    import gc

    return Counter(type(o).__qualname__ for o in gc.get_objects())


def types_grown(label: str, since: str, limit: int = 12) -> list[str]:
    """Record the live objects per type under `label`; the types that grew since `since`."""
    _types[label] = type_counts()
    if since not in _types:
        return []
    grown = _types[label] - _types[since]
    return [f"{name} {n:+d}" for name, n in grown.most_common(limit)]


def snapshot(label: str) -> None:
    if tracemalloc.is_tracing():
        _snapshots[label] = tracemalloc.take_snapshot()


def grown(since: str, limit: int = 15) -> list[str]:
    """The allocation sites that grew most since snapshot `since` (tracemalloc on)."""
    if not tracemalloc.is_tracing() or since not in _snapshots:
        return []
    now = tracemalloc.take_snapshot()
    stats = now.compare_to(_snapshots[since], "traceback")
    return [f"{s.size_diff / 1024:+.0f} KiB in {s.count_diff:+d} blocks at "
            + " <- ".join(f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno}"
                          for f in reversed(s.traceback[-10:])) for s in stats[:limit]]


def report() -> dict[str, Any]:
    return {"malloc": malloc_figures(), "smaps": smaps_rollup(),
            "pymalloc_arenas_mib": python_arenas(),
            "traced_mib": tracemalloc.get_traced_memory()[0] / 2**20
            if tracemalloc.is_tracing() else None}


def mapping_kind(start: int, end: int, name: str) -> str:
    if name:
        return name if name.startswith("[") else "file " + name.rsplit("/", 1)[-1]
    size = end - start
    if size % (1024 * 1024) == 0 and size != 8 * 1024 * 1024 and start % (64 << 20):
        return "anon whole MiB (pymalloc arenas)"
    if size >= 8 * 1024 * 1024:
        return "anon thread stacks and malloc thread heaps"
    return "anon other"


def rss_by_mapping(pid: int | str = "self") -> dict[str, float]:
    """MiB of resident memory per kind of mapping (`mapping_kind`), from /proc/PID/smaps."""
    totals: dict[str, float] = {}
    kind = ""
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        first = line.split(maxsplit=5)
        if "-" in first[0] and len(first) >= 5 and not first[0].endswith(":"):
            start, end = (int(x, 16) for x in first[0].split("-"))
            kind = mapping_kind(start, end, first[5] if len(first) > 5 else "")
        elif line.startswith("Rss:"):
            totals[kind] = totals.get(kind, 0.0) + int(line.split()[1]) / 1024
    return totals


_ids: dict[str, Any] = {}


def _live_ids() -> Any:
    """The ids of every object the collector sees and their referents, sorted, in one
    array (one large block outside pymalloc: recording them maps no arena)."""
    import array
    import gc

    ids = array.array("Q")
    for obj in gc.get_objects():
        ids.append(id(obj))
        for each in gc.get_referents(obj):
            ids.append(id(each))
    return array.array("Q", sorted(set(ids)))


def born_since(label: str, since: str, limit: int = 15) -> list[str]:
    """Record the live objects under `label`; the ones alive now that were not alive at
    `since` (by id): what a burst allocated and left behind, by type with a sample and who
    holds it. These are what keep the burst's pymalloc arenas mapped."""
    import bisect
    import gc

    old = _ids.get(since)
    _ids[label] = _live_ids()
    if old is None:
        return []

    def known(address: int) -> bool:
        at = bisect.bisect_left(old, address)
        return at < len(old) and old[at] == address

    found: dict[int, object] = {}
    probe = {id(_ids), id(found), id(old), id(_ids[label])}
    for obj in gc.get_objects():
        for each in (obj, *gc.get_referents(obj)):
            if id(each) not in probe and not known(id(each)):
                found[id(each)] = each
    counts: Counter[str] = Counter()
    samples: dict[str, str] = {}
    for each in found.values():
        name = type(each).__qualname__
        counts[name] += 1
        if name not in samples:
            samples[name] = _described(each, probe | {id(found.values())})
    return [f"{len(found)} objects alive now that were not at {since}"] + [
        f"{name} x{n}: {samples[name]}" for name, n in counts.most_common(limit)]


def _described(obj: object, skip: set[int], depth: int = 3) -> str:
    """A short repr of `obj` and the chain of what holds it, `depth` levels up."""
    import gc

    def short(o: object) -> str:
        try:
            return f"{type(o).__qualname__} {repr(o)[:50]}"
        except Exception:  # a diagnostic: any repr may fail
            return type(o).__qualname__

    chain = [short(obj)]
    current = obj
    for _ in range(depth):
        holders = [r for r in gc.get_referrers(current) if id(r) not in skip
                   and type(r).__name__ not in ("frame", "list_iterator", "tuple_iterator")
                   and r is not chain]
        if not holders:
            break
        current = holders[0]
        chain.append(short(current))
    return " <- ".join(chain)


def dead_weakref_holders(depth: int = 5) -> list[str]:
    """Who holds lists of dead weakrefs (each dead weakref is a block that pins its arena):
    the referrer chain from such lists up `depth` levels (this function's own objects are
    left out)."""
    import gc
    import weakref

    def dead_list(o: object) -> bool:
        return (isinstance(o, list) and len(o) > 3
                and all(isinstance(x, weakref.ReferenceType) for x in o[:50])
                and sum(x() is None for x in o[:50]) > 3)

    found = [o for o in gc.get_objects() if dead_list(o)]
    mine = {id(found)}
    chains: list[str] = []
    for index in range(min(3, len(found))):
        current: object = found[index]
        chain = [f"list of {len(found[index])} weakrefs"]
        mine.add(id(chain))
        for _ in range(depth):
            holders = gc.get_referrers(current)
            mine.add(id(holders))
            outside = [r for r in holders if id(r) not in mine
                       and type(r).__name__ not in ("frame", "list_iterator")]
            if not outside:
                break
            current = outside[0]
            chain.append(f"{type(current).__qualname__}: {repr(current)[:100]}")
        chains.append(" <- ".join(chain))
    return chains
