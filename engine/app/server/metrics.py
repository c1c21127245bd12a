"""Prometheus metrics of the server: calls, per-turn latency, provider time to first byte,
errors by component and transitions by state. One registry per app (tests get their own).

Under `dialflow serve --workers N` (`PROMETHEUS_MULTIPROC_DIR` set before the first metric is
made, see `enable_multiprocess`) every worker writes its values to files in that directory
and `/metrics`, whichever worker answers, renders the sum over all workers: counters and
histograms keep what dead workers counted, `dialflow_active_calls` sums the live ones only.
"""

from __future__ import annotations

import os
from array import array
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import values as _values

from engine.environment import PROMETHEUS_MULTIPROC_DIR

MULTIPROC_ENV = PROMETHEUS_MULTIPROC_DIR


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def enable_multiprocess(directory: str | Path) -> None:
    """Switch this process (and the ones it forks) to multiprocess metrics in `directory`,
    wiping what an earlier run left there. Call before any metric is made."""
    from prometheus_client import values

    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)
    values.ValueClass = values.get_value_class()


def worker_exited(pid: int) -> None:
    """Forget a dead worker's live gauges (its counters stay in the totals)."""
    from prometheus_client import multiprocess

    if multiprocess_dir():
        multiprocess.mark_process_dead(pid)

class SlotValue(_values.MutexValue):
    """prometheus_client's in-process value, its float kept in a slot made with the metric.
    The stock one replaces a Python float on every observation, so each bucket, sum and
    gauge holds a float born at its last update: after a burst of calls, about 70 of them
    were among the few blocks that kept the burst's pymalloc arenas mapped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slot = array("d", [0.0])

    def inc(self, amount: float) -> None:
        with self._lock:
            self._slot[0] += amount

    def set(self, value: float, timestamp: float | None = None) -> None:
        with self._lock:
            self._slot[0] = value

    def get(self) -> float:
        with self._lock:
            return self._slot[0]


if _values.ValueClass is _values.MutexValue:  # multiprocess mode (files) stays as it is
    _values.ValueClass = SlotValue

LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.active_calls = Gauge("dialflow_active_calls", "calls in progress", registry=r,
                                  multiprocess_mode="livesum")
        self.calls_total = Counter("dialflow_calls_total", "calls started", registry=r)
        self.turn_seconds = Histogram(
            "dialflow_turn_latency_seconds",
            "end of caller speech to first agent audio frame sent", buckets=LATENCY_BUCKETS,
            registry=r)
        self.ttfb_seconds = Histogram(
            "dialflow_provider_ttfb_seconds", "provider time to first byte",
            ["provider"], buckets=LATENCY_BUCKETS, registry=r)
        self.stage_seconds = Histogram(
            "dialflow_turn_stage_seconds",
            "time from the end of caller speech to each stage of the answer", ["stage"],
            buckets=LATENCY_BUCKETS, registry=r)
        self.errors_total = Counter("dialflow_errors_total", "errors by component",
                                    ["component"], registry=r)
        self.transitions_total = Counter("dialflow_transitions_total",
                                         "handled events by the state they led to", ["state"],
                                         registry=r)

    def turn_latency(self, seconds: float) -> None:
        self.turn_seconds.observe(seconds)

    def ttfb(self, provider: str, seconds: float) -> None:
        self.ttfb_seconds.labels(provider).observe(seconds)

    def stage(self, stage: str, seconds: float) -> None:
        self.stage_seconds.labels(stage).observe(seconds)

    def error(self, component: str) -> None:
        self.errors_total.labels(component).inc()

    def transition(self, state: str) -> None:
        self.transitions_total.labels(state).inc()

    def render(self) -> bytes:
        if multiprocess_dir():
            from prometheus_client import multiprocess

            machine = CollectorRegistry()
            multiprocess.MultiProcessCollector(machine)
            return generate_latest(machine)
        return generate_latest(self.registry)
