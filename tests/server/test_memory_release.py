"""After a burst of calls the server hands the burst's memory back (`MemoryRelease`): only
when the open sockets fell well below their peak (a steady load never pays for it), and
under glibc malloc (`PYTHONMALLOC=malloc`, a deployment's choice) the RSS really comes
down even though a few objects from the burst live on, which pymalloc's arenas cannot do."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from engine.app.server.memory_release import MemoryRelease

ROOT = Path(__file__).resolve().parents[2]


def _checks(counts: tuple[int, ...]) -> tuple[list[bool], list[int], MemoryRelease]:
    """`check()` after each socket count in turn (min_drop 10): whether each released, the
    counts each release saw, and the release object."""
    open_now = [0]
    released: list[int] = []
    memory = MemoryRelease(lambda: open_now[0], release=lambda: released.append(open_now[0]),
                           min_drop=10)

    async def scenario() -> list[bool]:
        results = []
        for sockets in counts:
            open_now[0] = sockets
            results.append(await memory.check())
        return results

    return asyncio.run(scenario()), released, memory


def test_a_release_runs_only_after_the_sockets_fell_from_their_peak() -> None:
    results, released, memory = _checks((5, 50, 45, 100, 95, 91, 80, 80, 75, 0, 0))
    assert results == [False, False, False, False, False, False, True, False, False, True,
                       False]
    assert released == [80, 0] and memory.describe()["releases_after_bursts"] == 2


BURST = """
import asyncio, sys
sys.path.insert(0, {root!r})
from engine.app.server.memory_release import MemoryRelease, rss_mib
before = rss_mib()
burst = [[str(i) * 8 for i in range(j, j + 100)] for j in range(0, 2_000_000, 100)]
survivors = [lists[0] for lists in burst[::50]]  # a few objects from the burst live on
peak = rss_mib()
del burst
sockets = [0]
memory = MemoryRelease(lambda: sockets.pop() if sockets else 0, min_drop=0)
memory.peak = 100
asyncio.run(memory.check())
after = rss_mib()
print(before, peak, after, memory.describe()["released_mib"])
"""


def test_under_glibc_malloc_the_burst_s_memory_comes_back() -> None:
    env = {**os.environ, "PYTHONMALLOC": "malloc"}
    out = subprocess.run([sys.executable, "-c", BURST.format(root=str(ROOT))], env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    before, peak, after, released = map(float, out.split())
    assert peak - before > 100  # the burst took well over 100 MiB
    assert after - before < (peak - before) * 0.2, out  # and most of it came back
    assert released > 50


FIRST_RELEASE = """
import asyncio, sys
sys.path.insert(0, {root!r})
from engine.app.server.memory_release import MemoryRelease
asyncio.run(asyncio.to_thread(int))  # the server's loop has used its worker threads already
loaded = set(sys.modules)
memory = MemoryRelease(lambda: 0, min_drop=0)
memory.peak = 100
asyncio.run(memory.check())
print(" ".join(sorted(set(sys.modules) - loaded)))
"""


def test_the_first_release_after_a_burst_imports_nothing() -> None:
    """A module imported by the first release (it runs just after a burst) lives for ever in
    the burst's pymalloc arenas and keeps them mapped; it is imported at start-up instead."""
    out = subprocess.run([sys.executable, "-c", FIRST_RELEASE.format(root=str(ROOT))],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.split() == []


def test_a_release_runs_no_library_search(monkeypatch: Any) -> None:
    """`malloc_trim` is resolved once at import: a release runs no `ldconfig` subprocess
    and builds no `CDLL` (each left objects of its own behind, after every burst)."""
    import ctypes
    import ctypes.util

    from adapters.local import pool

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("a release searched for libc again")

    monkeypatch.setattr(ctypes.util, "find_library", forbidden)
    monkeypatch.setattr(ctypes, "CDLL", forbidden)
    monkeypatch.setattr(subprocess, "Popen", forbidden)
    pool.return_freed_memory()
    asyncio.run(MemoryRelease(lambda: 0, min_drop=0).check())


def test_the_end_of_a_burst_is_released_too() -> None:
    """The release its first endings brought ran while calls were still ending: when the
    last ones are gone (sockets at 0), what they freed is handed back as well, once."""
    results, released, _ = _checks((100, 5, 3, 0, 0, 2, 0))
    assert results == [False, True, False, True, False, False, True]
    assert released == [5, 0, 0]


FREE_LISTS = """
import asyncio, gc, sys
sys.path.insert(0, {root!r})
from engine.app.server.memory_release import MemoryRelease
gc.disable()  # only the release collects
burst = [tuple([i, i, i]) for i in range(50_000)]
del burst  # 2,000 of these stay allocated in the tuple free list
before = sys.getallocatedblocks()
memory = MemoryRelease(lambda: 0, min_drop=0)
memory.peak = 100
asyncio.run(memory.check())
print(before - sys.getallocatedblocks())
"""


def test_a_release_empties_the_interpreter_s_free_lists() -> None:
    """The blocks CPython keeps on its free lists after a burst sit in the burst's pymalloc
    arenas and keep them mapped: the release's full collection hands them back."""
    out = subprocess.run([sys.executable, "-c", FREE_LISTS.format(root=str(ROOT))],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert int(out) >= 1000


def test_tidy_runs_before_each_release_only() -> None:
    """The app's `tidy` (sqlite3's dead cursor references) runs right before each release,
    never on a check that releases nothing."""
    order: list[str] = []
    open_now = [0]
    memory = MemoryRelease(lambda: open_now[0], release=lambda: order.append("release"),
                           tidy=lambda: order.append("tidy"), min_drop=10)

    async def scenario() -> None:
        for sockets in (50, 45, 0, 0):
            open_now[0] = sockets
            await memory.check()

    asyncio.run(scenario())
    assert order == ["tidy", "release"]


TYPE_CACHE = """
import asyncio, sys
sys.path.insert(0, {root!r})
from engine.app.server.memory_release import MemoryRelease

kinds = [type(f"Tz{{i}}", (), {{"utcoffset": lambda self: 0}}) for i in range(20)]
names = ["".join(["utc", "offset"]) for _ in kinds]  # made at run time, as C code makes them
def cached():  # how many names something beyond `names` refers to
    return sum(sys.getrefcount(names[i]) > 2 for i in range(len(names)))
assert cached() == 0
for kind, name in zip(kinds, names):
    getattr(kind, name)  # looked up: CPython's type cache keeps a reference to the name
del name
held = cached()
memory = MemoryRelease(lambda: 0, min_drop=0)
memory.peak = 100
asyncio.run(memory.check())
print(held, cached())
"""


def test_a_release_drops_the_names_the_type_cache_holds() -> None:
    """CPython's method cache keeps a strong reference to the last string each attribute
    lookup used (`PyObject_CallMethod(tz, "utcoffset")` in datetime makes a new one every
    call), so the strings of a burst's last lookups stay alive in the burst's pymalloc
    arenas, where nothing the collector sees holds them: the release lets them go."""
    out = subprocess.run([sys.executable, "-c", TYPE_CACHE.format(root=str(ROOT))],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    held, after = map(int, out.split())
    assert held == 20 and after == 0, out


LOOP_FREE_LISTS = """
import asyncio, gc, sys
import uvloop
sys.path.insert(0, {root!r})
from engine.app.server.memory_release import MemoryRelease

async def burst(loop):
    handles = [loop.call_soon(int) for _ in range(2000)]
    handles += [loop.call_later(0, int) for _ in range(2000)]
    fired = loop.create_future()
    loop.call_later(0, fired.set_result, None)  # after the timers above
    futures = [loop.create_future() for _ in range(1000)]
    async def waiter(future):
        await future
    tasks = [asyncio.ensure_future(waiter(f)) for f in futures]
    await asyncio.sleep(0)
    for future in futures:
        future.set_result(None)
    await asyncio.gather(*tasks)
    del handles, futures, tasks
    await fired
    for _ in range(3):
        await asyncio.sleep(0)  # the loop has let go of the handles and their timers

async def main():
    loop = asyncio.get_running_loop()
    sockets = [0]
    memory = MemoryRelease(lambda: sockets[0], min_drop=0)
    memory.start()  # on the loop, before any call
    await memory.stop()  # only `check` below releases
    memory.peak = 1
    await memory.check()  # the lists are empty from here on
    gc.collect()
    before = sys.getallocatedblocks()
    await burst(loop)
    gc.collect()
    kept = sys.getallocatedblocks() - before
    memory.peak = 1
    await memory.check()
    gc.collect()
    print(kept, sys.getallocatedblocks() - before)

uvloop.run(main())
"""


def test_a_release_empties_the_event_loop_s_free_lists() -> None:
    """uvloop keeps up to 250 freed handles and as many timer handles, and CPython's
    `_asyncio` up to 255 freed future iterators: after a burst these are the ones born at
    its peak, in its arenas. The release hands them back to the allocator."""
    out = subprocess.run([sys.executable, "-c", LOOP_FREE_LISTS.format(root=str(ROOT))],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    kept, after = map(int, out.split())
    assert kept > 400, out  # the burst filled the lists of handles and iterators
    assert after < 50, out
