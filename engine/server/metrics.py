"""Prometheus metrics of the server: calls, per-turn latency, provider time to first byte,
errors by component and transitions by state. One registry per app (tests get their own)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.active_calls = Gauge("dialflow_active_calls", "calls in progress", registry=r)
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
        return generate_latest(self.registry)
