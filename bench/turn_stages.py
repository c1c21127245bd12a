"""Where a turn's time goes, for turn_bench: the worker jobs timed and the stages printed.

`time_workers()` puts a timing wrapper around the shared worker pools of
`adapters.local.workers` (stt: whisper, turn: Smart Turn, tts: piper): each job records how
long it waited in its pool's queue and how long it ran. `breakdown(stages, jobs)` prints the
per-turn stages of `engine.latency` (seconds from the end of the caller's speech) as p50/p95
and the step between consecutive stages, then the jobs. Works on any checkout that has the
worker pools. Touches only the pools' registry, for the length of a bench.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

STEPS = (  # stage, what the step up to it is
    ("final_transcript", "end-of-turn pause + transcript + decision (+ queue)"),
    ("retrieval", "brain: knowledge search"),
    ("llm_first_token", "brain: first token"),
    ("first_sentence", "brain: first sentence to the engine"),
    ("tts_first_byte", "first clause synthesised"),
    ("first_frame", "first frame sent (pacing)"),
    ("first_mark", "first mark back (network, phone buffer)"),
)


class TimedExecutor(Executor):
    """Forwards to `inner`, recording (queue wait, run time) per job under `name`."""

    def __init__(self, inner: Executor, name: str, jobs: dict[str, list[tuple[float, float]]]):
        self.inner, self.name, self.jobs = inner, name, jobs

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.inner.submit(self._timed(fn, *args, **kwargs))

    def submit_by(self, deadline: float, fn: Callable[..., Any], /, *args: Any,
                  **kwargs: Any) -> Future[Any]:
        """A pool that orders by deadline (adapters.local.deadline) keeps doing so."""
        submit_by = getattr(self.inner, "submit_by", None)
        timed = self._timed(fn, *args, **kwargs)
        return submit_by(deadline, timed) if submit_by else self.inner.submit(timed)

    @property
    def busy(self) -> bool:
        """The wrapped pool's (a pool that cannot say counts as busy)."""
        return bool(getattr(self.inner, "busy", True))

    def _timed(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Callable[[], Any]:
        queued = time.perf_counter()

        def run() -> Any:
            began = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.jobs[self.name].append((began - queued, time.perf_counter() - began))

        return run

    def shutdown(self, wait: bool = True, **kwargs: Any) -> None:
        self.inner.shutdown(wait, **kwargs)


def time_workers() -> dict[str, list[tuple[float, float]]]:
    """Wrap the shared pools (made now if needed); their jobs' timings go in the result."""
    from adapters.local import workers

    jobs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for name in ("stt", "tts", "turn"):
        make = getattr(workers, f"{name}_executor", None)
        if make is None:
            continue
        pool = make()
        if isinstance(pool, TimedExecutor):  # a second run: its jobs go in the new lists
            pool.jobs = jobs
        else:
            workers._pools[name] = TimedExecutor(pool, name, jobs)  # type: ignore[assignment]
    return jobs


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def breakdown(stages: dict[str, list[float]], jobs: dict[str, list[tuple[float, float]]],
              pause_ms: int | None) -> list[str]:
    """The lines to print: each stage's p50/p95 and the p50 step from the stage before."""
    lines = ["  where the time goes (p50 / p95 from the end of the caller's speech; step = "
             "p50 minus the previous stage's p50):"]
    previous = 0.0
    for stage, what in STEPS:
        values = stages.get(stage, [])
        if not values:
            continue
        p50 = _pct(values, .5)
        lines.append(f"    {stage:<17} {p50 * 1000:5.0f} / {_pct(values, .95) * 1000:5.0f} ms"
                     f"  step {(p50 - previous) * 1000:+5.0f} ms  {what}")
        previous = p50
    if pause_ms is not None:
        lines.append(f"    (of final_transcript, the pause itself is {pause_ms} ms by policy)")
    for name, timed in sorted(jobs.items()):
        waits, runs = [w for w, _ in timed], [r for _, r in timed]
        lines.append(f"    {name} jobs: queue p50 {_pct(waits, .5) * 1000:.0f} / p95 "
                     f"{_pct(waits, .95) * 1000:.0f} ms, run p50 {_pct(runs, .5) * 1000:.0f} "
                     f"/ p95 {_pct(runs, .95) * 1000:.0f} ms (n={len(timed)})")
    return lines
