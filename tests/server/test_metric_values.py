"""Metric values keep their number in a slot made with the metric (`SlotValue`): an
observation leaves no newly allocated block behind (the stock value held a float born at
each bucket's, sum's and gauge's last update, and after a burst those floats were among the
blocks that kept the burst's memory mapped). Values read and render as before."""

from __future__ import annotations

import gc
import tracemalloc

from engine.app.server.metrics import Metrics


def _observe(metrics: Metrics, n: int) -> None:
    for i in range(n):
        metrics.turn_latency(0.01 * (i % 300))
        metrics.stage("brain", 0.2 + i / 1000)
        metrics.error("twilio")
        metrics.active_calls.inc()
        metrics.active_calls.dec(0.5)


def test_observations_leave_no_block_behind() -> None:
    metrics = Metrics()
    _observe(metrics, 5)  # the label children are made once, on their first use
    tracemalloc.start()
    try:
        _observe(metrics, 200)
        gc.collect()  # a full collection empties CPython's free lists (tuples, floats)
        left = [trace for trace in tracemalloc.take_snapshot().traces
                if "prometheus_client" in trace.traceback[0].filename]
    finally:
        tracemalloc.stop()
    assert left == []


def test_values_read_and_render_as_before() -> None:
    metrics = Metrics()
    _observe(metrics, 4)
    text = metrics.render().decode()
    assert "dialflow_errors_total{component=\"twilio\"} 4.0" in text
    assert "dialflow_active_calls 2.0" in text
    assert "dialflow_turn_latency_seconds_count 4.0" in text
    assert "dialflow_turn_latency_seconds_bucket{le=\"0.05\"} 4.0" in text
