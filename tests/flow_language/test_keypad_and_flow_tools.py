"""collect_digits gathers keys without the flow seeing them; call_tool runs a tool with
arguments from the call and branches on its result, the brain never told; and each way to
write them wrong is one check error with its line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from engine.app.commands.check import examine
from engine.call import Call
from engine.clock import run_virtual
from engine.keypad import MAX_DIGITS, DigitCollector
from engine.machine import FlowMachine
from engine.scripts.fakes import FakeWorld
from engine.scripts.format import load_script
from engine.scripts.runner import run_script, settle
from flows import load_flow
from flows.loader import load_flow_text
from states.keypad import CollectDigits

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).parent / "scripts"
EXAMPLE = ROOT / "examples" / "patient_line.yaml"
TEXT = EXAMPLE.read_text(encoding="utf-8")
COLLECT = '      - {collect_digits: {count: 6, finish: "#", timeout: 8s, retries: 2}}\n'
LOOKUP = '{call_tool: {name: check_appointment, args: {phone: "{caller}"}}}'


def _records(name: str, kind: str) -> list:
    result = run_script(load_script(SCRIPTS / name))
    assert result.passed, result.failures
    return [r.detail for r in result.world.records if r.kind == kind]


def test_the_typed_number_is_a_variable_the_prompt_says() -> None:
    said = _records("patient_member_number.yaml", "said")
    assert "You entered 12045. Press 1 if that is right" in said[2]


def test_a_flow_tool_gets_its_arguments_and_the_brain_is_not_told() -> None:
    result = run_script(load_script(SCRIPTS / "patient_lookup.yaml"))
    tools = [r.detail for r in result.world.records if r.kind == "tool"]
    assert tools == [{"name": "check_appointment", "args": {"phone": "+15550001111"}}]
    assert not [r for r in result.world.records if r.kind == "tool_result"]
    said = [r.detail for r in result.world.records if r.kind == "said"]
    assert said[2].startswith("You have one appointment, on Monday at nine. Press 1")
    assert said[3] == said[2]  # repeat_last: no brain reply, so the last prompt


def test_keys_for_a_cancelled_collection_are_stale() -> None:
    flow = load_flow(EXAMPLE)

    async def main() -> list[str]:
        world = FakeWorld(clock=lambda: 0.0)
        call = Call(FlowMachine(flow), world.ports())
        world.post = call.post
        task = asyncio.get_running_loop().create_task(call.run())
        call.post("call.started", caller="+15550001111")
        await settle(call)
        call.post("caller.dtmf", digit="2")
        await settle(call)
        old = call.keypad.collection
        call.post("caller.dtmf", digit="0")  # inside the number: not "talk to a human"
        await settle(call)
        assert call.state == "member_entry"
        call.post("dtmf.collected", digits="999999", collection=old - 1)
        await settle(call)
        call.post("call.hangup")
        await task
        return [f"{e.event}:{e.note}" for e in call.trace.entries]

    notes = run_virtual(main())
    assert "caller.dtmf:keypad: collected 1" in notes
    assert "dtmf.collected:stale: that digit collection was cancelled" in notes


def test_the_collector_is_bounded() -> None:
    posted: list[tuple[str, dict]] = []
    keypad = DigitCollector(lambda event, **data: posted.append((event, data)))
    keypad.start(CollectDigits(finish="#", timeout=5.0), None)
    for _ in range(MAX_DIGITS):
        keypad.press("7")
    assert posted == [("dtmf.collected", {"digits": "7" * MAX_DIGITS, "collection": 1})]
    assert not keypad.active and keypad.press("7") == "not collecting"


BAD = [
    ("count 0", COLLECT, COLLECT.replace("count: 6", "count: 0"), "count 0 is not 1 to 32"),
    ("a finish that is no key", COLLECT, COLLECT.replace('"#"', '"x"'), "not a phone key"),
    ("too many retries", COLLECT, COLLECT.replace("retries: 2", "retries: 9"), "retries 9"),
    ("a long timeout", COLLECT, COLLECT.replace("timeout: 8s", "timeout: 2m"),
     "not between 0 and 60"),
    ("an unknown key", COLLECT, COLLECT.replace("retries: 2", "retry: 2"), "unknown key 'retry'"),
    ("neither count nor finish", COLLECT,
     '      - {collect_digits: {timeout: 8s}}\n', "needs `count` or `finish`"),
    ("no dtmf.timeout handler", "      dtmf.timeout: escalating\n", "",
     "does not handle dtmf.timeout"),
    ("no tool.failed handler", "      tool.failed: {to: escalating, do: [{say: lookup_failed}]}\n",
     "", "does not handle tool.failed"),
    ("a tool call without a name", LOOKUP, "{call_tool: {args: {phone: x}}}", "needs a tool"),
    ("an argument naming nothing", LOOKUP, LOOKUP.replace("{caller}", "{vars.phone}"),
     "unknown name {vars.phone}"),
]


@pytest.mark.parametrize(("what", "old", "new", "message"), BAD, ids=[b[0] for b in BAD])
def test_each_mistake_is_one_error_on_its_line(what: str, old: str, new: str,
                                               message: str) -> None:
    assert old in TEXT, what
    text = TEXT.replace(old, new, 1)
    _, problems = load_flow_text(text, "patient_line.yaml")
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1 and message in errors[0].message, [str(e) for e in errors]
    line = text.splitlines()[errors[0].line - 1]
    assert ("collect_digits" in line or "call_tool" in line), line
    assert errors[0].fix


def test_the_example_is_clean_and_a_tool_that_does_not_exist_is_an_error(
        tmp_path: Path) -> None:
    _, findings, _ = examine(str(EXAMPLE))
    assert findings == []
    path = tmp_path / "flow.yaml"
    path.write_text(TEXT.replace("name: check_appointment", "name: check_appointments"),
                    encoding="utf-8")
    _, findings, _ = examine(str(path))
    [error] = [f for f in findings if f.kind == "unknown-tool"]
    assert error.severity == "error" and "check_appointments" in error.message
    assert "check_appointment" in error.fix
