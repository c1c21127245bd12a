"""`settings.hold_music`: each way to get it wrong is one `file:line` error with a fix; a good
file resolves next to the flow and decodes to looped 8 kHz mu-law; no setting is the chime."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from adapters.audio.hold import HoldMusicError, default_chime, hold_audio
from engine.app.commands.check import examine
from engine.scripts import load_script, run_script
from flows.diagram import build_diagram
from flows.explore.script import write_witnesses
from flows.hold_music import MAX_BYTES
from flows.loader import load_flow_text

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = (ROOT / "flows.yaml").read_text(encoding="utf-8")


def write_wav(path: Path, *, seconds: float = 1.0, rate: int = 8000, channels: int = 1,
              width: int = 2) -> Path:
    frames = int(seconds * rate)
    samples = (np.sin(np.arange(frames * channels) / 5) * 1000).astype("<i2")
    data = samples.tobytes() if width == 2 else bytes(frames * channels * width)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(data)
    return path


def check(tmp: Path, value: str) -> list:
    text = DEFAULT.replace("settings:\n", f"settings:\n  hold_music: {value}\n", 1)
    flow_path = tmp / "flows.yaml"
    return load_flow_text(text, str(flow_path))[1]


@pytest.mark.parametrize(("make", "value", "problem", "fix"), [
    (None, "missing.wav", "no file 'missing.wav'", "relative to the flow file"),
    (None, "'  '", "is '  '", "the path of a WAV file"),
    (None, "[a, b]", "is ['a', 'b']", "the path of a WAV file"),
    (lambda p: (p / "hold.mp3").write_bytes(b"ID3"), "hold.mp3", "is not a .wav file", "sox"),
    (lambda p: (p / "junk.wav").write_bytes(b"RIFF0000WAVEjunk"), "junk.wav",
     "is not a PCM WAV file", "sox"),
    (lambda p: write_wav(p / "hi.wav", rate=96000), "hi.wav", "sampled at 96000 Hz",
     "8000 to 48000"),
    (lambda p: write_wav(p / "deep.wav", width=3), "deep.wav", "24-bit samples", "16-bit"),
    (lambda p: write_wav(p / "short.wav", seconds=0.1), "short.wav", "lasts 0.1 s", "0.5 to"),
    (lambda p: write_wav(p / "long.wav", seconds=301), "long.wav", "lasts 301.0 s", "300 s"),
    (lambda p: (p / "big.wav").write_bytes(b"\0" * (MAX_BYTES + 1)), "big.wav",
     "more than 16 MB", "shorten it"),
])
def test_each_bad_hold_music_is_one_error_on_its_line(tmp_path: Path, make, value: str,
                                                      problem: str, fix: str) -> None:
    if make is not None:
        make(tmp_path)
    errors = check(tmp_path, value)
    assert len(errors) == 1, errors
    (error,) = errors
    line = DEFAULT.splitlines().index("settings:") + 2
    assert error.line == line and error.path.endswith("flows.yaml")
    assert "settings.hold_music" in error.message and problem in error.message, error.message
    assert fix in error.fix


def test_a_good_file_resolves_next_to_the_flow_and_decodes_to_8k_mulaw(tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "hold.wav", seconds=1.5, rate=44100, channels=2)
    flow, errors = load_flow_text(DEFAULT.replace(
        "settings:\n", "settings:\n  hold_music: hold.wav\n", 1), str(tmp_path / "flows.yaml"))
    assert errors == [] and flow is not None
    assert flow.settings.hold_music == str(wav)
    audio = hold_audio(flow.settings.hold_music)
    assert len(audio) == 12000 and len(audio) % 160 == 0  # 1.5 s at 8 kHz, whole frames
    assert hold_audio(str(wav)) is audio  # decoded once, then cached
    wav.write_bytes(b"RIFF0000WAVEjunk")  # changed after the check: an error, never a crash
    with pytest.raises(HoldMusicError):
        hold_audio(str(wav))


def test_without_the_setting_the_caller_hears_the_generated_chime() -> None:
    flow, errors = load_flow_text(DEFAULT, str(ROOT / "flows.yaml"))
    assert errors == [] and flow is not None and flow.settings.hold_music == ""
    chime = hold_audio("")
    assert chime == default_chime() and len(chime) == 8 * 8000
    assert len(set(chime)) > 50  # tones, not silence


def test_the_diagram_shows_where_the_music_plays_and_which(tmp_path: Path) -> None:
    flow, _ = load_flow_text(DEFAULT, str(ROOT / "flows.yaml"))
    nodes = {n.name: n.lines for n in build_diagram(flow).nodes}
    assert "while waiting / hold music (chime)" in nodes["transferring"]
    assert not any("hold music" in line for line in nodes["tool_running"])
    write_wav(tmp_path / "calm.wav")
    own, _ = load_flow_text(DEFAULT.replace("settings:\n", "settings:\n  hold_music: calm.wav\n",
                                            1), str(tmp_path / "flows.yaml"))
    nodes = {n.name: n.lines for n in build_diagram(own).nodes}
    assert "while waiting / hold music calm.wav" in nodes["transferring"]


def test_check_warns_when_music_plays_on_after_the_result_came(tmp_path: Path) -> None:
    line = {"stay": '      tool.done: {do: [{set: {visits: "{event.result.message}"}}, '
                    "{say: visits}]}",
            "leave": '      tool.done: {to: telling, do: [{set: {visits: "{event.result.message}"'
                     "}}]}"}
    text = (ROOT / "examples" / "patient_line.yaml").read_text(encoding="utf-8")
    assert line["leave"] in text
    gave_up = "      timer.tool: {to: escalating, do: [{say: lookup_failed}]}"
    broken = text.replace(line["leave"], line["stay"]).replace(gave_up,  # telling reachable
                                                               "      timer.tool: telling")
    path = tmp_path / "patient_line.yaml"
    path.write_text(broken, encoding="utf-8")
    _, findings, report = examine(str(path))
    music = [f for f in findings if f.kind == "music"]
    assert len(music) == 1, [f.message for f in findings]
    (finding,) = music
    assert finding.severity == "warning"
    assert broken.splitlines()[finding.line - 1] == line["stay"]
    assert "'looking_up' keeps playing hold music" in finding.message
    assert "after tool.done" in finding.message and "`to:`" in finding.fix
    _, clean, _ = examine(str(ROOT / "examples" / "patient_line.yaml"))
    assert not clean
    # the witness: the lookup answers before the music would start, then its delay passes;
    # here the music starts over a caller who is expected to talk, in the shipped flow not
    (script,) = write_witnesses(report.rules, music, tmp_path / "w", str(path))
    broken_run = run_script(load_script(script))
    assert not broken_run.passed
    assert "expected audio [], got ['hold']" in broken_run.failures[-1]
    assert run_script(load_script(script, ROOT / "examples" / "patient_line.yaml")).passed
