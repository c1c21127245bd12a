"""Replay a recorded call on virtual time: the caller's side (speech, keys, hang-up, the
playback reports) is posted at its recorded times, and the recorded answers of the brain,
the tools, the transfer and the speech synthesis stand in for the real ports.

With the flow the call ran on, the replayed trace must equal the recorded one. With an
edited flow, the recorded answers are used while they still apply: when the new flow asks
for something the recording does not have (a prompt the caller never heard, a tool never
called, a reply to words never said), the replay stops there and says so.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.call import Call
from engine.clock import run_virtual
from engine.machine import FlowMachine
from engine.ports import BrainOutput, Ports, Sentence, ToolCall, ToolOutcome, Turn, WarmDial
from engine.records.log import CallLog
from engine.records.names import FLOWS_DIR
from engine.trace import Trace, TraceEntry
from flows import Flow, load_flow

CALLER_SIDE = frozenset({"call.started", "call.hangup", "caller.speech_started",
                         "caller.transcript", "caller.utterance", "caller.dtmf", "stt.error"})
# what Twilio's webhooks report about a warm transfer (states/warm_transfer.py)
WARM_REPORTS = frozenset({"transfer.answered", "transfer.completed", "transfer.busy",
                          "transfer.no_answer", "transfer.canceled"})
PLAYBACK = "agent.playback_done"
GRACE = 60.0  # virtual seconds the replay may run past the recorded end
CUT_MARGIN = 0.5  # a cut answer still wanted this long after its recorded cut is missing
FOREVER = 10 * 365 * 24 * 3600.0


class ReplayError(Exception):
    """The replay cannot start (no flow for this log…); the message says what to do."""


def is_external(entry: TraceEntry) -> bool:
    """Events the outside world posted (replayed at their times), as opposed to those the
    engine derives from answers and timers (replayed by running the engine)."""
    if entry.event in CALLER_SIDE or entry.event in WARM_REPORTS:
        return True
    if entry.event == "transfer.failed" and "dial_status" in entry.data:
        return True  # Twilio's dial report, not the port's refusal
    return entry.event == PLAYBACK and not entry.data.get("reply_done")


def recorded_flow(log: CallLog) -> Path:
    """The archived flow a log ran on; a clear error when it is not there."""
    version = log.flow_version
    path = log.path.parent / FLOWS_DIR / f"{version}.yaml"
    if version == "unknown" or not path.exists():
        raise ReplayError(f"{log.path}: the flow this call ran on (version {version}) is not "
                          f"in {path.parent}; pass --flow FILE to replay against a flow file")
    return path


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _raise(err: Any) -> None:
    kind, message = [*list(err), "", ""][:2] if isinstance(err, list) else ("Error", err)
    raise type(str(kind) or "Error", (Exception,), {})(str(message))


@dataclass
class ReplayWorld:
    log: CallLog
    clock: Callable[[], float]
    post: Callable[..., None] = lambda *a, **k: None
    stopped: str = ""
    stopped_at: float = 0.0
    halt: asyncio.Event = field(default_factory=asyncio.Event)
    speech_ids: dict[str, str] = field(default_factory=dict)  # recorded id -> replay id

    def __post_init__(self) -> None:
        self.says: dict[str, deque[dict[str, Any]]] = {}
        for rec in self.log.of("say"):
            self.says.setdefault(str(rec.get("text", "")), deque()).append(rec)
        self.replies = deque(self.log.of("reply"))
        self.tools: dict[str, deque[dict[str, Any]]] = {}
        for rec in self.log.of("tool"):
            self.tools.setdefault(str(rec.get("name", "")), deque()).append(rec)
        self.transfers = deque(self.log.of("transfer"))

    def stop(self, reason: str) -> None:
        if not self.stopped:
            self.stopped, self.stopped_at = reason, self.clock()
            self.halt.set()

    async def until(self, t: Any) -> None:
        delay = float(t or 0.0) - self.clock()
        if delay > 0:
            await asyncio.sleep(delay)

    async def missing(self, reason: str) -> None:
        """The flow asks for something the recording lacks: stop, and never answer."""
        self.stop(reason)
        await asyncio.sleep(FOREVER)

    async def after_cut(self, rec: dict[str, Any], what: str) -> None:
        await self.until(float(rec.get("end", 0.0)) + CUT_MARGIN)
        await self.missing(f"the recording has no more of {what}: it was cut off at "
                           f"{float(rec.get('end', 0.0)):.3f}s")

    def ports(self) -> Ports:
        return Ports(speaker=_Speaker(self), brain=_Brain(self), tools=_Tools(self),
                     telephony=_Telephony(self))


class _Speaker:
    def __init__(self, world: ReplayWorld):
        self.world = world

    async def say(self, speech_id: str, text: str) -> None:
        queue = self.world.says.get(text)
        if not queue:
            await self.world.missing(f"the flow says {text!r}, which the caller never heard "
                                     "at this point of the call")
            return
        rec = queue.popleft()
        self.world.speech_ids[str(rec.get("id", ""))] = speech_id
        await self.world.until(rec.get("end"))
        if rec.get("cut"):
            await self.world.after_cut(rec, f"the speech {text!r}")
        if rec.get("err"):
            _raise(rec["err"])

    def clear(self) -> None:
        return None

    def hold(self, music: str) -> None:
        return None

    def stop_hold(self) -> None:
        return None


class _Brain:
    def __init__(self, world: ReplayWorld):
        self.world = world

    async def respond(self, turn: Turn) -> AsyncIterator[BrainOutput]:
        world = self.world
        if not world.replies or str(world.replies[0].get("q", "")) != turn.text:
            await world.missing(f"the flow asks the brain to answer {turn.text!r}, and the "
                                "recording has no such reply")
        rec = world.replies.popleft()
        for at, item in rec.get("o") or []:
            await world.until(at)
            if isinstance(item, dict):
                yield ToolCall(str(item.get("tool", "")), dict(item.get("args") or {}),
                               str(item.get("id", "")))
            else:
                yield Sentence(str(item))
        await world.until(rec.get("end"))
        if rec.get("cut"):
            await world.after_cut(rec, f"the reply to {turn.text!r}")
        if rec.get("err"):
            _raise(rec["err"])

    def tool_result(self, call_id: str, tool: ToolCall, outcome: ToolOutcome) -> None:
        return None

    def forget(self, call_id: str) -> None:
        return None


class _Tools:
    def __init__(self, world: ReplayWorld):
        self.world = world

    async def run(self, name: str, args: dict[str, Any], call_id: str) -> ToolOutcome:
        queue = self.world.tools.get(name)
        if not queue or _canon(queue[0].get("args")) != _canon(args):
            await self.world.missing(f"the flow calls tool {name} with {_canon(args)}, which "
                                     "this call never did")
        rec = queue.popleft()  # type: ignore[union-attr]
        await self.world.until(rec.get("end"))
        if rec.get("cut"):
            await self.world.after_cut(rec, f"tool {name}")
        if rec.get("raised"):
            _raise(rec["raised"])
        return ToolOutcome(ok=bool(rec.get("ok")), result=rec.get("res"),
                           error=str(rec.get("err") or ""))


class _Telephony:
    def __init__(self, world: ReplayWorld):
        self.world = world

    async def transfer(self, number: str, warm: WarmDial | None = None) -> None:
        if not self.world.transfers:
            await self.world.missing(f"the flow transfers the call to {number}, which this "
                                     "call never did")
        rec = self.world.transfers.popleft()
        await self.world.until(rec.get("end"))
        if rec.get("cut"):
            await self.world.after_cut(rec, "the transfer")
        if not rec.get("ok"):
            _raise(rec.get("err") or "the transfer failed")

    async def hang_up(self) -> None:
        return None


class ReplayCall(Call):
    """A `Call` that also notes, per trace entry, the flow line responsible for it: the
    transition taken, else the state the call was in."""

    def __init__(self, machine: FlowMachine, ports: Ports, call_id: str):
        super().__init__(machine, ports, call_id=call_id)
        self.lines: list[int] = []
        self.trace = _LinedTrace(self)


class _LinedTrace(Trace):
    def __init__(self, call: ReplayCall):
        super().__init__()
        self.call = call

    def add(self, entry: TraceEntry) -> None:
        super().add(entry)
        spec = self.call._transition if entry.handled else None
        state = self.call.flow.states.get(entry.after)
        self.call.lines.append(spec.line if spec else state.line if state else 0)


@dataclass
class ReplayResult:
    log: CallLog
    flow: Flow
    trace: Trace
    lines: list[int]
    stopped: str = ""
    stopped_at: float = 0.0


def replay(log: CallLog, flow: Flow | None = None) -> ReplayResult:
    """Re-run `log` against `flow` (default: the flow it ran on) on virtual time."""
    flow = flow or load_flow(recorded_flow(log))
    return run_virtual(_drive(log, flow))


async def _drive(log: CallLog, flow: Flow) -> ReplayResult:
    loop = asyncio.get_running_loop()
    world = ReplayWorld(log, loop.time)
    call = ReplayCall(FlowMachine(flow), world.ports(), call_id=log.call_id)
    world.post = call.post
    consumer = loop.create_task(call.run(), name=f"{call.call_id}:replay")
    halted = loop.create_task(world.halt.wait())
    try:
        for entry in (e for e in log.entries if is_external(e)):
            delay = entry.at - loop.time()
            if delay > 0:
                await asyncio.wait([halted, consumer], timeout=delay,
                                   return_when=asyncio.FIRST_COMPLETED)
            if world.stopped or consumer.done():
                break
            data = dict(entry.data)
            if entry.event == PLAYBACK and "speech" in data:
                data["speech"] = world.speech_ids.get(str(data["speech"]), data["speech"])
            call.post(entry.event, **data)
        limit = log.duration + GRACE - loop.time()
        if not world.stopped and not consumer.done():
            await asyncio.wait([halted, consumer], timeout=max(limit, 0.0),
                               return_when=asyncio.FIRST_COMPLETED)
        if not world.stopped and not consumer.done():
            world.stop(f"the recording ends at {log.duration:.3f}s; on this flow the call "
                       f"was still in state {call.state} {GRACE:g}s later")
    finally:
        halted.cancel()
        if not consumer.done():
            consumer.cancel()
        await asyncio.gather(consumer, halted, return_exceptions=True)
    return ReplayResult(log, flow, call.trace, call.lines, world.stopped, world.stopped_at)
