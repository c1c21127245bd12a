"""The conversation set (calls.yaml) and how a call is judged: each agent turn against its
`expect`/`any`/`avoid`, the end of the call against its `outcome` (the caller's active
appointments, a transfer, a message ticket). Used by the text-level tests here and by
bench/conversation_bench.py, which places the same calls as audio through the real protocol.

`run_text(call, brain, storage)` plays a call against the rules brain through the real tools
(the engine's tools port), the way flows.yaml does; the flow's own lines for `end_call` and
`transfer_to_human` stand in for what the caller would hear. Touches the storage it is given.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for _path in (str(ROOT), str(ROOT / "tests" / "local_brain")):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from brain_testkit import BUSINESS, NOW, Dialogue, make_tools  # noqa: E402

from tools.calendar import BusinessCalendar  # noqa: E402
from tools.storage import Storage  # noqa: E402

CALLS = HERE / "calls.yaml"
PARAPHRASES = HERE / "paraphrases.yaml"
CALLER = "+15550001111"
GOODBYE = "Thank you for calling Bright Smile Dental. Goodbye!"
TRANSFER = "Please hold while I connect you with a member of our team."


@dataclass(frozen=True)
class Call:
    id: str
    split: str
    lines: list[dict[str, Any]]
    outcome: dict[str, Any] = field(default_factory=dict)
    seed: list[dict[str, Any]] = field(default_factory=list)
    caller: str = CALLER


@dataclass
class CallResult:
    call: Call
    turns: list[tuple[str, str, str]] = field(default_factory=list)  # (said, heard, problem)
    outcome_problem: str = ""

    @property
    def turns_ok(self) -> int:
        return sum(1 for _, _, problem in self.turns if not problem)

    @property
    def success(self) -> bool:
        return not self.outcome_problem and self.turns_ok == len(self.call.lines)


def load_calls(path: Path = CALLS) -> list[Call]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))["calls"]
    return [Call(c["id"], c["split"], c["lines"], c.get("outcome") or {}, c.get("seed") or [],
                 c.get("caller", CALLER)) for c in raw]


def load_paraphrases(path: Path = PARAPHRASES) -> dict[str, list[tuple[str, str | None]]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {split: [(q, doc) for q, doc in items] for split, items in raw.items()}


def _fold(text: str) -> str:
    """Case and doubled letters folded: "Anna Lopez" and "Ana Lopez" sound the same, and a
    name's spelling cannot be heard."""
    return re.sub(r"([a-z])\1", r"\1", text.casefold())


def judge_turn(line: dict[str, Any], reply: str) -> str:
    """"" when the agent's `reply` meets the line's expectations, else what is wrong."""
    text = _fold(reply)
    missing = [e for e in line.get("expect", []) if _fold(str(e)) not in text]
    if missing:
        return f"missing {missing}"
    wanted = line.get("any", [])
    if wanted and not any(_fold(str(w)) in text for w in wanted):
        return f"none of {wanted}"
    bad = [a for a in line.get("avoid", []) if _fold(str(a)) in text]
    return f"should not say {bad}" if bad else ""


def seed(storage: Storage, call: Call) -> None:
    """Book the call's seeded appointments (as their own callers would)."""
    for i, appt in enumerate(call.seed):
        phone = appt.get("phone", call.caller)
        tools = make_tools(storage, f"seed-{call.id}-{i}", phone)
        args = {"name": appt.get("name", "Ana Lopez"), "phone": phone, "date": appt["date"],
                "time": appt["time"], "reason": appt.get("reason", "checkup")}
        outcome = asyncio.run(tools.run("book_appointment", args, "seed"))
        assert outcome.result["ok"], (call.id, outcome)


def judge_outcome(storage: Storage, call: Call, *, transferred: bool) -> str:
    """"" when the database and the call's end match `call.outcome`, else what is wrong."""
    cal = BusinessCalendar.from_settings(BUSINESS)
    active = [a for a in storage.list_appointments()
              if a.status == "booked" and a.phone == call.caller]
    got = sorted((f"{cal.to_local(a.start):%Y-%m-%d}", f"{cal.to_local(a.start):%H:%M}",
                  a.reason, a.name) for a in active)
    wanted = call.outcome.get("appointments")
    if wanted is None:
        wanted = [s for s in call.seed if s.get("phone", call.caller) == call.caller]
    want = sorted((w["date"], w["time"], w.get("reason"), w.get("name")) for w in wanted)
    same = len(got) == len(want) and all(
        g[:2] == w[:2] and w[2] in (None, g[2]) and (w[3] is None or _fold(w[3]) in _fold(g[3]))
        for g, w in zip(got, want, strict=True))
    if not same:
        return f"appointments {got}, wanted {want}"
    if transferred != bool(call.outcome.get("transfer", False)):
        return f"transfer {transferred}, wanted {not transferred}"
    tickets = [t for t in storage.list_tickets() if t.caller_phone == call.caller]
    # A transfer nobody answers leaves a message (the flow's transfer_failed): not a fault.
    if not transferred and bool(tickets) != bool(call.outcome.get("ticket", False)):
        return f"tickets {len(tickets)}, wanted {'some' if not tickets else 'none'}"
    return ""


def run_text(call: Call, brain: Any, storage: Storage) -> CallResult:
    """Play `call` line by line against `brain` (text in, sentences and tools out)."""
    seed(storage, call)
    dialogue = Dialogue(brain, storage, call_id=f"CA-{call.id}", caller=call.caller)
    result = CallResult(call)
    transferred = False
    for line in call.lines:
        reply = dialogue.say(line["say"])
        said = list(reply.sentences)
        names = [t.name for t in reply.tools]
        if "end_call" in names:
            said.append(GOODBYE)
        if "transfer_to_human" in names:
            said.append(TRANSFER)
            transferred = True
        text = " ".join(said)
        result.turns.append((line["say"], text, judge_turn(line, text)))
        if "end_call" in names or transferred:
            break
    while len(result.turns) < len(call.lines):
        result.turns.append((call.lines[len(result.turns)]["say"], "", "the call had ended"))
    brain.forget(f"CA-{call.id}")
    result.outcome_problem = judge_outcome(storage, call, transferred=transferred)
    return result


def summary(results: list[CallResult], label: str) -> str:
    """"tune: task success 29/30 (96.7 %), turns correct 88/90 (97.8 %)"."""
    tasks = sum(r.success for r in results)
    turns = sum(r.turns_ok for r in results)
    total = sum(len(r.call.lines) for r in results)
    calls = len(results)
    return (f"{label}: task success {tasks}/{calls} ({100 * tasks / max(1, calls):.1f} %), "
            f"turns correct {turns}/{total} ({100 * turns / max(1, total):.1f} %)")


def failures(results: list[CallResult]) -> list[str]:
    out = []
    for r in results:
        for said, heard, problem in r.turns:
            if problem:
                out.append(f"{r.call.id}: {said!r} -> {heard!r}: {problem}")
        if r.outcome_problem:
            out.append(f"{r.call.id}: outcome: {r.outcome_problem}")
    return out


def fixed_now() -> dt.datetime:
    return NOW
