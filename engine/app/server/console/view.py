"""`CallView`: one call as the console shows it, built line by line from its event log.

Each event-log record (see `engine/records/log.py`) becomes zero or more display items, the
only thing a page ever receives: state changes, caller and agent lines, whether each agent
line was heard or cut off by a barge-in, turn latencies, timers, tool and transfer outcomes
and one trace row per handled event. Every string is redacted (phone numbers as in the
logs) and cut to a bounded length here, and a call keeps at most `MAX_ITEMS` items, so a
hostile or huge log cannot grow a page without bound. A `light` view (a live call no page
follows) folds only what its list row shows and keeps no items. Pure data: no I/O, no clock.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from engine.redaction import escape_id, redact_number, redact_text

MAX_ITEMS = 20_000  # per call; past this the view says so and keeps only how it ended
MAX_TEXT = 2_000  # characters of one transcript line or trace detail
PLAYBACK_DONE = "agent.playback_done"
STOP_SPEAKING = "stop_speaking"
LATENCY_STAGES = ("final_transcript", "retrieval", "llm_first_token", "first_sentence",
                  "tts_first_byte", "first_frame", "first_mark")


def clip(value: Any, limit: int = MAX_TEXT) -> str:
    """Any value as redacted text of at most `limit` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False,
                                                           default=str)
    text = redact_text(text)
    return text if len(text) <= limit else text[:limit] + "…"


def _num(value: Any, default: float = 0.0) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if number == number and abs(number) < 1e11 else default  # no NaN, inf


