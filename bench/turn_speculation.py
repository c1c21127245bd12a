"""The latency a speculative reply saves, for turn_bench (`--only speculate`).

Whole offline calls through the real Twilio protocol, one at a time (turn_bench's `latency`:
whisper tiny.en, Smart Turn, piper, the rules brain held back 200 ms before its first
sentence), on caller lines whose turn does not read finished at the pause, so the turn
waits up to `max_wait_ms` of silence before it commits — the time the brain and the first
clause's synthesis can use. The same lines run with the flow's `turn.speculate` on and off
(a copy of flows.yaml); printed: end of the caller's speech -> first agent frame, p50/p95,
the part of it after the turn committed (the final transcript: what speculation can save,
free of whisper's load-bound time), what the speculators did, and the load average around
the runs (the machine is shared). Touches a temporary flow file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WAITING_LINES = [  # each reads unfinished at the pause: the turn waits, then ends at the cap
    "My number is five five five",  # whisper writes "555": a number still short
    "Could I please talk to",
    "I have a question about the",
]
ROUNDS = 2  # calls per setting (3 turns each)


def _flow(speculate: bool) -> Path:
    text = (ROOT / "flows.yaml").read_text(encoding="utf-8")
    if "speculate:" in text:
        text = text.replace("speculate: true", f"speculate: {str(speculate).lower()}")
    path = Path(tempfile.mkdtemp()) / "flows.yaml"
    path.write_text(text, encoding="utf-8")
    for extra in ("knowledge", "data", "states"):  # what the flow's relative paths name
        if (ROOT / extra).exists() and not (path.parent / extra).exists():
            (path.parent / extra).symlink_to(ROOT / extra)
    return path


def _ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    ordered = sorted(values)

    def pct(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return f"p50 {pct(.5):5.0f} ms  p95 {pct(.95):5.0f} ms  (n={len(values)})"


class _Outcomes(logging.Handler):
    """Counts what the speculators did (started, used, dropped, skipped) from their log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        words = record.getMessage().split("speculation ", 1)
        if len(words) == 2:
            self.seen[words[1].split(" ")[0]] += 1


async def compare(latency: Callable[..., Awaitable[dict[str, list[float]]]]) -> list[str]:
    """Both settings, alternating calls so that the load hits both alike."""
    outcomes = {True: _Outcomes(), False: _Outcomes()}
    logger = logging.getLogger("dialflow.turns.speculation")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False  # counted here, not printed
    frames: dict[bool, list[float]] = {True: [], False: []}
    after_commit: dict[bool, list[float]] = {True: [], False: []}
    loads: list[float] = []
    flows = {on: _flow(on) for on in (True, False)}
    for _ in range(ROUNDS):
        for on in (True, False):
            loads.append(os.getloadavg()[0])
            logger.addHandler(outcomes[on])
            try:
                stages: dict[str, Any] = await latency(1, None, flows[on], WAITING_LINES)
            finally:
                logger.removeHandler(outcomes[on])
            frames[on].extend(stages.get("first_frame", []))
            pairs = zip(stages.get("first_frame", []), stages.get("final_transcript", []),
                        strict=False)  # one of each per finished turn
            after_commit[on].extend(frame - commit for frame, commit in pairs)
    loads.append(os.getloadavg()[0])
    out = ["speculation, turns that wait at the pause (shared machine, load average "
           f"{min(loads):.1f}-{max(loads):.1f}), end of caller speech -> first agent frame:"]
    for on in (True, False):
        seen = ", ".join(f"{k} {v}" for k, v in sorted(outcomes[on].seen.items())) or "none"
        out.append(f"  turn.speculate {str(on).lower():<5} {_ms(frames[on])}  "
                   f"[speculations: {seen}]")
        out.append(f"    of which turn committed -> first frame  {_ms(after_commit[on])}")
    if frames[True] and frames[False]:
        saved = sorted(frames[False])[len(frames[False]) // 2] - \
            sorted(frames[True])[len(frames[True]) // 2]
        out.append(f"  saved at the median: {saved * 1000:.0f} ms")
    return out
