"""The pymalloc blocks in use now that were not in use at a mark, and which of them sit in
arenas mapped since: what keeps a burst's arenas mapped after it, including the blocks no
Python object owns (free lists of C and Cython code, C caches), which an object scan never
sees. Used by the soak bench's server process (`--new-blocks`); reads this process's
memory in place (`bench/arena_walk.py`), writes nothing.

Blocks are told apart by address: one in use now at an address that was not in use at the
mark was allocated since. The walk's own temporary ints are freed while it runs, after
their pool's free list was read, so they look in use: they are counted apart ("freed
during the walk": an int-shaped block whose first word is a free-list link).
"""

from __future__ import annotations

import array
import ctypes
from collections import Counter
from typing import Any

from bench import arena_walk

_mark: dict[str, Any] = {}


def _all_used() -> Any:
    found = array.array("Q")
    for pool in arena_walk._pools():
        found.extend(arena_walk._used_blocks(pool))
    return array.array("Q", sorted(found))


def _arenas() -> set[int]:
    return {arena_walk._PoolHeader.from_address(pool).arenaindex
            for pool in arena_walk._pools()}


def mark() -> int:
    """Remember the blocks in use now and the arenas mapped; the number of blocks."""
    _mark["arenas"] = _arenas()
    _mark["used"] = _all_used()
    return len(_mark["used"])


def _kind(block: int, types: Any) -> tuple[str, object | None]:
    obj = arena_walk._as_object(block, types)
    if obj is not None:
        return type(obj).__qualname__, obj
    size = (arena_walk._PoolHeader.from_address(
        block // arena_walk.POOL_SIZE * arena_walk.POOL_SIZE).szidx + 1) * 16
    for offset in (8, 24):  # a dead object's type: a free list's (after a GC header or not)
        kind = ctypes.c_void_p.from_address(block + offset).value
        if kind and arena_walk._contains(types, kind):
            name = ctypes.cast(kind, ctypes.py_object).value.__qualname__
            if name == "int" and offset == 8:
                return "freed during the walk", None
            return f"non-object {size} B: a dead {name} (on a free list)", None
    return f"non-object {size} B", None


def report(limit: int = 25, samples: int = 20) -> list[str]:
    """What was allocated since the mark and is in use now, by kind; the same for the
    blocks in arenas mapped since the mark, with a few samples of their objects."""
    old, old_arenas = _mark.get("used"), _mark.get("arenas", set())
    now_arenas = _arenas()
    now = _all_used()
    types = arena_walk._type_ids()
    kinds: Counter[str] = Counter()
    in_new: Counter[str] = Counter()
    new_pools: set[int] = set()
    shown: list[str] = []
    for block in now:
        if old is not None and arena_walk._contains(old, block):
            continue
        name, obj = _kind(block, types)
        kinds[name] += 1
        arena = arena_walk._PoolHeader.from_address(
            block // arena_walk.POOL_SIZE * arena_walk.POOL_SIZE).arenaindex
        if arena not in old_arenas and name != "freed during the walk":
            in_new[name] += 1
            new_pools.add(block // arena_walk.POOL_SIZE)
            if obj is not None and len(shown) < samples:
                try:
                    shown.append(f"{name}: {repr(obj)[:80]}")
                except Exception:  # a diagnostic: any repr may fail
                    shown.append(name)
        del obj
    lines = [f"{sum(kinds.values())} blocks in use now that were not at the mark: " + ", ".join(
        f"{k} x{v}" for k, v in kinds.most_common(limit))]
    lines.append(f"arenas at the mark {len(old_arenas)}, now {len(now_arenas)} "
                 f"({len(now_arenas - old_arenas)} new); the new ones hold "
                 f"{sum(in_new.values())} such blocks in {len(new_pools)} pools: "
                 + ", ".join(f"{k} x{v}" for k, v in in_new.most_common(limit)))
    lines.extend("  in a new arena: " + line for line in shown)
    return lines
