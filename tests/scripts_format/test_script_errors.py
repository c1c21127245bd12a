"""A script with a misspelt key, an unknown name, a time that goes back, or no flow to run
on is refused with its file, its line and a 'did you mean' — never run half-right."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.app.cli import main
from engine.scripts import ScriptInvalid, load_script, run_script

Writer = Callable[..., Path]


def refusal(write_script: Writer, body: str) -> str:
    with pytest.raises(ScriptInvalid) as info:
        run_script(load_script(write_script(body)))
    return str(info.value)


@pytest.mark.parametrize(("body", "line", "words"), [
    ("nmae: x\nsteps: []\n", 2, "unknown key 'nmae': did you mean 'name'?"),
    ("steps:\n  - event: call.started\n    expct: {state: greeting}\n", 4,
     "unknown key 'expct': did you mean 'expect'?"),
    ("steps:\n  - event: call.started\n    expect: {stat: greeting}\n", 4,
     "unknown key 'stat' in expect: did you mean 'state'?"),
    ("llm: [{replly: hi}]\nsteps: []\n", 2, "an llm answer is {reply: text}"),
    ("llm: [{reply: hi, afer: 2s}]\nsteps: []\n", 2,
     "unknown key 'afer' in an llm answer: did you mean 'after'?"),
    ("tools: {book_appointment: {reslt: {id: 1}}}\nsteps: []\n", 2,
     "unknown key 'reslt' in the answer of tool book_appointment: did you mean 'result'?"),
    ("steps:\n  - event: caller.speech_started\n    data: {duration: 400}\n", 4,
     "unknown field 'duration' of caller.speech_started: did you mean 'duration_ms'?"),
    ("steps:\n  - event: call.started\n    expect: {ended: yes}\n", 4,
     "expect ended is true or false"),
    ("speaker: broken\nsteps: []\n", 2, "speaker is one of ok, fail, hang"),
    ("steps:\n  - event: call.started\n    expect: {ignored: caller.utterence}\n", 4,
     "unknown event 'caller.utterence': did you mean 'caller.utterance'?"),
    ("steps:\n  - event: call.started\n    expect: {timer: timer.silense}\n", 4,
     "unknown timer 'timer.silense': did you mean 'timer.silence'?"),
    ("steps:\n  - event: call.started\n    expect: {ticket: {reasn: x}}\n", 4,
     "unknown key 'reasn' in expect ticket: did you mean 'reason'?"),
    ("steps:\n  - event: call.started\n    expect: {brain: {heard: [], txt: x}}\n", 4,
     "unknown key 'txt' in expect brain: did you mean 'text'?"),
    ("steps:\n  - voice: onst\n", 3, "write `voice: onset`"),
    ("steps:\n  - event: call.started\n    expect: {audio: [pause, cleared]}\n", 4,
     "expect audio lists what the agent's audio did, in order: pause, clear, resume"),
    ("steps:\n  - guess: [a, b]\n", 3, "guess is the words the STT has at a pause"),
    ("steps:\n  - caller: hi\n    guess: hi\n", 4, "in a step of its own"),
    ("steps:\n  - event: call.started\n    expect: {speculation: [begun]}\n", 4,
     "expect speculation lists what the speculator did, in order: started, skipped"),
])
def test_misspelt_keys_are_refused_with_their_line(write_script: Writer, body: str, line: int,
                                                    words: str) -> None:
    message = refusal(write_script, body)
    assert f"case.yaml:{line}: " in message
    assert words in message


@pytest.mark.parametrize(("body", "line", "words"), [
    ("tools: {bokk_appointment: {result: {}}}\nsteps: []\n", 2,
     "unknown tool 'bokk_appointment'"),
    ("llm:\n  - tool_call: {name: book_apointment}\nsteps: []\n", 3,
     "unknown tool 'book_apointment'"),
    ("steps:\n  - event: call.started\n    expect: {tool: cancel_apointment}\n", 4,
     "unknown tool 'cancel_apointment'"),
    ("steps:\n  - event: call.started\n    expect: {state: listenning}\n", 4,
     "unknown state 'listenning'"),
    ("steps:\n  - event: call.started\n    expect: {states: [greeting, listnening]}\n", 4,
     "unknown state 'listnening'"),
    ("steps:\n  - event: call.started\n    expect: {said: [greting]}\n", 4,
     "unknown prompt 'greting'"),
    ("steps:\n  - event: call.started\n    expect: {counters: {reprompt: 0}}\n", 4,
     "unknown counter 'reprompt'"),
    ("steps:\n  - event: call.started\n    expect: {effect: stop_speeking}\n", 4,
     "unknown effect 'stop_speeking'"),
])
def test_names_the_flow_lacks_are_refused(write_script: Writer, body: str, line: int,
                                          words: str) -> None:
    message = refusal(write_script, body)
    assert f"case.yaml:{line}: {words}" in message
    assert "did you mean" in message


def test_a_tool_the_flow_cannot_call_may_be_scripted_on_purpose(write_script: Writer) -> None:
    path = write_script("llm:\n  - tool_call: {name: make_coffee, unknown_tool: true}\n"
                        "steps:\n  - event: call.started\n")
    assert run_script(load_script(path)).passed


def test_at_going_backwards_is_refused(write_script: Writer) -> None:
    message = refusal(write_script, "steps:\n  - event: call.started\n  - at: 10s\n"
                      "  - after: 5s\n  - at: 12s\n")
    assert "case.yaml:6: `at: 12s` goes back in time" in message
    assert "already reach 15s" in message
    load_script(write_script("steps:\n  - at: 10s\n  - after: 5s\n  - at: 15s\n"))


def test_a_script_outside_the_project_names_its_flow_or_says_how(
        tmp_path: Path, write_script: Writer, capsys: pytest.CaptureFixture[str]) -> None:
    body = "steps:\n  - event: call.started\n    expect: {state: greeting}\n"
    lost = write_script(body, "lost.yaml", flow=False)
    with pytest.raises(ScriptInvalid) as info:
        load_script(lost)
    assert f"{lost}:1: no flows.yaml in {tmp_path}" in str(info.value)
    assert "--flow" in str(info.value)

    flow = Path(__file__).with_name("flows.yaml")
    assert main(["test", "--flow", str(flow), str(lost)]) == 0
    assert "1 passed, 0 failed" in capsys.readouterr().out

    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("flow: ../nowhere/flows.yaml\n" + body)
    with pytest.raises(ScriptInvalid) as info:
        load_script(wrong)
    assert f"{wrong}:1: `flow: ../nowhere/flows.yaml` is not a file" in str(info.value)


def test_dialflow_test_with_a_wrong_path_prints_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["test", str(missing)]) == 2
    out = capsys.readouterr()
    assert out.out.strip().splitlines() == [
        f"dialflow test: error: no such file or folder: {missing} "
        "(give event scripts or folders of them, e.g. tests/scripts)"]
    assert "Traceback" not in out.out + out.err

    script = tmp_path / "one.yaml"
    script.write_text("steps:\n  - event: call.started\n")
    assert main(["test", "--flow", str(tmp_path / "no_flow.yaml"), str(script)]) == 2
    assert capsys.readouterr().out.strip().splitlines() == [
        f"dialflow test: error: --flow {tmp_path / 'no_flow.yaml'}: no such flow file "
        "(give the path of a flows.yaml)"]


def test_a_script_that_is_not_text_is_refused(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"steps:\n  - event: call.started\n\xff\xfe\x00garbage\n")
    assert main(["test", str(binary)]) == 1
    out = capsys.readouterr().out
    assert f"{binary}:3: error: the file is not UTF-8 text" in out
    assert "Traceback" not in out
