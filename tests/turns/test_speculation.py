"""Speculative replies (engine/turns/speculation.py): started on the transcript at a pause,
used on commit with the same words, dropped without a trace otherwise — in the trace, the
fakes' records, the event log and its replay, and the brain's own history."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from adapters.llm.config import LLMConfig
from adapters.llm.streaming import Failure, StreamingBrain, TextDelta
from engine.call import Call
from engine.clock import run_virtual
from engine.machine import FlowMachine
from engine.ports import Tentative, Turn
from engine.records.compare import canonical_trace, first_divergence
from engine.records.log import read_log
from engine.records.privacy import DataDirs
from engine.records.recorder import CallRecords
from engine.records.replay import replay
from engine.scripts.fakes import FakeWorld
from engine.scripts.runner import settle
from engine.transcripts import SYNCER
from engine.turns.speculation import would_respond
from flows import load_flow

ROOT = Path(__file__).resolve().parents[2]
CALLER = {"caller": "+15550001111", "call_sid": "CA-spec"}
ANSWERS = [{"reply": "Sure, what day works for you?", "after": "0.5s"},
           {"reply": "We close at five on Thursdays.", "after": "0.5s"}]


# -- Tentative ----------------------------------------------------------------------------
def test_a_committed_turn_runs_its_commits_once_and_never_its_undos() -> None:
    done: list[str] = []
    turn = Tentative()
    turn.on_commit(lambda: done.append("write"))
    turn.on_drop(lambda: done.append("undo"))
    turn.commit()
    turn.commit()
    turn.drop()  # too late: committed
    turn.on_commit(lambda: done.append("late write"))  # after the commit: at once
    assert done == ["write", "late write"] and turn.state == "committed"


def test_a_dropped_turn_undoes_in_reverse_and_restores_the_entry() -> None:
    entries: dict[str, Any] = {"CA1": {"parts": ["hello"]}}
    turn = Tentative()
    turn.restore_on_drop(entries, "CA1")
    turn.restore_on_drop(entries, "CA2")  # not there yet: dropped means gone again
    entries["CA1"]["parts"].append("speculative words")
    entries["CA2"] = {"parts": ["new"]}
    written: list[str] = []
    turn.on_commit(lambda: written.append("x"))
    turn.drop()
    assert entries == {"CA1": {"parts": ["hello"]}} and written == []


# -- what the machine would do --------------------------------------------------------------
def _call_in(state: str) -> Call:
    flow = load_flow(ROOT / "flows.yaml")
    call = Call(FlowMachine(flow), FakeWorld(clock=lambda: 0.0).ports())
    call.state = state
    return call


def test_would_respond_reads_the_flow_and_its_guards() -> None:
    listening = _call_in("listening")
    assert would_respond(listening, {"text": "When do you close?", "confidence": 0.9})
    assert not would_respond(listening, {"text": "", "confidence": 0.9})  # not understood
    assert not would_respond(listening, {"text": "mumble", "confidence": 0.05})
    assert not would_respond(_call_in("tool_running"), {"text": "hello", "confidence": 0.9})
    assert not would_respond(_call_in("goodbye"), {"text": "hello", "confidence": 0.9})


# -- a whole call, recorded ----------------------------------------------------------------
Step = tuple[float, str, dict[str, Any]]


async def _recorded(tmp: Path, steps: list[Step], flow_text: str | None = None,
                    name: str = "CA-spec") -> tuple[Path, Call, FakeWorld]:
    loop = asyncio.get_running_loop()
    if flow_text is not None:
        (tmp / "flows.yaml").parent.mkdir(parents=True, exist_ok=True)
        (tmp / "flows.yaml").write_text(flow_text)
    flow = load_flow(tmp / "flows.yaml" if flow_text is not None else ROOT / "flows.yaml")
    world = FakeWorld(clock=loop.time, playback_auto=True)
    world.llm.extend(dict(a) for a in ANSWERS)
    records = CallRecords(DataDirs.from_env({}, root=tmp / "data"))
    record = records.open(name, CALLER["caller"], flow, clock=loop.time)
    assert record is not None
    call = Call(FlowMachine(flow), record.wrap(world.ports()), call_id=name)
    record.attach(call)
    world.post = call.post
    consumer = loop.create_task(call.run())
    for at, what, data in steps:
        if at > loop.time():
            await asyncio.sleep(at - loop.time())
        if what == "guess":
            call.speculation.guess(data["text"], data.get("confidence"))
        elif what == "resumed":
            call.speculation.drop()
        else:
            call.post(what, **data)
        await settle(call)
    await asyncio.wait_for(consumer, 120)
    record.close(call.state)
    SYNCER.wait_idle()
    return record.writer.path, call, world


BASE: list[Step] = [(0.0, "call.started", CALLER),
                    (9.0, "caller.utterance", {"text": "I'd like to book a cleaning.",
                                               "confidence": 0.9}),
                    (20.0, "caller.utterance", {"text": "When do you close on Thursday?",
                                                "confidence": 0.9}),
                    (30.0, "call.hangup", {})]


def _lines(path: Path) -> list[str]:
    """The log's lines after its header (which names the file and when it was opened)."""
    return gzip.decompress(path.read_bytes()).decode().splitlines()[1:]


