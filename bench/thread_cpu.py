"""CPU time per thread of this process, grouped by what the threads run, for turn_bench.

Python threads are known by name (`dialflow-stt_0`: whisper's worker, `dialflow-tts_0`:
piper's, `dialflow-turn_0`: Smart Turn's, `MainThread`: the event loop, which in the benches
also runs the simulated callers). The native threads that the model runtimes start (the
OpenMP team of CTranslate2, onnxruntime's intra-op pools) have no Python name: `claim(label)`
gives every native thread not claimed yet to `label`, so a bench calls it right after
loading each model. `ThreadCpu.since()` is the CPU seconds each group used since the
snapshot (Linux `/proc/self/task/*/schedstat`, nanoseconds; nothing elsewhere).
Touches only /proc of this process and `threading`.
"""

from __future__ import annotations

import os
import re
import threading
from collections import defaultdict
from pathlib import Path

TASKS = Path("/proc/self/task")
_TRAILING_NUMBER = re.compile(r"[_-]?\d+$")
_native: dict[int, str] = {}  # native thread id -> the runtime that started it

GROUPS = (  # Python thread name pattern -> group
    (r"dialflow-stt", "whisper (stt worker)"),
    (r"dialflow-tts", "piper (tts worker)"),
    (r"dialflow-turn", "smart turn (turn worker)"),
    (r"bench-caller", "bench callers' voice"),
    (r"MainThread", "event loop (server + callers)"),
)


def _cpu_ns(tid: int) -> int:
    try:
        return int((TASKS / str(tid) / "schedstat").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _tids() -> list[int]:
    try:
        return [int(t) for t in os.listdir(TASKS)]
    except OSError:
        return []


def _python_names() -> dict[int, str]:
    return {t.native_id: t.name for t in threading.enumerate() if t.native_id is not None}


def claim(label: str) -> int:
    """Label the native threads that no Python thread owns and nobody claimed; how many."""
    named = _python_names()
    new = [tid for tid in _tids() if tid not in named and tid not in _native]
    for tid in new:
        _native[tid] = label
    return len(new)


def group_of(tid: int, named: dict[int, str]) -> str:
    if tid in _native:
        return _native[tid]
    name = named.get(tid)
    if name is None:
        return "other native threads"
    for pattern, group in GROUPS:
        if re.match(pattern, name):
            return group
    return f"other python threads ({_TRAILING_NUMBER.sub('', name)})"


class ThreadCpu:
    """A snapshot of every thread's CPU time; `since()` groups what each used after it."""

    def __init__(self) -> None:
        self._start = {tid: _cpu_ns(tid) for tid in _tids()}

    def since(self) -> dict[str, float]:
        named = _python_names()
        used: dict[str, float] = defaultdict(float)
        for tid in _tids():
            used[group_of(tid, named)] += (_cpu_ns(tid) - self._start.get(tid, 0)) / 1e9
        return dict(used)


POOLS = (("whisper", "stt"), ("piper", "tts"), ("smart turn", "turn"))  # group -> pool


def lines(used: dict[str, float], turns: int, jobs: dict[str, int] | None = None) -> list[str]:
    """The groups, largest first, as CPU seconds in all and per turn; then, with `jobs`
    (jobs run per worker pool), each model's CPU (its worker and its native threads) per job."""
    total = sum(used.values())
    out = [f"  CPU by thread group ({total:.1f} s in all, {total / max(turns, 1):.3f} s "
           f"per turn over {turns} turns):"]
    for group, seconds in sorted(used.items(), key=lambda kv: -kv[1]):
        if seconds >= 0.005:
            out.append(f"    {group:<40} {seconds:6.2f} s  {seconds / max(turns, 1):.3f} s/turn")
    for model, pool in POOLS if jobs else ():
        seconds = sum(v for group, v in used.items() if group.startswith(model))
        count = (jobs or {}).get(pool, 0)
        if count:
            out.append(f"    {model}: {seconds * 1000 / count:.0f} ms CPU per job "
                       f"({count} jobs)")
    return out
