"""`dialflow check` on the flow as it was before issue 10 finds every hole the issue lists,
each with a witness script that fails under `dialflow test`; on the fixed default flow the
same scripts pass (or their path no longer exists) and `check --strict` is clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.app.cli import main
from engine.app.commands.check import examine
from engine.scripts import load_script, run_script
from flows.explore.script import write_witnesses

ROOT = Path(__file__).resolve().parents[2]
OLD = ROOT / "tests" / "check" / "fixtures" / "flows_before_issue10.yaml"
NEW = ROOT / "flows.yaml"


def _line(path: Path, needle: str, after: str = "") -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines[start:], start + 1) if needle in line)


@pytest.fixture(scope="module")
def old() -> tuple:
    flow, findings, report = examine(str(OLD))
    assert flow is not None and report is not None
    return findings, report


def _found(findings: list, kind: str, line: int) -> object:
    match = [f for f in findings if f.kind == kind and f.line == line]
    assert match, [(f.kind, f.line, f.message) for f in findings]
    return match[0]


def test_words_thrown_away_in_speaking_and_tool_running(old: tuple) -> None:
    findings, _ = old
    speaking = _found(findings, "lost-input", _line(OLD, "  speaking:"))
    assert "caller.utterance" in speaking.message and speaking.severity == "error"
    tools = _found(findings, "lost-input", _line(OLD, "  tool_running:"))
    assert "caller.utterance and caller.speech_started" in tools.message
    thinking = _found(findings, "lost-input", _line(OLD, "  thinking:"))
    assert "caller.speech_started" in thinking.message
    assert "ignore: [" in speaking.fix


def test_a_lost_mark_after_a_reprompt_stalls_listening(old: tuple) -> None:
    findings, _ = old
    stall = _found(findings, "stall", _line(OLD, "- if: {below_limit: reprompts}",
                                            after="timer.silence:"))
    assert "'listening'" in stall.message and "restart_timer" in stall.fix
    assert stall.witness.labels()[-1].startswith("then nothing")


def test_a_lost_mark_in_escalating_skips_the_transfer(old: tuple) -> None:
    findings, _ = old
    lost = _found(findings, "lost-mark", _line(OLD, "agent.playback_done: {do: [transfer]}"))
    assert "transfer" in lost.message and "timer.transfer" in lost.message


def test_a_dead_voice_loops_goodbye_and_escalating(old: tuple) -> None:
    findings, _ = old
    loops = [f for f in findings if f.kind == "loop"]
    assert loops and "goodbye" in loops[0].message and "escalating" in loops[0].message
    assert "take_message" in loops[0].message
    assert "tts.error" in loops[0].witness.labels()


def test_dtmf_zero_after_a_failed_transfer_starts_it_again(old: tuple) -> None:
    findings, _ = old
    retry = next(f for f in findings if f.kind == "retry")
    labels = retry.witness.labels()
    assert "transfer.failed" in labels and "caller.dtmf 0" in labels[labels.index(
        "transfer.failed"):]


def test_no_bound_on_the_length_of_a_call(old: tuple) -> None:
    findings, _ = old
    unbounded = next(f for f in findings if f.kind == "unbounded")
    assert unbounded.severity == "error" and "max_call" in unbounded.fix


def test_every_witness_fails_on_the_old_flow_and_passes_on_the_new(old: tuple,
                                                                   tmp_path: Path) -> None:
    findings, report = old
    paths = write_witnesses(report.rules, findings, tmp_path, str(OLD))
    assert len(paths) == len([f for f in findings if f.witness]) >= 10
    for path in paths:
        result = run_script(load_script(path))
        assert not result.passed, path.name
        last_line = max(step.line for step in result.script.steps)
        assert all("script problem" not in f for f in result.failures), result.failures
        assert any(f":{last_line}:" in f or "expected" in f for f in result.failures)
        fixed = run_script(load_script(path, NEW))
        assert fixed.passed, (path.name, fixed.failures)


def test_the_unbounded_witness_is_ended_by_the_new_flows_time_limit(old: tuple,
                                                                    tmp_path: Path) -> None:
    findings, report = old
    unbounded = [f for f in findings if f.kind == "unbounded"]
    [path] = write_witnesses(report.rules, unbounded, tmp_path, str(OLD))
    result = run_script(load_script(path, NEW))
    limit = [e for e in result.trace.entries if e.event == "call.time_limit"]
    assert limit and limit[0].at == pytest.approx(20 * 60)
    assert "say time_limit" in limit[0].effects and "take_message" in limit[0].effects
    assert result.world is not None and any(r.kind == "hung_up" for r in result.world.records)


def test_check_cli_strict_json_and_witness(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--strict", str(NEW)]) == 0
    assert "configurations explored" in capsys.readouterr().out
    assert main(["check", str(OLD), "--json", "--witness", str(tmp_path)]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is False and out["configurations"] > 100
    kinds = {f["kind"] for f in out["findings"]}
    assert {"stall", "lost-input", "lost-mark", "loop", "retry", "unbounded"} <= kinds
    assert all(f["file"] == str(OLD) and f["line"] > 0 and f["fix"] for f in out["findings"])
    assert len(list(tmp_path.glob("*.yaml"))) == sum(bool(f["witness"]) for f in out["findings"])
