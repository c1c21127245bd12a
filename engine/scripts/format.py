"""The event-script file format, parsed with line numbers.

    name: silent caller is reprompted twice, then escalated
    flow: ../../flows.yaml          # optional: default is the nearest flows.yaml above
    playback: manual                # or `auto`: speech is heard after its spoken length
    llm: [{reply: "We open at eight."}]          # the brain's answers, in order
    tools: {book_appointment: {result: {id: 7}}}  # per tool: result | error | hang
    transfer: ok                    # ok | fail | hang
    clock: 2026-12-24T18:30         # the call's wall clock (business timezone); default
                                    # 2026-12-01T10:00, a Tuesday morning
    steps:
      - event: call.started         # or `caller: "words"` / `dtmf: "0"` shorthands
        expect: {state: greeting, said: greeting}
      - after: 8s                   # or `at: 30s` from the start of the call
        expect: {said: reprompt}

A step may also carry `llm:`, `tools:` or `transfer:` to add answers from then on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.events import EVENTS
from flows.durations import parse_duration
from flows.errors import did_you_mean
from flows.yaml_lines import YList, YMap, load_yaml

TOP_KEYS = ("name", "description", "flow", "playback", "llm", "tools", "transfer", "steps",
            "clock")
STEP_KEYS = ("event", "data", "caller", "confidence", "dtmf", "at", "after", "expect", "llm",
             "tools", "transfer", "note")
EXPECT_KEYS = ("state", "said", "reply", "effect", "effects", "no_effect", "tool", "transfer",
               "ended", "hung_up", "ticket", "counters", "ignored", "states")
TRANSFER_MODES = ("ok", "fail", "hang")


class ScriptInvalid(Exception):
    """A script file that cannot run; the message names the file and line."""


@dataclass
class ScriptStep:
    line: int
    at: float | None = None
    after: float | None = None
    event: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)
    expect_lines: dict[str, int] = field(default_factory=dict)
    llm: list[dict[str, Any]] = field(default_factory=list)
    tools: dict[str, Any] = field(default_factory=dict)
    transfer: str | None = None

    def label(self) -> str:
        when = (f"at {self.at:g}s" if self.at is not None
                else f"after {self.after:g}s" if self.after is not None else "")
        return " ".join(x for x in (self.event or "", when) if x) or "check"


@dataclass
class Script:
    path: str
    name: str
    flow_path: Path
    playback: str = "manual"
    llm: list[dict[str, Any]] = field(default_factory=list)
    tools: dict[str, Any] = field(default_factory=dict)
    transfer: str = "ok"
    steps: list[ScriptStep] = field(default_factory=list)
    clock: str | None = None  # the wall clock at call.started, e.g. 2026-12-24T18:30


def load_script(path: str | Path, flow_path: str | Path | None = None) -> Script:
    """Parse a script file; `flow_path` overrides the script's own `flow:`."""
    path = Path(path)
    raw, errors = load_yaml(path.read_text(encoding="utf-8"), str(path))
    if errors:
        raise ScriptInvalid("\n".join(str(e) for e in errors))
    if not isinstance(raw, YMap) or not isinstance(raw.get("steps"), YList):
        raise ScriptInvalid(f"{path}:1: an event script needs `steps:` (a list)")
    _check_keys(raw, TOP_KEYS, path)
    flow = Path(flow_path) if flow_path else _flow_for(path, raw.get("flow"))
    script = Script(path=str(path), name=str(raw.get("name") or path.stem), flow_path=flow,
                    playback=str(raw.get("playback", "manual")),
                    llm=_answers(raw.get("llm"), path, raw.line_of("llm")),
                    tools=dict(raw.get("tools") or {}),
                    transfer=_transfer(raw.get("transfer", "ok"), path, raw.line_of("transfer")))
    if "clock" in raw:
        script.clock = str(raw["clock"])
        try:
            datetime.fromisoformat(script.clock)
        except ValueError:
            raise ScriptInvalid(f"{path}:{raw.line_of('clock')}: clock is a date and time "
                                "like 2026-12-24T18:30 (business timezone)") from None
    if script.playback not in ("manual", "auto"):
        raise ScriptInvalid(f"{path}:{raw.line_of('playback')}: playback is manual or auto")
    steps = raw["steps"]
    for index, item in enumerate(steps):
        script.steps.append(_step(item, path, steps.line_of(index)))
    return script


def _flow_for(path: Path, declared: Any) -> Path:
    if declared:
        return (path.parent / str(declared)).resolve()
    for folder in [path.parent.resolve(), *path.parent.resolve().parents]:
        candidate = folder / "flows.yaml"
        if candidate.exists():
            return candidate
    raise ScriptInvalid(f"{path}:1: no flows.yaml above this script; add `flow: path`")


def _check_keys(raw: YMap, allowed: tuple[str, ...], path: Path) -> None:
    for key in raw:
        if key not in allowed:
            raise ScriptInvalid(f"{path}:{raw.line_of(key)}: unknown key '{key}': "
                                f"{did_you_mean(key, allowed)}")


def _answers(raw: Any, path: Path, line: int) -> list[dict[str, Any]]:
    if raw is None:
        return []
    items = list(raw) if isinstance(raw, list) else [raw]
    for item in items:
        if not isinstance(item, dict) or not ({"reply", "tool_call", "error", "hang"} & set(item)):
            raise ScriptInvalid(f"{path}:{line}: an llm answer is {{reply: text}}, "
                                "{tool_call: {name, args}}, {error: text} or {hang: true}")
    return [dict(i) for i in items]


def _transfer(raw: Any, path: Path, line: int) -> str:
    if raw not in TRANSFER_MODES:
        raise ScriptInvalid(f"{path}:{line}: transfer is one of {', '.join(TRANSFER_MODES)}")
    return str(raw)


def _step(item: Any, path: Path, line: int) -> ScriptStep:
    if not isinstance(item, YMap):
        raise ScriptInvalid(f"{path}:{line}: a step is a mapping (event, after, expect…)")
    _check_keys(item, STEP_KEYS, path)
    step = ScriptStep(line=line)
    try:
        if "at" in item:
            step.at = parse_duration(item["at"]) if item["at"] != 0 else 0.0
        if "after" in item:
            step.after = parse_duration(item["after"])
    except ValueError as exc:
        raise ScriptInvalid(f"{path}:{line}: {exc}; write e.g. `after: 2s`") from None
    step.data = dict(item.get("data") or {})
    if "caller" in item:
        step.event = "caller.utterance"
        step.data = {"text": str(item["caller"]), "confidence": item.get("confidence", 0.95),
                     **step.data}
    elif "dtmf" in item:
        step.event = "caller.dtmf"
        step.data = {"digit": str(item["dtmf"]), **step.data}
    elif "event" in item:
        step.event = str(item["event"])
        if step.event not in EVENTS:
            raise ScriptInvalid(f"{path}:{item.line_of('event')}: unknown event "
                                f"'{step.event}': {did_you_mean(step.event, EVENTS)}")
    expect = item.get("expect") or YMap()
    if not isinstance(expect, YMap):
        raise ScriptInvalid(f"{path}:{item.line_of('expect')}: expect is a mapping")
    _check_keys(expect, EXPECT_KEYS, path)
    step.expect = dict(expect)
    step.expect_lines = {k: expect.line_of(k) for k in expect}
    step.llm = _answers(item.get("llm"), path, item.line_of("llm"))
    step.tools = dict(item.get("tools") or {})
    if "transfer" in item:
        step.transfer = _transfer(item["transfer"], path, item.line_of("transfer"))
    return step
