"""Path exploration for `dialflow check`: every configuration a call can reach, every event
the outside world can produce there, and the findings (stalls, lost input, loops, lost
marks, retried transfers, unbounded calls, dead constructs, clashes) with their witnesses.

Works on the flow as data: `flows.model.Flow` plus the names of the tools and providers
the caller of `explore_flow` knows (the CLI passes the installed ones).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from flows.explore.finding import ERROR, WARNING, Finding, Witness
from flows.explore.loops import loops, retries, unbounded
from flows.explore.music import music_over_nothing
from flows.explore.search import explore
from flows.explore.static import clashes, dead_constructs
from flows.explore.step import Rules
from flows.explore.waits import lost_input, lost_marks, stalls
from flows.model import Flow

__all__ = ["ERROR", "WARNING", "Finding", "Report", "Rules", "Witness", "explore_flow"]


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    configurations: int = 0
    seconds: float = 0.0
    truncated: bool = False
    rules: Rules | None = None


def explore_flow(flow: Flow, text: str = "", tools: frozenset[str] | None = None,
                 builtin_tools: frozenset[str] | None = None,
                 providers: Mapping[str, frozenset[str]] | None = None) -> Report:
    """Explore `flow` and return every finding, most severe first, then by line.

    `tools`: every tool name the brain can call (None: unknown, guards are not checked);
    `builtin_tools`: names an HTTP tool must not take; `providers`: known names per slot."""
    started = time.perf_counter()
    rules = Rules(flow, tools)
    graph = explore(rules)
    findings = [*stalls(rules, graph), *lost_input(rules, graph), *lost_marks(rules, graph),
                *loops(rules, graph), *retries(rules, graph), *unbounded(rules, graph),
                *music_over_nothing(rules, graph),
                *dead_constructs(flow, tools, rules, graph),
                *clashes(flow, text, builtin_tools, providers)]
    if graph.truncated:
        findings.append(Finding("too-large", WARNING, flow.path, 1,
                                f"explored only {len(graph.order)} configurations (the "
                                "exploration's size or time limit): findings may be missing",
                                "split the flow, or use fewer or smaller counters"))
    findings.sort(key=lambda f: (f.severity != ERROR, f.line, f.kind))
    return Report(findings, len(graph.order), time.perf_counter() - started,
                  graph.truncated, rules)