@dataclass
class CallView:
    key: str  # the log's file stem: the call's name in the console's URLs
    call_id: str = ""
    caller: str = ""
    started: float = 0.0  # wall time of the log's header
    flow: str = "unknown"
    flow_name: str = ""
    pid: int = 0
    host: str = ""
    state: str = ""
    last_t: float = 0.0
    ended: str = ""  # the final state, or why the call stopped being live
    timer: tuple[str, float] | None = None  # (event, deadline in call seconds)
    items: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    turns: int = 0  # finished turns (their latency recorded)
    light: bool = False  # fold only what the list row shows (no items): no page follows it
    end_record: bool = False  # it ended by its own `end` record
    _pending: set[str] = field(default_factory=set)

    # -- reading records ------------------------------------------------------------------
    def apply(self, rec: dict[str, Any]) -> None:
        """Fold one event-log record into the view; unknown or malformed ones are skipped."""
        kind = rec.get("k")
        handler: Callable[[dict[str, Any]], None] | None = getattr(self, f"_on_{kind}", None) \
            if isinstance(kind, str) and kind.isidentifier() else None
        if handler is None:
            return
        try:
            handler(rec)
        except (KeyError, TypeError, ValueError, AttributeError):
            return
        self.last_t = max(self.last_t, _num(rec.get("end", rec.get("t"))))

    def _add(self, kind: str, t: Any, **fields: Any) -> None:
        if self.light or (self.truncated and kind != "end"):
            return
        if len(self.items) >= MAX_ITEMS and not self.truncated:
            self.truncated = True
            fields, kind = {"text": f"more than {MAX_ITEMS} items: the rest is not shown"}, \
                "note"
        self.items.append({"i": len(self.items), "k": kind, "t": round(_num(t), 3), **fields})

    def _on_call(self, rec: dict[str, Any]) -> None:
        self.call_id = escape_id(str(rec.get("id", "")), 120)
        self.caller = redact_number(str(rec.get("caller", "")))
        self.started = _num(rec.get("start"))
        self.flow = clip(rec.get("flow", "unknown"), 40)
        self.flow_name = clip(rec.get("flow_name", ""), 200)
        self.pid = int(_num(rec.get("pid")))
        self.host = clip(rec.get("host", ""), 100)

    def _on_ev(self, rec: dict[str, Any]) -> None:
        t, handled = rec.get("t"), bool(rec.get("h", 1))
        if self.light:  # the row's state and timer only
            before, after = rec.get("b", ""), rec.get("a", rec.get("b", ""))
            if handled and (after != before or rec.get("n") == "re-entered" or not before):
                self.state = clip(after, 100)
            if "tm" in rec:
                self._timer(t, rec["tm"])
            return
        event = clip(rec.get("e", ""), 100)
        before = clip(rec.get("b", ""), 100)
        after = clip(rec.get("a", before), 100)
        note = clip(rec.get("n", ""), 200)
        effects = [clip(x, 200) for x in (rec.get("x") or [])[:20]]
        data = rec.get("d") if isinstance(rec.get("d"), dict) else {}
        self._add("ev", t, e=event, b=before, a=after, x=effects, n=note, h=int(handled),
                  d=clip(data, 400) if data else "")
        if handled and (after != before or note == "re-entered" or not before):
            self.state = after
            self._add("state", t, frm=before, to=after, e=event)
        if event == "caller.utterance":
            self._add("caller", t, text=clip(data.get("text", "")) or "(nothing understood)")
        elif event == "caller.dtmf":
            self._add("caller", t, text=f"(pressed {clip(data.get('digit', '?'), 8)})")
        elif event == PLAYBACK_DONE:
            self._playback_done(t, data, note)
        if STOP_SPEAKING in effects and self._pending:
            self._add("barge", t, text="the caller talked over the agent: playback cleared")
            for speech in sorted(self._pending):
                self._add("cut", t, id=speech)
            self._pending.clear()
        if "tm" in rec:
            self._timer(t, rec["tm"])

    def _playback_done(self, t: Any, data: dict[str, Any], note: str) -> None:
        speech = data.get("speech")
        if speech is None:
            if note != "stale":
                for each in sorted(self._pending):
                    self._add("heard", t, id=each)
                self._pending.clear()
            return
        speech = clip(speech, 40)
        self._add("cut" if note == "stale" else "heard", t, id=speech)
        self._pending.discard(speech)

    def _timer(self, t: Any, value: Any) -> None:
        if isinstance(value, list) and len(value) == 2:
            event, left = clip(value[0], 100), _num(value[1])
            self.timer = (event, _num(t) + left)
            self._add("timer", t, e=event, left=round(left, 2))
        else:
            self.timer = None
            self._add("timer", t, e="", left=0)

    def _on_say(self, rec: dict[str, Any]) -> None:
        if self.light:
            return
        speech = clip(rec.get("id", ""), 40)
        self._add("agent", rec.get("t"), id=speech, text=clip(rec.get("text", "")))
        if rec.get("cut"):
            self._add("cut", rec.get("end", rec.get("t")), id=speech)
        elif rec.get("err"):
            self._add("failed", rec.get("end", rec.get("t")), id=speech,
                      text=clip(rec["err"], 300))
        else:
            self._pending.add(speech)

    def _on_reply(self, rec: dict[str, Any]) -> None:
        if self.light:
            return
        outcome = "cut off" if rec.get("cut") else f"failed: {clip(rec['err'], 300)}" \
            if rec.get("err") else "done"
        self._add("reply", rec.get("t"), text=f"brain reply to {clip(rec.get('q', ''), 300)!r}"
                  f": {len(rec.get('o') or [])} item(s), {outcome}")

    def _on_tool(self, rec: dict[str, Any]) -> None:
        if self.light:
            return
        ok = bool(rec.get("ok"))
        result = rec.get("res") if ok else rec.get("err") or rec.get("raised") or \
            ("cancelled" if rec.get("cut") else "")
        self._add("tool", rec.get("t"), name=clip(rec.get("name", ""), 100),
                  args=clip(rec.get("args", {}), 600), ok=int(ok), res=clip(result, 600),
                  end=round(_num(rec.get("end", rec.get("t"))), 3))

    def _on_transfer(self, rec: dict[str, Any]) -> None:
        if self.light:
            return
        ok = bool(rec.get("ok"))
        detail = "connected" if ok else "cancelled" if rec.get("cut") else \
            f"failed: {clip(rec.get('err', ''), 300)}"
        self._add("transfer", rec.get("t"), to=redact_number(str(rec.get("to", ""))),
                  ok=int(ok), text=detail, end=round(_num(rec.get("end", rec.get("t"))), 3))

    def _on_turn(self, rec: dict[str, Any]) -> None:
        stages = rec.get("ms") if isinstance(rec.get("ms"), dict) else {}
        ms = {s: round(_num(stages[s]), 1) for s in LATENCY_STAGES if s in stages}
        self.turns += 1
        self._add("turn", rec.get("t"), n=int(_num(rec.get("n"))), ms=ms)

    def _on_end(self, rec: dict[str, Any]) -> None:
        self.ended = clip(rec.get("state", "ended"), 100)
        self.end_record = True
        self.timer = None
        self._add("end", rec.get("t"), state=self.ended)

    def _on_full(self, rec: dict[str, Any]) -> None:
        self._add("note", self.last_t, text="the event log reached its size cap here")

    # -- what pages get ---------------------------------------------------------------------
    def row(self, now: float) -> dict[str, Any]:
        """The call's line in the list: wall `now` gives the live duration and timer."""
        live = not self.ended
        duration = (now - self.started) if live and self.started else self.last_t
        timer = None
        if self.timer is not None and live:
            timer = {"event": self.timer[0], "deadline": round(self.started + self.timer[1], 2)}
        return {"key": self.key, "id": self.call_id, "caller": self.caller,
                "started": self.started, "duration": round(max(0.0, duration), 1),
                "state": self.state, "ended": self.ended, "live": live, "timer": timer,
                "flow": self.flow, "worker": self.pid}