def test_a_dropped_speculation_leaves_no_trace_anywhere(tmp_path: Path) -> None:
    plain, plain_call, plain_world = run_virtual(_recorded(tmp_path / "a", BASE))
    # the caller paused after "I'd like to book", the brain answered it speculatively,
    # then the caller went on: the turn is "I'd like to book a cleaning."
    steps = [BASE[0], (7.5, "guess", {"text": "I'd like to book", "confidence": 0.9}),
             (8.5, "resumed", {}), *BASE[1:]]
    spec, spec_call, spec_world = run_virtual(_recorded(tmp_path / "b", steps))
    assert [w for _, w in spec_call.speculation.log] == [
        "started (\"I'd like to book\")", "dropped (the caller went on)"]
    assert canonical_trace(spec_call.trace.entries) == canonical_trace(plain_call.trace.entries)
    assert [(r.at, r.kind, r.detail) for r in spec_world.records] == \
        [(r.at, r.kind, r.detail) for r in plain_world.records]
    assert spec_call.conversation == plain_call.conversation
    plain_log, spec_log = read_log(plain), read_log(spec)
    assert spec_log.of("reply") == plain_log.of("reply")
    assert canonical_trace(spec_log.entries) == canonical_trace(plain_log.entries)
    assert _lines(spec) == _lines(plain)
    result = replay(spec_log)
    assert not result.stopped and first_divergence(result) is None


def test_a_committed_speculation_is_recorded_once_and_replays(tmp_path: Path) -> None:
    steps = [BASE[0], (7.5, "guess", {"text": "I'd like to book a cleaning.",
                                      "confidence": 0.9}), *BASE[1:]]
    path, call, world = run_virtual(_recorded(tmp_path, steps))
    assert [w.split(" ")[0] for _, w in call.speculation.log] == ["started", "used"]
    started = [e for e in call.trace.entries if e.event == "agent.reply_started"]
    assert started[0].at == 9.0  # the reply was ready: it started at the commit itself
    assert started[1].at == 20.5  # the next turn, not speculated: the brain's 0.5 s
    asked = [r.detail["text"] for r in world.records if r.kind == "asked"]
    assert asked == ["I'd like to book a cleaning.", "When do you close on Thursday?"]
    log = read_log(path)
    assert [r["q"] for r in log.of("reply")] == asked
    result = replay(log)
    assert not result.stopped and first_divergence(result) is None
    assert canonical_trace(result.trace.entries) == canonical_trace(log.entries)


def test_a_committed_turn_with_other_words_drops_the_speculation(tmp_path: Path) -> None:
    steps = [BASE[0], (7.5, "guess", {"text": "I'd like to book", "confidence": 0.9}),
             *BASE[1:]]
    _, call, world = run_virtual(_recorded(tmp_path, steps))
    assert [w.split(" ")[0] for _, w in call.speculation.log] == ["started", "dropped"]
    assert "differs" in call.speculation.log[-1][1]
    asked = [r.detail["text"] for r in world.records if r.kind == "asked"]
    assert asked == ["I'd like to book a cleaning.", "When do you close on Thursday?"]


def test_speculate_false_turns_it_off(tmp_path: Path) -> None:
    text = (ROOT / "flows.yaml").read_text().replace("speculate: true", "speculate: false")
    assert "speculate: false" in text
    steps = [BASE[0], (7.5, "guess", {"text": "I'd like to book a cleaning.",
                                      "confidence": 0.9}), *BASE[1:]]
    _, call, _ = run_virtual(_recorded(tmp_path, steps, flow_text=text))
    assert [w for _, w in call.speculation.log] == ["skipped (turn.speculate is off)"]
    started = [e for e in call.trace.entries if e.event == "agent.reply_started"]
    assert started[0].at == 9.5  # no time saved: the brain's 0.5 s after the commit


def test_no_speculation_while_the_agent_speaks_or_the_brain_is_busy() -> None:
    async def scenario() -> list[str]:
        loop = asyncio.get_running_loop()
        world = FakeWorld(clock=loop.time)
        world.llm.append({"reply": "One moment please.", "after": "3s"})
        call = Call(FlowMachine(load_flow(ROOT / "flows.yaml")), world.ports())
        world.post = call.post
        consumer = loop.create_task(call.run())
        call.post("call.started", **CALLER)
        await settle(call)
        call.speculation.guess("hello there")  # the greeting is playing
        call.post("agent.playback_done")
        await settle(call)
        call.post("caller.utterance", text="When do you open?", confidence=0.9)
        await settle(call)
        call.speculation.guess("and on Saturday")  # the brain is answering
        call.post("call.hangup")
        await consumer
        return [w for _, w in call.speculation.log]

    assert run_virtual(scenario()) == ["skipped (the agent is speaking)",
                                       "skipped (the brain is busy)"]


