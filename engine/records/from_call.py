"""A recorded call as an event script (`dialflow test --from-call CALL -o NAME.yaml`): the
caller's side becomes the steps (`caller:` lines, `dtmf:`, heard speech as
`agent.playback_done`), the recorded answers become the script's `llm:`, `tools:` and
`transfer:`, and each step expects what the recorded trace shows after it (the states
visited, the prompts said, the tool run, the reply, the transfer, the end).

Times are rounded to a tenth of a second, or finer when the call needs it: the script is
run once it is written, and a rounding that changes what happens is not used.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.records.log import CallLog
from engine.records.replay import PLAYBACK, is_external
from engine.scripts import ScriptResult, load_script, run_script
from engine.trace import TraceEntry

ROUNDINGS = (1, 2, 3)  # decimals tried, coarsest first
LATE = 0.05  # an answer this late is scripted with `after:` and checked at the next step
QUIET = ("arm_timer",)  # effects that on their own make a step not worth writing
_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str) and _PLAIN.match(value) and value.lower() not in _RESERVED:
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def inline(value: Any) -> str:
    """A value as one line of YAML flow style (JSON strings are valid YAML)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_scalar(str(k))}: {inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(inline(v) for v in value) + "]"
    return _scalar(value)


@dataclass
class _Step:
    at: float
    entry: TraceEntry | None  # None: a check at the end, after the last caller event
    window: list[TraceEntry]


def _keep(entries: list[TraceEntry], index: int, previous: TraceEntry | None) -> bool:
    """Caller speech onsets only where they change something (the state, or the effects of
    the previous onset of the burst) or end a burst; playback reports only when the machine
    acted on them (partial and stale marks are noise)."""
    entry = entries[index]
    if entry.event == PLAYBACK:
        return entry.handled
    if entry.event != "caller.speech_started":
        return True
    if entry.after != entry.before:
        return True
    following = next((e for e in entries[index + 1:] if is_external(e)), None)
    if following is None or following.event != "caller.speech_started":
        return True
    loud = [x for x in entry.effects if x not in QUIET]
    before = [x for x in previous.effects if x not in QUIET] \
        if previous is not None and previous.event == entry.event else []
    return bool(loud) and loud != before


def _steps(log: CallLog) -> list[_Step]:
    """One step per kept caller-side event, with the trace entries its check will see:
    what the event set off at once; timers and late answers go with the next step."""
    entries = log.entries
    steps: list[_Step] = []
    pending: list[TraceEntry] = []
    previous: TraceEntry | None = None
    current: _Step | None = None
    for index, entry in enumerate(entries):
        if is_external(entry):
            if _keep(entries, index, previous):
                current = _Step(entry.at, entry, [*pending, entry])
                steps.append(current)
                pending = []
            previous = entry
            continue
        late = (current is None or entry.event.startswith("timer.")
                or entry.at - current.at >= LATE)
        (pending if late else current.window).append(entry)  # type: ignore[union-attr]
    if pending:
        steps.append(_Step(pending[-1].at, None, pending))
    return steps


def _expect(window: list[TraceEntry], log: CallLog, last: bool) -> dict[str, Any]:
    effects = [x for e in window for x in e.effects]
    visited = [e.after for e in window
               if e.handled and (e.after != e.before or e.note == "re-entered" or not e.before)]
    out: dict[str, Any] = {}
    if len(visited) > 1:
        out["states"] = visited
    out["state"] = window[-1].after if window else ""
    said = [x.split(" ", 1)[1] for x in effects if x.startswith("say ")]
    if said:
        out["said"] = said if len(said) > 1 else said[0]
    tools = [x.split(" ", 1)[1] for x in effects if x.startswith("run_tool ")]
    if tools:
        out["tool"] = tools[0]
    replies = [e.data.get("text") for e in window if e.event == "agent.reply_started"]
    if replies and replies[0]:
        out["reply"] = str(replies[0])
    if any(x.startswith("transfer") for x in effects):
        out["transfer"] = True
    if any(x.startswith("take_message") for x in effects):
        out["ticket"] = True
    if last and log.end is not None:
        out["ended"] = True
    return out


def _delay(answer: dict[str, Any], seconds: float) -> None:
    if seconds >= LATE:
        answer["after"] = f"{max(round(seconds, 1), 0.1):g}s"


def _answers(log: CallLog) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]], str]:
    llm = []
    for rec in log.of("reply"):
        answer: dict[str, Any] = {}
        items = rec.get("o") or []
        text = " ".join(str(i) for _, i in items if not isinstance(i, dict))
        if text:
            answer["reply"] = text
        calls = [i for _, i in items if isinstance(i, dict)]
        if calls:
            answer["tool_call"] = {"name": calls[0].get("tool", ""),
                                   "args": calls[0].get("args") or {}}
        if rec.get("err"):
            answer["error"] = str((rec["err"] + ["", ""])[1] if isinstance(rec["err"], list)
                                  else rec["err"])
        if items:
            _delay(answer, float(items[0][0]) - float(rec.get("t", 0.0)))
        llm.append(answer or {"error": "the brain returned an empty reply"})
    tools: dict[str, list[dict[str, Any]]] = {}
    for rec in log.of("tool"):
        name = str(rec.get("name", ""))
        if name == "escalate_to_human":
            continue  # the scripted fakes take the message themselves
        if rec.get("ok"):
            answer = {"result": rec.get("res")}
        else:
            answer = {"error": str(rec.get("err") or rec.get("raised") or "failed")}
        _delay(answer, float(rec.get("end", 0.0)) - float(rec.get("t", 0.0)))
        tools.setdefault(name, []).append(answer)
    transfers = log.of("transfer")
    transfer = "ok" if not transfers or transfers[0].get("ok") else \
        "hang" if transfers[0].get("cut") else "fail"
    return llm, tools, transfer


