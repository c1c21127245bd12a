"""Calls on the other two stacks are recorded and replay to the identical trace: one whole
call through the cloud fakes (the real deepgram, anthropic, elevenlabs and twilio SDKs
against their local fake servers), and one whole call on the offline stack (whisper, piper,
the rules brain) placed with `dialflow call`, replayed with `dialflow replay --all`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from adapters.twilio.caller import SimulatedCaller
from engine.records.compare import canonical_trace, first_divergence
from engine.records.log import read_log
from engine.records.replay import replay
from tests.cloud.harness import AUTH, cloud_server
from tests.fakes.anthropic_server import Reply
from tests.fakes.deepgram_server import Cue, SpeechStarted, Words
from tests.fakes.twilio_webhooks import OUR_NUMBER, answer_whisper
from tests.records.kit import ROOT, records_for, until

QUESTION = "What time do you close on Friday?"


def test_a_call_through_the_cloud_fakes_replays_identically(tmp_path: Path) -> None:
    script = [Cue(20_000, SpeechStarted()),
              Cue(22_400, Words("What time", is_final=False)),
              Cue(24_000, Words(QUESTION, confidence=0.97, is_final=True, speech_final=True))]
    records = records_for(tmp_path)

    async def scenario() -> None:
        async with cloud_server(tmp_path, script, calls=("CA901",), records=records) as cloud:
            cloud.claude.script(Reply("We're open until three on Fridays. Anything else?"))
            async with SimulatedCaller(cloud.ws_url, auth_token=AUTH, call_sid="CA901",
                                       custom_parameters={"called": OUR_NUMBER}) as caller:
                await until(lambda: len(cloud.services.streams) == 1)
                call = next(iter(cloud.services.streams)).call
                assert call is not None
                await until(lambda: len(cloud.claude.requests) == 1)
                await until(lambda: call.state == "listening" and call.timeline.turns == 1)
                await caller.press("0")
                await until(lambda: bool(cloud.rest.placed))  # the human's phone rings
                # the human answers the warm transfer: Twilio fetches the whisper
                await answer_whisper(f"http://127.0.0.1:{cloud.port}", "CA901", AUTH)
                await until(lambda: call.ended)

    asyncio.run(scenario())
    (path,) = (tmp_path / "data" / "calls").glob("*.jsonl.gz")
    log = read_log(path)
    assert [r["q"] for r in log.of("reply")] == [QUESTION]
    assert log.of("transfer")[0]["ok"] == 1 and log.end["state"] == "transferred"
    assert "caller.transcript" in [e.event for e in log.entries]  # Deepgram's interim words
    result = replay(log)
    assert not result.stopped and first_divergence(result) is None
    assert canonical_trace(result.trace.entries) == canonical_trace(log.entries)


def test_an_offline_stack_call_replays_identically(tmp_path: Path) -> None:
    (tmp_path / "flows.yaml").write_text((ROOT / "flows.yaml").read_text())
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "knowledge.json").write_text(
        (ROOT / "data" / "knowledge.json").read_text())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
           "DIALFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'calls.db'}",
           "DIALFLOW_TTS_CACHE": str(tmp_path / "tts-cache")}
    for key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "DEEPGRAM_API_KEY",
                "ELEVENLABS_API_KEY", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "DIALFLOW_DATA"):
        env.pop(key, None)
    call = subprocess.run([sys.executable, "-m", "engine.app.cli", "call", "--flow", "flows.yaml",
                           "--say", "Where are you located?", "--say", "No, that's all, bye."],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
                          check=False)
    assert call.returncode == 0, call.stdout + call.stderr
    assert "brain=rules" in call.stdout
    (path,) = (tmp_path / "data" / "calls").glob("*.jsonl.gz")
    log = read_log(path)
    assert len(log.of("reply")) >= 1 and log.end is not None
    assert "caller.utterance" in [e.event for e in log.entries]
    done = subprocess.run([sys.executable, "-m", "engine.app.cli", "replay", "--all",
                           "data/calls"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 call(s) replayed on their recorded flows: 1 same, 0 changed" in done.stdout
