"""A `Witness` as a ready-to-run event script (the format of engine/scripts/format.py).

The script replays the witness on virtual time: the caller's moves, playback reports and
provider errors are posted as events; timers are waited for; replies, tools and transfers
are answered by the script's fakes at the moment the witness says (a brain answer with
`after:`), or left hanging and reported by a posted event. Its last step expects what a
correct flow would do there, so `dialflow test` fails while the problem is in the flow.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import yaml

from flows.explore.config import INTERNAL, PENDING, RELIABLE, WATCHDOG, Config, Move
from flows.explore.finding import Finding, Witness
from flows.explore.step import FORCED, Rules

MAX_STEPS = 4000
UNDERSTOOD = "Yes, I have a question about my appointment."


class _Writer:
    def __init__(self, rules: Rules, long_gaps: bool):
        self.rules, self.long_gaps = rules, long_gaps
        self.flow = rules.flow
        self.t = 0.0
        self.due: float | None = None
        self.steps: list[dict[str, Any]] = []
        self.llm: list[dict[str, Any]] = []
        self.tools: dict[str, list[dict[str, Any]]] = {}
        self.reply: tuple[int, float] | None = None
        self.tool: tuple[str, int, float] | None = None
        self.tool_name = rules.tools[-1]
        self.immediate: set[int] = set()

    def write(self, moves: list[Move]) -> None:
        before: Config | None = None
        for index, move in enumerate(moves):
            if index not in self.immediate:
                self._place(before, move, moves[index + 1] if index + 1 < len(moves) else None,
                            index)
            self._after(move)
            before = move.after

    def _gap(self) -> float:
        left = None if self.due is None else self.due - self.t
        if self.long_gaps:
            gap = 50.0 if left is None else min(left - 0.5, 50.0)
        else:
            gap = 1.0 if left is None or left > 2.0 else left / 2
        return round(max(gap, 0.001), 3)

    def _step(self, gap: float, **body: Any) -> dict[str, Any]:
        self.t = round(self.t + gap, 3)
        step: dict[str, Any] = {"after": gap} if gap > 0 else {}
        step.update(body)
        self.steps.append(step)
        return step

    def _place(self, before: Config | None, move: Move, following: Move | None,
               index: int) -> None:
        s, event = move.stimulus, move.stimulus.event
        if before is None:
            self.steps.append({"event": "call.started", "note": "the call starts"})
            return
        if s.kind == INTERNAL or event in ("agent.playback_cleared", "call.started"):
            return  # call.started: the initial state's handlers run on the first one
        note = s.label()
        if s.kind == RELIABLE and event.startswith("timer."):
            wait = math.ceil(((self.due or self.t) - self.t) * 1000) / 1000
            self._step(wait, note=f"{event} fires")
        elif s.kind == WATCHDOG:
            limits = self.flow.settings.limits
            wait = limits.hangup_after if event == FORCED else (limits.max_call or 0) - self.t
            self._step(round(max(wait, 0.0), 3), note=note)
        elif event in ("agent.reply_started", "llm.tool_call", "llm.error") and \
                before.reply == PENDING and self.reply is not None:
            gap = self._gap()
            slot, at = self.reply
            self.llm[slot] = _answer(move, round(self.t + gap - at, 3))
            if event == "llm.tool_call":
                self.tool_name = s.tool
            self._step(gap, note=f"the brain answers: {note}")
        elif event in ("tool.done", "tool.failed") and self.tool is not None:
            gap = self._gap()
            name, slot, at = self.tool
            self.tools[name][slot] = _answer(move, round(self.t + gap - at, 3))
            self._step(gap, note=f"the tool answers: {note}")
        else:
            if event == "llm.tool_call":
                self.tool_name = s.tool
            self._step(self._gap(), note=note, **_posted(self.rules, move, self.tool_name))
        if "transfer" in move.spawned:
            mode = "hang"
            then = following.stimulus.event if following is not None else ""
            if then in ("transfer.done", "transfer.failed"):
                mode = "ok" if then == "transfer.done" else "fail"
                self.immediate.add(index + 1)
            elif move.after.warm:  # accepted; Twilio's report is posted as an event
                mode = "ok"
            self.steps[-1]["transfer"] = mode

    def _after(self, move: Move) -> None:
        c = move.after
        timeout = self.flow.states[c.state].timeout if c.state in self.flow.states else None
        if not c.timer or timeout is None:
            self.due = None
        elif move.armed:
            self.due = round(self.t + timeout.after, 3)
        if "reply" in move.spawned:
            self.llm.append({"hang": True})
            self.reply = (len(self.llm) - 1, self.t)
        if "tool" in move.spawned:
            name = move.tool_name or self.tool_name  # call_tool names its own
            answers = self.tools.setdefault(name, [])
            answers.append({"hang": True})
            self.tool = (name, len(answers) - 1, self.t)


def _answer(move: Move, after: float) -> dict[str, Any]:
    event = move.stimulus.event
    if event == "agent.reply_started":
        body: dict[str, Any] = {"reply": "Sure, let me help you with that."}
    elif event == "llm.tool_call":
        body = {"tool_call": {"name": move.stimulus.tool}}
    elif event == "tool.done":
        body = {"result": {"ok": True}}
    else:
        body = {"error": "failed in the witness"}
    if after > 0:
        body["after"] = after
    return body


def _posted(rules: Rules, move: Move, tool: str) -> dict[str, Any]:
    s, event = move.stimulus, move.stimulus.event
    settings = rules.flow.settings
    if event == "caller.utterance":
        return {"caller": UNDERSTOOD, "confidence": 1.0} if s.understood else {"caller": ""}
    if event == "caller.dtmf":
        return {"dtmf": s.digit}
    data: dict[str, Any] = {}
    if event == "caller.speech_started":
        data = {"duration_ms": settings.min_speech_ms + 200 if s.long
                else settings.min_speech_ms // 2}
    elif event == "caller.transcript":
        data = {"text": "I"}
    elif event == "call.answered_by":
        data = {"answered_by": s.answer}
    elif event == "llm.tool_call":
        data = {"name": s.tool}
    elif event in ("tool.done", "tool.failed"):
        data = {"name": tool, **({"result": {}} if event == "tool.done" else {"error": "x"})}
    elif event.endswith(".error") or event == "transfer.failed":
        data = {"error": "failed in the witness"}
    return {"event": event, "data": data} if data else {"event": event}


def witness_script(rules: Rules, finding: Finding, flow_ref: str) -> dict[str, Any]:
    """The event script (as data) that reproduces `finding`."""
    witness = finding.witness
    assert witness is not None
    writer = _Writer(rules, witness.long_gaps)
    writer.write(_moves(witness, writer))
    if witness.wait:
        writer._step(witness.wait, note="then nothing happens", expect=dict(witness.expect))
    else:
        writer.steps[-1]["expect"] = dict(witness.expect)
    tools = {name: [*answers, {"hang": True}] for name, answers in writer.tools.items()}
    script: dict[str, Any] = {
        "name": f"witness: {finding.message}"[:200],
        "description": f"{finding.path}:{finding.line}: {finding.fix}",
        "flow": flow_ref, "playback": "manual", "transfer": "hang",
        "llm": [*writer.llm, {"hang": True}, {"hang": True}],
    }
    clock = next((m.stimulus.clock for m in witness.moves if m.stimulus.clock), "")
    if clock:
        script["clock"] = clock  # the moment that takes the start's clock branches
    if tools:
        script["tools"] = tools
    script["steps"] = writer.steps
    return script


def _moves(witness: Witness, writer: _Writer) -> list[Move]:
    moves = list(witness.moves)
    if witness.span:
        per_turn = max(len(witness.repeat), 1)
        while len(moves) < MAX_STEPS - per_turn and _span_left(witness, writer, moves):
            moves += witness.repeat
    else:
        moves += list(witness.repeat) * witness.times
    return moves


def _span_left(witness: Witness, writer: _Writer, moves: list[Move]) -> bool:
    probe = _Writer(writer.rules, witness.long_gaps)
    probe.write(moves)
    return probe.t < (witness.span or 0)


def write_witnesses(rules: Rules, findings: list[Finding], folder: Path,
                    flow_path: str) -> list[Path]:
    """One script per finding with a witness, named `NN-kind-line.yaml`; returns the paths."""
    folder.mkdir(parents=True, exist_ok=True)
    ref = os.path.relpath(Path(flow_path).resolve(), folder.resolve())
    out = []
    numbered = [f for f in findings if f.witness is not None]
    for number, finding in enumerate(numbered, 1):
        path = folder / f"{number:02d}-{finding.kind}-line{finding.line}.yaml"
        text = yaml.safe_dump(witness_script(rules, finding, ref), sort_keys=False,
                              allow_unicode=True, width=100)
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out
