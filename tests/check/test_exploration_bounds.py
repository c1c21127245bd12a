"""The exploration itself is bounded: a size and a time limit, reported, never a hang."""

from __future__ import annotations

from pathlib import Path

from flows import load_flow
from flows.explore.search import explore
from flows.explore.step import Rules

ROOT = Path(__file__).resolve().parents[2]


def test_the_size_limit_stops_and_says_so() -> None:
    rules = Rules(load_flow(ROOT / "flows.yaml"))
    whole = explore(rules)
    assert not whole.truncated and len(whole.order) == len(whole.parent) > 100
    small = explore(rules, limit=50)
    assert small.truncated and len(small.parent) == 50


def test_the_time_limit_stops_and_says_so() -> None:
    rules = Rules(load_flow(ROOT / "flows.yaml"))
    graph = explore(rules, seconds=0.0)
    assert graph.truncated and len(graph.order) <= 1
