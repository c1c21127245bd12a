"""Filler speech: after its delay, repeated while the state waits, never after the result
or once the caller has cut in."""

from __future__ import annotations

from pathlib import Path

from engine.scripts.format import load_script
from engine.scripts.runner import run_script
from flows.loader import load_flow_text

SCRIPTS = Path(__file__).parent / "scripts"
ROOT = Path(__file__).resolve().parents[2]
FILLER = "One moment, please, I'm still on it."


def _said(name: str) -> list[tuple[float, str]]:
    result = run_script(load_script(SCRIPTS / name))
    assert result.passed, result.failures
    return [(round(r.at, 3), r.detail) for r in result.world.records if r.kind == "said"]


def test_the_filler_repeats_until_the_result() -> None:
    said = _said("filler_slow_tool.yaml")
    start = next(at for at, text in said if text == FILLER) - 2.0  # tool_running entered
    fillers = [round(at - start, 3) for at, text in said if text == FILLER]
    assert fillers == [2.0, 8.0]  # the result came at 9 s: no third one at 14 s
    assert said[-1][1] == "You're booked for December third at nine."


def test_a_barge_in_stops_the_filler() -> None:
    said = _said("filler_barge_in.yaml")
    assert [text for _, text in said].count(FILLER) == 1  # at 2 s; the caller cut in at 3 s


def test_filler_mistakes_are_errors() -> None:
    text = (ROOT / "flows.yaml").read_text(encoding="utf-8")
    old = "{filler: {say: one_moment, after: 2s, every: 6s}}"
    for new, message in (("{filler: {say: one_momnt, after: 2s}}", "missing prompt"),
                         ("{filler: {say: one_moment, every: 0.5s}}", "every 0.5s"),
                         ("{filler: {say: one_moment, afterwards: 2s}}", "unknown key"),
                         ("{filler: one_moment}", "needs a prompt"),
                         ("{filler: {after: 2s}}", "or `hold_music: true`"),
                         ("{filler: {say: one_moment, hold_music: yes please}}",
                          "hold_music is 'yes please'"),
                         ("{filler: {say: one_moment, every: 6s, hold_music: true}}",
                          "`every` and `hold_music`"),
                         ("{filler: {hold_music: true, after: 90s}}", "after 90s")):
        _, problems = load_flow_text(text.replace(old, new), "flows.yaml")
        [error] = [p for p in problems if p.severity == "error"]
        assert message in error.message and "filler" in text.replace(old, new).splitlines()[
            error.line - 1], str(error)


def test_a_slow_lookup_gets_hold_music_after_its_delay_until_the_result() -> None:
    result = run_script(load_script(SCRIPTS / "patient_lookup_slow.yaml"))
    assert result.passed, result.failures
    audio = [(round(r.at, 3), r.detail) for r in result.world.records if r.kind == "audio"]
    said = {r.detail: round(r.at, 3) for r in result.world.records if r.kind == "said"}
    (start, hold), (stop, end) = audio
    assert (hold, end) == ("hold", "hold_stop")
    assert stop - start == 5.0 and said[next(t for t in said if "Monday at nine" in t)] == stop
