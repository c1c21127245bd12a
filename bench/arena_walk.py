"""Walks CPython's pymalloc heap in place to say what keeps its 1 MiB arenas mapped: the
pools are found in this process's anonymous mappings by their headers (CPython 3.10+ on
64-bit: 16 KiB pools; the 3.11 header layout), the blocks in use are the ones not on a
pool's free list, and a block that starts a Python object (after a GC header or not) is
shown as that object. Used by the soak bench's server process (`--diagnose`) only; reads
this process's memory, writes nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

POOL_SIZE = 16 * 1024  # CPython 3.10+ on 64-bit: 16 KiB pools in 1 MiB arenas
POOL_OVERHEAD = 48


class _PoolHeader(ctypes.Structure):
    _fields_ = [("count", ctypes.c_uint64), ("freeblock", ctypes.c_void_p),
                ("nextpool", ctypes.c_void_p), ("prevpool", ctypes.c_void_p),
                ("arenaindex", ctypes.c_uint32), ("szidx", ctypes.c_uint32),
                ("nextoffset", ctypes.c_uint32), ("maxnextoffset", ctypes.c_uint32)]


def _pools() -> Any:
    """The addresses of every pymalloc pool in use in this process's anonymous read-write
    mappings, found by its header's signature (`maxnextoffset` is the pool size less one
    block of its class), in an array (outside pymalloc, so the scan maps no arena)."""
    import array

    found = array.array("Q")
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split()
        if len(fields) != 5 or fields[1] != "rw-p":
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        address = (start + POOL_SIZE - 1) // POOL_SIZE * POOL_SIZE
        while address + POOL_SIZE <= end:
            head = _PoolHeader.from_address(address)
            size = (head.szidx + 1) * 16
            if (head.szidx < 32 and head.maxnextoffset == POOL_SIZE - size
                    and 0 < head.count <= (POOL_SIZE - POOL_OVERHEAD) // size
                    and POOL_OVERHEAD <= head.nextoffset <= POOL_SIZE
                    and (not head.freeblock
                         or address < head.freeblock < address + POOL_SIZE)):
                found.append(address)
            address += POOL_SIZE
    return found


def _used_blocks(address: int) -> Any:
    import array

    head = _PoolHeader.from_address(address)
    size = (head.szidx + 1) * 16
    free, block = array.array("Q"), head.freeblock
    while block and address < block < address + POOL_SIZE and len(free) < POOL_SIZE:
        free.append(block)
        block = ctypes.c_void_p.from_address(block).value
    free = array.array("Q", sorted(free))
    return array.array("Q", (b for b in range(address + POOL_OVERHEAD,
                                                address + head.nextoffset, size)
                             if not _contains(free, b)))


def _contains(sorted_ids: Any, value: int) -> bool:
    import bisect

    at = bisect.bisect_left(sorted_ids, value)
    return at < len(sorted_ids) and sorted_ids[at] == value


def _as_object(block: int, types: Any) -> object | None:
    """The Python object starting in `block` (after a GC header or not), if one does."""
    for offset in (16, 0):  # GC-tracked objects sit after a 16-byte PyGC_Head
        kind = ctypes.c_void_p.from_address(block + offset + 8).value
        refs = ctypes.c_ssize_t.from_address(block + offset).value
        if kind and _contains(types, kind) and 0 < refs < 1 << 40:
            return ctypes.cast(block + offset, ctypes.py_object).value
    return None


def _type_ids() -> Any:
    import array
    import gc

    ids = array.array("Q", (id(type(o)) for o in gc.get_objects()))
    stack = [object]
    while stack:
        t = stack.pop()
        ids.append(id(t))
        with contextlib.suppress(TypeError):
            stack.extend(t.__subclasses__())
    return array.array("Q", sorted(set(ids)))


_arenas_at: dict[str, set[tuple[int, int]]] = {}


def _held(obj: object) -> str:
    """A short repr of `obj` and the types of what refers to it."""
    import gc

    try:
        text = repr(obj)[:60]
    except Exception:  # a diagnostic: any repr may fail
        text = "?"
    holders = [r for r in gc.get_referrers(obj) if type(r).__name__ != "frame"][:3]
    names = []
    for r in holders:
        try:
            names.append(f"{type(r).__qualname__} {repr(r)[:40]}")
        except Exception:  # a diagnostic: any repr may fail
            names.append(type(r).__qualname__)
    return f"{text} (held by {'; '.join(names) or '-'})"


def sparse_arenas(label: str = "", since: str = "", most_blocks: int = 400,
                  limit: int = 14) -> list[str]:
    """The arenas kept mapped by few blocks: how many, and what those blocks are (the
    objects by type, with a sample; other blocks by size: dict keys, list items...). With
    `since`, only the arenas mapped after the figures of that label (an arena is known by
    its index and its lowest pool). Reads pymalloc's pool headers in place (CPython 3.11
    layout on 64-bit; a diagnostic only)."""
    buffers = _buffers()  # first: its own transient ints are gone before the pools are read
    from bench.memory_probe import _live_ids

    live = _live_ids()
    types = _type_ids()
    pools = _pools()
    used: Counter[int] = Counter()
    lowest: dict[int, int] = {}
    for address in pools:
        head = _PoolHeader.from_address(address)
        used[head.arenaindex] += head.count
        lowest[head.arenaindex] = min(lowest.get(head.arenaindex, address), address)
    identities = {(index, low) for index, low in lowest.items()}
    if label:
        _arenas_at[label] = identities
    old = _arenas_at.get(since, set()) if since else set()
    sparse = {index for index, n in used.items()
              if n <= most_blocks and (index, lowest[index]) not in old}
    kinds: Counter[str] = Counter()
    samples: dict[str, str] = {}
    for address in pools:
        head = _PoolHeader.from_address(address)
        if head.arenaindex not in sparse:
            continue
        size = (head.szidx + 1) * 16
        for block in _used_blocks(address):
            obj = _as_object(block, types)
            if obj is None:
                owner = _buffer_owner(buffers, block, size)
                name = (f"non-object {size} B{_points_to(block, size, types, live)}"
                        if owner is None else
                        f"{size} B buffer of a {type(owner).__qualname__}")
                if owner is not None and name not in samples:
                    samples[name] = _held(owner)
                del owner
            else:
                name = type(obj).__qualname__
            kinds[name] += 1
            if obj is not None and name not in samples:
                samples[name] = _held(obj)
            del obj
    new = len(identities - old) if since else len(identities)
    return [f"{len(used)} arenas ({new} new since {since or 'start'}); {len(sparse)} of the "
            f"new ones hold at most {most_blocks} blocks each "
            f"({sum(used[i] for i in sparse)} blocks in all)"] + [
        f"{name} x{n}: {samples.get(name, '')}" for name, n in kinds.most_common(limit)] + (
        _origins(pools, sparse) if tracemalloc.is_tracing() else [])


def _buffers() -> tuple[Any, list[object]]:
    """The out-of-line buffers of live containers, sorted by address, with their owners:
    a dict's keys and values tables, a list's items, a set's table, a bytearray's bytes,
    and the values array
    of an object whose dict CPython 3.11 manages (the pointer 4 words before it). These
    are the "non-object" blocks a walk finds; the owner is what to fix."""
    import array
    import gc

    found: dict[int, object] = {}
    seen: set[int] = set()

    def note(o: object) -> None:
        if id(o) in seen:
            return
        seen.add(id(o))
        at = id(o)
        read = ctypes.c_void_p.from_address
        if type(o) is dict or isinstance(o, dict):
            for offset in (32, 40):
                if read(at + offset).value:
                    found[read(at + offset).value] = o
        elif isinstance(o, list):
            if read(at + 24).value:
                found[read(at + 24).value] = o
        elif isinstance(o, bytearray):
            if read(at + 32).value:
                found[read(at + 32).value] = o
        elif isinstance(o, (set, frozenset)):
            table = read(at + 40).value
            if table and table != at + 200:  # not the inline small table
                found[table] = o
        if type(o).__flags__ & (1 << 4):  # Py_TPFLAGS_MANAGED_DICT
            values = read(at - 32).value
            if values:
                found[values] = o

    for obj in gc.get_objects():
        note(obj)
        for each in gc.get_referents(obj):
            if isinstance(each, (dict, list, set, frozenset, bytearray)):
                note(each)
    addresses = array.array("Q", sorted(found))
    return addresses, [found[a] for a in addresses]


def _points_to(block: int, size: int, types: Any, live: Any) -> str:
    """For a block no container owns: the types of the live objects its first words point
    at (a hint of which C structure it is), e.g. ' -> str, code'. Only addresses of known
    live objects (`live`, sorted ids) are read."""
    kinds = []
    for word in range(min(size, 64) // 8):
        value = ctypes.c_void_p.from_address(block + word * 8).value
        if value and _contains(live, value):
            kind = ctypes.c_void_p.from_address(value + 8).value
            if kind and _contains(types, kind):
                kinds.append(ctypes.cast(kind, ctypes.py_object).value.__qualname__)
    return " -> " + ", ".join(kinds) if kinds else ""


def _buffer_owner(buffers: tuple[Any, list[object]], block: int, size: int) -> object | None:
    import bisect

    addresses, owners = buffers
    at = bisect.bisect_left(addresses, block)
    if at < len(addresses) and addresses[at] < block + size:
        return owners[at]
    return None


def _traceback_of() -> Any:
    """CPython's own lookup of the traceback tracemalloc recorded for an allocation at an
    address (`tracemalloc.get_object_traceback` misses 3.11 objects with a managed dict,
    whose block starts before the GC header, and every block that is not an object)."""
    lookup = ctypes.pythonapi._PyTraceMalloc_GetTraceback
    lookup.restype = ctypes.py_object
    lookup.argtypes = [ctypes.c_uint, ctypes.c_size_t]
    return lookup


def _origins(pools: Any, sparse: set[int], limit: int = 25, frames: int = 12) -> list[str]:
    """Where every block still in use in the `sparse` arenas was allocated (tracemalloc
    on, started before those arenas were mapped): the allocation sites by count, each with
    its traceback, innermost frame first."""
    lookup = _traceback_of()
    sites: Counter[tuple[Any, ...]] = Counter()
    sizes: dict[tuple[Any, ...], Counter[int]] = {}
    for address in pools:
        head = _PoolHeader.from_address(address)
        if head.arenaindex not in sparse:
            continue
        for block in _used_blocks(address):
            trace = lookup(0, block)
            key = tuple(trace) if trace is not None else (("untraced", 0),)
            sites[key] += 1
            sizes.setdefault(key, Counter())[(head.szidx + 1) * 16] += 1
    lines = [f"origins of the {sum(sites.values())} blocks in those arenas "
             f"({len(sites)} sites):"]
    for key, n in sites.most_common(limit):
        where = " <- ".join(f"{name.rsplit('/', 2)[-1] if '/' in name else name}:{line}"
                            for name, line in key[:frames])
        size = ",".join(f"{s}B" for s, _ in sizes[key].most_common(2))
        lines.append(f"x{n} ({size}) at {where}")
    return lines