def _step_lines(step: _Step, after: float, expect: dict[str, Any]) -> list[str]:
    entry = step.entry
    keys: list[str] = [f"after: {after:g}s"] if after > 0 or entry is None else []
    data = dict(entry.data) if entry is not None else {}
    if entry is None:
        pass
    elif entry.event == "caller.utterance":
        keys.append(f"caller: {_scalar(str(data.get('text', '')))}")
        confidence = data.get("confidence")
        if confidence is not None and confidence != 0.95:
            keys.append(f"confidence: {confidence}")
    elif entry.event == "caller.dtmf":
        keys.append(f"dtmf: {_scalar(str(data.get('digit', '')))}")
    else:
        data.pop("speech", None)  # the scripted speaker: everything queued was heard
        keys.append(f"event: {entry.event}")
        if data:
            keys.append(f"data: {inline(data)}")
    if expect:
        keys.append(f"expect: {inline(expect)}")
    return [f"  - {keys[0]}", *(f"    {key}" for key in keys[1:])]


def script_text(log: CallLog, decimals: int = 1, flow: str | None = None) -> str:
    llm, tools, transfer = _answers(log)
    steps = _steps(log)
    start = float(log.header.get("start") or 0.0)
    when = dt.datetime.fromtimestamp(start).strftime(" on %Y-%m-%d at %H:%M") if start else ""
    lines = [f"name: recorded call {log.call_id}{when}",
             f"description: made by `dialflow test --from-call` from {log.path.name}"]
    if flow:
        lines.append(f"flow: {_scalar(flow)}")
    lines.append("playback: manual")
    if llm:
        lines.append("llm:")
        lines += [f"  - {inline(answer)}" for answer in llm]
    if tools:
        lines.append("tools:")
        lines += [f"  {name}: {inline(answers if len(answers) > 1 else answers[0])}"
                  for name, answers in tools.items()]
    if transfer != "ok":
        lines.append(f"transfer: {transfer}")
    lines.append("steps:")
    previous = 0.0
    for n, step in enumerate(steps):
        at = round(step.at, decimals)
        after = round(max(0.0, at - previous), decimals)
        previous = at
        expect = _expect(step.window, log, last=n == len(steps) - 1)
        lines += _step_lines(step, after, expect)
    return "\n".join(lines) + "\n"


def write_script(log: CallLog, output: Path, flow: str | None = None,
                 flow_override: str | None = None) -> tuple[ScriptResult, int]:
    """Write the coarsest rounding whose script passes (or the finest, if none does)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    result: ScriptResult | None = None
    for decimals in ROUNDINGS:
        output.write_text(script_text(log, decimals, flow), encoding="utf-8")
        result = run_script(load_script(output, flow_override))
        if result.passed:
            return result, decimals
    assert result is not None
    return result, ROUNDINGS[-1]