# -- an LLM brain's history ------------------------------------------------------------------
class _Scripted(StreamingBrain):
    name = "scripted"

    def __init__(self) -> None:
        super().__init__({}, None, None, config=LLMConfig(model="m"))

    async def _stream(self, prompt: Any, call_id: str) -> AsyncIterator[TextDelta]:
        yield TextDelta("Sure. What day works for you?")

    def _classify(self, exc: Exception) -> Failure:
        return Failure.FATAL


def test_an_llm_brain_forgets_a_dropped_turn_and_keeps_a_committed_one() -> None:
    async def scenario() -> tuple[Any, Any, Any]:
        brain = _Scripted()
        async for _ in brain.respond(Turn("CA1", "", "Hello.")):
            pass
        before = repr(brain.conversations.peek("CA1").parts)  # type: ignore[union-attr]
        dropped = Tentative()
        async for _ in brain.respond(Turn("CA1", "", "I'd like to", tentative=dropped)):
            pass
        dropped.drop()
        after_drop = repr(brain.conversations.peek("CA1").parts)  # type: ignore[union-attr]
        kept = Tentative()
        async for _ in brain.respond(Turn("CA1", "", "I'd like a cleaning.", tentative=kept)):
            pass
        kept.commit()
        return before, after_drop, repr(brain.conversations.peek("CA1").parts)  # type: ignore

    before, after_drop, committed = asyncio.run(scenario())
    assert after_drop == before
    assert "I'd like to" not in after_drop
    assert "Hello." in committed and "I'd like a cleaning." in committed
    assert _Scripted.tentative_ok


def test_the_first_sentences_are_prepared_ahead_and_forgotten_on_drop() -> None:
    async def scenario() -> tuple[list[str], int, list[str]]:
        loop = asyncio.get_running_loop()
        world = FakeWorld(clock=loop.time)
        world.llm.append({"reply": "Sure. What day works? Mornings or afternoons?"})
        ports = world.ports()
        prepared: list[str] = []
        forgotten: list[int] = []
        ports.speaker.prepare = prepared.append  # type: ignore[attr-defined]
        ports.speaker.forget_prepared = lambda: forgotten.append(1)  # type: ignore[attr-defined]
        call = Call(FlowMachine(load_flow(ROOT / "flows.yaml")), ports)
        world.post = call.post
        consumer = loop.create_task(call.run())
        call.post("call.started", **CALLER)
        call.post("agent.playback_done")
        await settle(call)
        call.speculation.guess("I'd like to book a cleaning")
        await settle(call)
        said_before = [r.detail for r in world.records if r.kind == "said"]
        call.speculation.drop()
        call.post("call.hangup")
        await consumer
        return prepared, len(forgotten), said_before

    prepared, forgotten, said = run_virtual(scenario())
    assert prepared == ["Sure.", "What day works?"]  # PREPARED sentences, not the third
    assert forgotten == 1
    assert not any("What day" in s for s in said)  # prepared is not said


def test_dialflow_check_refuses_a_bad_speculate_with_its_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    text = (ROOT / "flows.yaml").read_text().replace("speculate: true", "speculate: maybe")
    bad = tmp_path / "flows.yaml"
    bad.write_text(text)
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "speculate: maybe" in row)
    done = subprocess.run([sys.executable, "-m", "engine.app.cli", "check", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode != 0
    assert f"flows.yaml:{line}" in done.stdout + done.stderr
    assert "settings.turn.speculate" in done.stdout + done.stderr
    assert "true or false" in done.stdout + done.stderr
    # per state, too: a capture state may turn it off
    good = (ROOT / "flows.yaml").read_text().replace(
        "turn: {expect: name, max_wait_ms: 2000}",
        "turn: {expect: name, max_wait_ms: 2000, speculate: false}")
    assert "speculate: false}" in good
    (tmp_path / "ok.yaml").write_text(good)
    flow = load_flow(tmp_path / "ok.yaml")
    off = [name for name, spec in flow.states.items()
           if dict(spec.turn).get("speculate") is False]
    assert len(off) == 1 and dict(flow.states[off[0]].turn)["expect"] == "name"
    assert flow.settings.turn.speculate is True  # the flow-wide default stays on


def test_a_turn_the_flow_does_not_answer_drops_the_speculation(tmp_path: Path) -> None:
    # the same words, but committed unsure: the flow asks to repeat instead of replying
    steps = [BASE[0], (7.5, "guess", {"text": "I'd like to book a cleaning.",
                                      "confidence": 0.9}),
             (9.0, "caller.utterance", {"text": "I'd like to book a cleaning.",
                                        "confidence": 0.1}), (12.0, "call.hangup", {})]
    path, call, world = run_virtual(_recorded(tmp_path, steps))
    assert [w for _, w in call.speculation.log][1:] == [
        "dropped (the turn ended without this reply)"]
    assert not [r for r in world.records if r.kind in ("asked", "reply")]
    assert read_log(path).of("reply") == []
    assert world.llm[0]["reply"] == ANSWERS[0]["reply"]  # its scripted answer was put back
