"""Per-turn overlap for turn_bench's `latency`: what ran side by side in each turn.

For every finished turn, in seconds from the end of the caller's speech: when the pause's
transcription was queued (`e` = early, at a `Pausing` before the pause), when its transcript
was back, when the turn was committed (`final_transcript`), whether the reply was started
speculatively before the commit (and how far ahead), the brain's first sentence and the
first frame sent. Under load the wall figures move, but the order of these events and the
gaps between them show whether the work overlapped. Collected from the local turn decider's
and the speculator's debug logs and the turn timelines (engine.latency), for the length of
a bench (`Overlap` is a context manager). Works on older checkouts too: what they do not
log is shown as "-". Touches logging and `TurnTimeline._finish`, restored on exit.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

LOGGERS = ("dialflow.local.turn", "dialflow.turns.speculation")
_AHEAD = re.compile(r"used \(\d+ sentences ready, started ([0-9.]+)s ahead\)")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


class _Collect(logging.Handler):
    def __init__(self, owner: Overlap) -> None:
        super().__init__(logging.DEBUG)
        self.owner = owner

    def emit(self, record: logging.LogRecord) -> None:
        timing = getattr(record, "turn_timing", None)
        if timing is not None:
            self.owner.timings.append(dict(timing))
            return
        if record.name == "dialflow.turns.speculation" and isinstance(record.args, tuple) \
                and len(record.args) == 2:
            call_id, what = record.args
            self.owner.speculations.append((str(call_id), time.perf_counter(), str(what)))


class Overlap:
    """Collects the per-turn events of the calls run inside `with Overlap() as o:`."""

    def __init__(self) -> None:
        self.timings: list[dict[str, Any]] = []
        self.speculations: list[tuple[str, float, str]] = []  # (call, perf, what)
        self.turns: list[tuple[str, float, dict[str, float]]] = []  # (call, start, stages)
        self._handler = _Collect(self)
        self._saved: list[tuple[logging.Logger, int, bool]] = []
        self._finish: Any = None

    def __enter__(self) -> Overlap:
        from engine.latency import TurnTimeline

        for name in LOGGERS:
            logger = logging.getLogger(name)
            self._saved.append((logger, logger.level, logger.propagate))
            logger.setLevel(logging.DEBUG)
            logger.propagate = False  # collected here, not printed
            logger.addHandler(self._handler)
        self._finish = original = TurnTimeline._finish
        turns = self.turns

        def finish(timeline: Any) -> None:
            start = timeline._stamps.get("caller_done", 0.0)
            original(timeline)
            turns.append((timeline.call_id, start, dict(timeline.last)))

        TurnTimeline._finish = finish  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: Any) -> None:
        from engine.latency import TurnTimeline

        TurnTimeline._finish = self._finish  # type: ignore[method-assign]
        for logger, level, propagate in self._saved:
            logger.removeHandler(self._handler)
            logger.setLevel(level)
            logger.propagate = propagate

    def rows(self) -> list[dict[str, Any]]:
        """One dict per finished turn: asked, early, ready, committed, ahead, sentence,
        frame (seconds from the end of the speech; None when unknown)."""
        out = []
        for call_id, start, stages in self.turns:
            timing = next((t for t in self.timings if t.get("call_id") == call_id
                           and abs(t.get("speech_end", -1.0) - start) < 1e-6), None)
            frame = stages.get("first_frame")
            ahead = None
            for spec_call, at, what in self.speculations:
                found = _AHEAD.match(what)
                if spec_call == call_id and found and start <= at <= start + (frame or 60):
                    ahead = float(found.group(1))
            out.append({
                "call": call_id, "asked": timing["asked"] if timing else None,
                "early": bool(timing and timing.get("early")),
                "ready": timing["ready"] if timing else None,
                "committed": stages.get("final_transcript"), "ahead": ahead,
                "sentence": stages.get("first_sentence"), "frame": frame})
        return out

    def lines(self) -> list[str]:
        rows = self.rows()
        if not rows:
            return []

        def s(value: float | None) -> str:
            return "    -" if value is None else f"{value:+5.2f}"

        out = ["  per turn, s from the end of the caller's speech: whisper queued (e = early) "
               "/ transcript / committed / reply started ahead of the commit / first sentence "
               "/ first frame"]
        for row in rows:
            ahead = "    -" if row["ahead"] is None else f"{row['ahead']:5.2f}"
            out.append(f"    {row['call'][:10]:<10} {s(row['asked'])}{'e' if row['early'] else ' '}"
                       f" {s(row['ready'])} {s(row['committed'])} {ahead} "
                       f"{s(row['sentence'])} {s(row['frame'])}")
        known = [r for r in rows if r["asked"] is not None]
        gaps = [r["sentence"] - r["committed"] for r in rows
                if r["sentence"] is not None and r["committed"] is not None]
        out.append(f"    p50: whisper queued {_pct([r['asked'] for r in known], .5):+.3f} s "
                   f"({sum(r['early'] for r in rows)}/{len(rows)} early), transcript "
                   f"{_pct([r['ready'] for r in known], .5):+.3f} s, commit -> first sentence "
                   f"{_pct(gaps, .5):+.3f} s, replies started before the commit "
                   f"{sum(r['ahead'] is not None for r in rows)}/{len(rows)}")
        return out
