"""The event-script file format, parsed with line numbers; every misspelt key is an error.

    name: silent caller is reprompted twice, then escalated
    flow: ../../flows.yaml          # optional: default is the nearest flows.yaml above
    playback: manual                # or `auto`: speech is heard after its spoken length
    llm: [{reply: "We open at eight."}]          # the brain's answers, in order
    tools: {book_appointment: {result: {id: 7}}}  # per tool: result | error | hang
    transfer: ok                    # ok | fail | hang
    speaker: ok                     # ok | fail | hang (text-to-speech)
    clock: 2026-12-24T18:30         # the call's wall clock (business timezone); default
                                    # 2026-12-01T10:00, a Tuesday morning
    steps:
      - event: call.started         # or `caller: "words"` / `dtmf: "0"` shorthands
        expect: {state: greeting, said: greeting}
      - after: 8s                   # or `at: 30s` from the start of the call
        expect: {said: reprompt}

A step may also carry `llm:`, `tools:`, `transfer:` or `speaker:` to change the fakes from
then on. Names that only the flow can vouch for (tools, states, prompts, counters) are kept
as `Ref`s with their line and checked against the flow by `engine/scripts/validate.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from flows.durations import parse_duration
from flows.errors import did_you_mean
from flows.events import EVENTS, TIMER_EVENTS
from flows.yaml_lines import YList, YMap, load_yaml_file

TOP_KEYS = ("name", "description", "flow", "playback", "llm", "tools", "transfer", "speaker",
            "steps",
            "clock", "vars")
STEP_KEYS = ("event", "data", "caller", "confidence", "dtmf", "at", "after", "expect", "llm",
             "tools", "transfer", "speaker", "note", "voice", "guess")
EXPECT_KEYS = ("state", "said", "reply", "effect", "effects", "no_effect", "tool", "transfer",
               "ended", "hung_up", "ticket", "tickets", "counters", "ignored", "states",
               "brain", "timer", "audio", "speculation")
LLM_KEYS = ("reply", "tool_call", "error", "hang", "after")
TOOL_CALL_KEYS = ("name", "args", "id", "unknown_tool")
TOOL_ANSWER_KEYS = ("result", "error", "hang", "after")
TICKET_KEYS = ("reason", "summary")
BRAIN_KEYS = ("text", "heard")
TIMER_KEYS = ("event", "in")
FAKE_MODES = ("ok", "fail", "hang")
BOOL_EXPECTS = ("transfer", "ended", "hung_up")
VOICES = ("onset", "gone", "resumed")  # `voice:` steps: the VAD's first sound / too short to
# be speech / the caller spoke again after a pause (a `guess:` is dropped)
SPECULATION = ("started", "skipped", "dropped", "used")  # `expect: {speculation: [...]}`
# `expect: {audio: [...]}`: what the barge-in gate did, and the hold music's start and stop
AUDIO_ACTIONS = ("pause", "clear", "resume", "hold", "hold_stop")
SHORTHAND_FIELDS = {"caller": ("confidence",), "dtmf": ()}


class ScriptInvalid(Exception):
    """A script file that cannot run; the message names the file and line."""


@dataclass(frozen=True)
class Ref:
    """A name the script uses that must exist in the flow: a tool, state, prompt, counter
    or effect."""

    kind: str
    name: str
    line: int


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
    speaker: str | None = None
    voice: str | None = None  # "onset" | "gone": a sound reported to the barge-in gate
    guess: str | None = None  # the STT's transcript at a pause: the reply may start on it

    def label(self) -> str:
        when = (f"at {self.at:g}s" if self.at is not None
                else f"after {self.after:g}s" if self.after is not None else "")
        what = self.event or (f"voice {self.voice}" if self.voice else "") or (
            f"guess {self.guess!r}" if self.guess is not None else "")
        return " ".join(x for x in (what, when) if x) or "check"


@dataclass
class Script:
    path: str
    name: str
    flow_path: Path
    playback: str = "manual"
    llm: list[dict[str, Any]] = field(default_factory=list)
    tools: dict[str, Any] = field(default_factory=dict)
    transfer: str = "ok"
    speaker: str = "ok"
    steps: list[ScriptStep] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)
    clock: str | None = None  # the wall clock at call.started, e.g. 2026-12-24T18:30
    vars: dict[str, Any] = field(default_factory=dict)  # an outbound call's `--var`s


def load_script(path: str | Path, flow_path: str | Path | None = None) -> Script:
    """Parse a script file; `flow_path` (`dialflow test --flow`) overrides its `flow:`."""
    path = Path(path)
    raw, errors = load_yaml_file(path)
    if errors:
        raise ScriptInvalid("\n".join(str(e) for e in errors))
    if not isinstance(raw, YMap) or not isinstance(raw.get("steps"), YList):
        raise ScriptInvalid(f"{path}:1: an event script needs `steps:` (a list)")
    parser = _Parser(path)
    parser.keys(raw, TOP_KEYS)
    flow = _flow_for(path, raw, flow_path)
    script = Script(path=str(path), name=str(raw.get("name") or path.stem), flow_path=flow,
                    playback=str(raw.get("playback", "manual")),
                    llm=parser.answers(raw.get("llm"), raw.line_of("llm")),
                    tools=parser.tools(raw.get("tools"), raw.line_of("tools")),
                    transfer=parser.mode(raw, "transfer") or "ok",
                    speaker=parser.mode(raw, "speaker") or "ok", refs=parser.refs)
    if "clock" in raw:
        script.clock = str(raw["clock"])
        try:
            datetime.fromisoformat(script.clock)
        except ValueError:
            raise ScriptInvalid(f"{path}:{raw.line_of('clock')}: clock is a date and time "
                                "like 2026-12-24T18:30 (business timezone)") from None
    if "vars" in raw:
        script.vars = _script_vars(path, raw)
        script.refs += [Ref("var", str(n), raw["vars"].line_of(n)) for n in script.vars]
    if script.playback not in ("manual", "auto"):
        raise ScriptInvalid(f"{path}:{raw.line_of('playback')}: playback is manual or auto")
    steps = raw["steps"]
    clock = 0.0
    for index, item in enumerate(steps):
        step = parser.step(item, steps.line_of(index))
        if step.at is not None:
            if step.at < clock:
                raise ScriptInvalid(
                    f"{path}:{item.line_of('at')}: `at: {step.at:g}s` goes back in time: the "
                    f"steps before it already reach {clock:g}s; `at:` counts from the start "
                    "of the call, so give a later time or write `after:` for a delay")
            clock = step.at
        else:
            clock += step.after or 0.0
        script.steps.append(step)
    return script


def _flow_for(path: Path, raw: YMap, override: str | Path | None) -> Path:
    if override:
        flow = Path(override)
        if not flow.is_file():
            raise ScriptInvalid(f"{path}:1: the flow given with --flow, {flow}, is not a file; "
                                "pass the path of an existing flows.yaml")
        return flow
    declared = raw.get("flow")
    if declared:
        flow = (path.parent / str(declared)).resolve()
        if not flow.is_file():
            raise ScriptInvalid(f"{path}:{raw.line_of('flow')}: `flow: {declared}` is not a "
                                f"file ({flow}); the path is relative to the script; fix it "
                                "or pass `dialflow test --flow FILE`")
        return flow
    for folder in [path.parent.resolve(), *path.parent.resolve().parents]:
        candidate = folder / "flows.yaml"
        if candidate.is_file():
            return candidate
    raise ScriptInvalid(f"{path}:1: no flows.yaml in {path.parent.resolve()} or any folder "
                        "above it, so this script has no flow to run against; pass "
                        "`dialflow test --flow path/to/flows.yaml` or add "
                        "`flow: path/to/flows.yaml` to the script")


class _Parser:
    """Shape checks of one script file; collects the `Ref`s for the flow check."""

    def __init__(self, path: Path):
        self.path = path
        self.refs: list[Ref] = []

    def fail(self, line: int, message: str) -> ScriptInvalid:
        return ScriptInvalid(f"{self.path}:{line}: {message}")

    def ref(self, kind: str, name: Any, line: int) -> None:
        self.refs.append(Ref(kind, str(name), line))

    def keys(self, raw: YMap, allowed: tuple[str, ...], where: str = "") -> None:
        for key in raw:
            if key not in allowed:
                raise self.fail(raw.line_of(key), f"unknown key '{key}'{where}: "
                                f"{did_you_mean(key, allowed)}")

    def mapping(self, raw: Any, line: int, what: str) -> YMap:
        if not isinstance(raw, YMap):
            raise self.fail(line, f"{what} must be a mapping")
        return raw

    def mode(self, raw: YMap, key: str) -> str | None:
        if key not in raw:
            return None
        if raw[key] not in FAKE_MODES:
            raise self.fail(raw.line_of(key), f"{key} is one of {', '.join(FAKE_MODES)}, "
                            f"not {raw[key]!r}")
        return str(raw[key])

    def answers(self, raw: Any, line: int) -> list[dict[str, Any]]:
        if raw is None:
            return []
        items = list(raw) if isinstance(raw, list) else [raw]
        lines = [raw.line_of(i) for i in range(len(items))] if isinstance(raw, YList) \
            else [line] * len(items)
        for item, item_line in zip(items, lines, strict=True):
            if not isinstance(item, YMap) or not (set(LLM_KEYS[:4]) & set(item)):
                raise self.fail(item_line, "an llm answer is {reply: text}, {tool_call: "
                                "{name, args}}, {error: text} or {hang: true} (a reply "
                                "followed by error or hang speaks first, then fails)")
            self.keys(item, LLM_KEYS, " in an llm answer")
            if "tool_call" in item:
                call = self.mapping(item["tool_call"], item.line_of("tool_call"), "tool_call")
                self.keys(call, TOOL_CALL_KEYS, " in a tool_call")
                if not call.get("unknown_tool"):
                    self.ref("tool", call.get("name", ""), call.line_of("name"))
        return [dict(i) for i in items]

    def tools(self, raw: Any, line: int) -> dict[str, Any]:
        if raw is None:
            return {}
        tools = self.mapping(raw, line, "tools (tool name: answer)")
        for name, value in tools.items():
            self.ref("tool", name, tools.line_of(name))
            items = value if isinstance(value, YList) else [value]
            for index, answer in enumerate(items):
                at = value.line_of(index) if isinstance(value, YList) else tools.line_of(name)
                answer = self.mapping(answer, at, f"the answer of tool {name}")
                self.keys(answer, TOOL_ANSWER_KEYS, f" in the answer of tool {name}")
        return dict(tools)

    def step(self, item: Any, line: int) -> ScriptStep:
        item = self.mapping(item, line, "a step (event, after, expect…)")
        self.keys(item, STEP_KEYS)
        step = ScriptStep(line=line)
        try:
            if "at" in item:
                step.at = parse_duration(item["at"]) if item["at"] != 0 else 0.0
            if "after" in item:
                step.after = parse_duration(item["after"])
        except ValueError as exc:
            raise self.fail(line, f"{exc}; write e.g. `after: 2s`") from None
        data = self.mapping(item.get("data") or YMap(), item.line_of("data"), "data")
        step.event = self._event(item)
        if "voice" in item:
            if item["voice"] not in VOICES:
                raise self.fail(item.line_of("voice"), f"voice is {item['voice']!r}; write "
                                "`voice: onset` (the caller's first sound), `voice: gone` or "
                                "`voice: resumed` (speaking again after a pause)")
            step.voice = str(item["voice"])
        if "guess" in item:
            if not isinstance(item["guess"], str) or "caller" in item or "event" in item:
                raise self.fail(item.line_of("guess"), "guess is the words the STT has at a "
                                "pause, in a step of its own, e.g. `guess: \"I need a cleaning\"`")
            step.guess = item["guess"]
            step.data = {"confidence": item.get("confidence", 0.95)}
        if step.event:
            self._fields(step.event, data)
        if step.guess is None:
            step.data = dict(data)
        if "caller" in item:
            step.data = {"text": str(item["caller"]), "confidence": item.get("confidence", 0.95),
                         **step.data}
        elif "dtmf" in item:
            step.data = {"digit": str(item["dtmf"]), **step.data}
        if step.event:
            self._required(step.event, step.data, line)
        expect = self.mapping(item.get("expect") or YMap(), item.line_of("expect"), "expect")
        self.keys(expect, EXPECT_KEYS, " in expect")
        for key, value in expect.items():
            self._expectation(key, value, expect.line_of(key))
        step.expect = dict(expect)
        step.expect_lines = {k: expect.line_of(k) for k in expect}
        step.llm = self.answers(item.get("llm"), item.line_of("llm"))
        step.tools = self.tools(item.get("tools"), item.line_of("tools"))
        step.transfer = self.mode(item, "transfer")
        step.speaker = self.mode(item, "speaker")
        return step

    def _event(self, item: YMap) -> str | None:
        if "caller" in item:
            return "caller.utterance"
        if "dtmf" in item:
            return "caller.dtmf"
        if "event" not in item:
            return None
        event = str(item["event"])
        if event not in EVENTS:
            raise self.fail(item.line_of("event"), f"unknown event '{event}': "
                            f"{did_you_mean(event, EVENTS)}")
        return event

    def _fields(self, event: str, data: YMap) -> None:
        fields = EVENTS[event].fields + EVENTS[event].optional
        for key in data:
            if key not in fields:
                hint = did_you_mean(key, fields) if fields else "it carries no data"
                raise self.fail(data.line_of(key), f"unknown field '{key}' of {event}: {hint}")

    def _required(self, event: str, data: dict[str, Any], line: int) -> None:
        missing = [f for f in EVENTS[event].fields if f not in data]
        if missing:
            raise self.fail(line, f"{event} needs " + ", ".join(missing) + ": add them under "
                            "`data:`")

    def _expectation(self, key: str, value: Any, line: int) -> None:
        names = value if isinstance(value, list) else [value]
        if key in BOOL_EXPECTS and not isinstance(value, bool):
            raise self.fail(line, f"expect {key} is true or false, not {value!r}")
        if key in ("state", "states"):
            for name in names:
                self.ref("state", name, line)
        elif key == "said":
            for name in names:
                self.ref("prompt", name, line)
        elif key in ("effect", "effects", "no_effect"):
            for name in names:
                self.ref("effect", name, line)
        elif key == "counters":
            for name in self.mapping(value, line, "expect counters (name: value)"):
                self.ref("counter", name, value.line_of(name))
        elif key == "tool":
            name = value
            if not isinstance(value, str):
                tool = self.mapping(value, line, "expect tool (a name or {name, args})")
                self.keys(tool, ("name", "args"), " in expect tool")
                name = tool.get("name", "")
            self.ref("tool", name, line)
        elif key == "ticket" and not isinstance(value, bool):
            self.keys(self.mapping(value, line, "expect ticket (true, false or {reason, "
                                   "summary})"), TICKET_KEYS, " in expect ticket")
        elif key == "tickets" and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.fail(line, "expect tickets is how many tickets were opened, e.g. 1")
        elif key == "brain":
            self.keys(self.mapping(value, line, "expect brain ({text, heard})"), BRAIN_KEYS,
                      " in expect brain")
        elif key == "timer":
            self._timer(value, line)
        elif key == "audio" and any(name not in AUDIO_ACTIONS for name in names):
            raise self.fail(line, f"expect audio lists what the agent's audio did, in order: "
                            f"{', '.join(AUDIO_ACTIONS)} (e.g. `audio: [pause, resume]`)")
        elif key == "speculation" and any(name not in SPECULATION for name in names):
            raise self.fail(line, f"expect speculation lists what the speculator did, in order: "
                            f"{', '.join(SPECULATION)} (e.g. `speculation: [started, dropped]`)")
        elif key == "ignored" and not isinstance(value, bool):
            for name in names:
                if name not in EVENTS:
                    raise self.fail(line, f"ignored names the event that must be ignored; "
                                    f"unknown event '{name}': {did_you_mean(str(name), EVENTS)}")

    def _timer(self, value: Any, line: int) -> None:
        if value in (None, False, "none"):
            return
        event = value
        if isinstance(value, YMap):
            self.keys(value, TIMER_KEYS, " in expect timer")
            event = value.get("event")
            try:
                if "in" in value:
                    parse_duration(value["in"])
            except ValueError as exc:
                raise self.fail(line, f"{exc}; write e.g. `in: 8s`") from None
        if event not in TIMER_EVENTS:
            raise self.fail(line, f"expect timer names the armed timer or `none`; unknown timer "
                            f"'{event}': {did_you_mean(str(event), TIMER_EVENTS)}")


def _script_vars(path: Path, raw: YMap) -> dict[str, Any]:
    """`vars: {patient_name: Ana}`: the values an outbound call starts with (`--var`)."""
    given = raw["vars"]
    if not isinstance(given, YMap) or any(isinstance(v, (list, dict)) for v in given.values()):
        raise ScriptInvalid(f"{path}:{raw.line_of('vars')}: vars maps declared variables to "
                            "literal values, e.g. `vars: {patient_name: Ana}`")
    return {str(k): v for k, v in given.items()}
