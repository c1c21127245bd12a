"""`CallSimulation`: place one call as Twilio would and play the caller's lines.

It POSTs the signed voice webhook, reads the `<Stream>` URL and parameters from the TwiML,
opens the signed Media Streams WebSocket with `SimulatedCaller`, speaks each line with the
caller's own TTS voice (or plays a WAV, or presses a key), waits for the agent's answer and
measures the turn: from the caller's last audio frame to the agent's first audio frame.
`server_busy(services)` is how an in-process caller (`dialflow call`, the conversation bench)
knows the agent still has something to say, so it does not talk into the agent's gaps.
"""

from __future__ import annotations

import asyncio
import time
import wave
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from adapters.audio.mulaw import pcm_to_ulaw8k
from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.signature import SIGNATURE_HEADER, sign
from engine.media import TtsProvider

QUIET_SECONDS = 1.2  # the agent's turn is over after this much silence ...
TURN_TIMEOUT = 30.0  # ... and, in-process, once the server has nothing left to say (or this)
HEAD_BYTES = 16000  # of each agent line's audio kept to tell its heard segments (2 s)


@dataclass(frozen=True)
class Line:
    kind: str  # say | wav | dtmf
    value: str

    @classmethod
    def parse(cls, text: str) -> Line:
        head, _, rest = text.partition(":")
        if head in ("dtmf", "wav") and rest:
            return cls(head, rest.strip())
        return cls("say", text.strip())


@dataclass
class Turn:
    line: Line
    latency: float | None = None
    agent: list[str] = field(default_factory=list)


def read_wav(path: str | Path) -> bytes:
    """A mono 16-bit WAV at any rate as 8 kHz mu-law."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV files are supported")
        frames = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
        if wav.getnchannels() > 1:
            frames = frames.reshape(-1, wav.getnchannels())[:, 0]
        return pcm_to_ulaw8k(frames.astype(np.int16), wav.getframerate())


async def place_call(base_url: str, auth_token: str, caller: str,
                     call_sid: str) -> tuple[str, dict[str, str]]:
    """The signed webhook Twilio sends for an incoming call; returns the stream URL and
    parameters from the TwiML answer."""
    url = f"{base_url.rstrip('/')}/webhook/voice"
    form = {"CallSid": call_sid, "From": caller, "To": "+15550100100", "CallStatus": "ringing"}
    async with httpx.AsyncClient(timeout=10) as client:
        answer = await client.post(url, data=form,
                                   headers={SIGNATURE_HEADER: sign(auth_token, url, form)})
    answer.raise_for_status()
    stream = ET.fromstring(answer.text).find("./Connect/Stream")
    if stream is None:
        raise RuntimeError(f"the webhook did not answer with <Connect><Stream>: {answer.text}")
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return stream.get("url", ""), params


def server_busy(services: Any) -> bool:
    """The in-process server still has something to say to a live call: speech queued that
    the caller has not heard yet, or a task (a reply, a say, a tool, a filler) in flight."""
    return any(s.call is not None and not s.call.ended
               and (bool(s.call.busy()) or not s.call.playback.idle) for s in services.streams)


class CallSimulation:
    def __init__(self, caller: SimulatedCaller, voice: TtsProvider,
                 agent_lines: Callable[[], list[str]] | None = None,
                 agent_busy: Callable[[], bool] | None = None):
        self.caller = caller
        self.voice = voice
        self.agent_lines = agent_lines or (lambda: [])
        # In-process: the server still has speech to play or a reply, tool or filler in
        # flight. A pause in its audio (a clause synthesised slower than real time on a busy
        # machine) is then not the end of its turn.
        self.agent_busy = agent_busy or (lambda: False)
        self._seen_agent = 0
        self.last_latency: float | None = None  # the newest turn's, as soon as it is measured

    def _media_count(self) -> int:
        return self.caller.media_received

    def new_agent_lines(self) -> list[str]:
        lines = self.agent_lines()
        fresh, self._seen_agent = lines[self._seen_agent:], len(lines)
        return fresh

    async def wait_for_agent(self, since_media: int) -> float | None:
        """Seconds until the agent's first frame after `since_media` frames, then wait for
        its turn to end (quiet); None when it said nothing."""
        started = time.perf_counter()
        latency = None
        while time.perf_counter() - started < TURN_TIMEOUT and not self.caller.closed:
            if self._media_count() > since_media:
                latency = self.last_latency = time.perf_counter() - started
                break
            await asyncio.sleep(0.005)
        quiet_since = time.perf_counter()
        while latency is not None and not self.caller.closed:
            now = time.perf_counter()
            if not self.caller.playback.idle:
                quiet_since = now
            elif now - quiet_since >= QUIET_SECONDS and (
                    not self.agent_busy() or now - quiet_since >= TURN_TIMEOUT):
                break
            await asyncio.sleep(0.02)
        return latency

    async def greeting(self) -> Turn:
        turn = Turn(Line("say", ""))
        turn.latency = await self.wait_for_agent(0)
        turn.agent = self.new_agent_lines()
        return turn

    async def play(self, line: Line) -> Turn:
        turn = Turn(line)
        if line.kind == "dtmf":
            before = self._media_count()
            for digit in line.value:
                await self.caller.press(digit)
        else:
            audio = read_wav(line.value) if line.kind == "wav" else await self._speak(line.value)
            await self.caller.say(audio)
            before = self._media_count()
        turn.latency = await self.wait_for_agent(before)
        turn.agent = self.new_agent_lines()
        return turn

    async def _speak(self, text: str) -> bytes:
        return b"".join([chunk async for chunk in self.voice.synthesize(text)])


class RecordingTts:
    """Wraps the server's TTS in an in-process call so the transcript can show what the
    agent said (a remote server's words are only audio to the caller). A line is recorded
    when its first audio comes out, with the start of that audio (`sounds`, up to
    `HEAD_BYTES`): a line can come out and never be heard (synthesised ahead for a dropped
    speculative reply, or cleared by a barge-in), or be heard twice (resumed after a
    barge-in pause), so what the caller heard is matched to a line by its audio
    (`narrator.SpokenLines`), not by counting."""

    def __init__(self, inner: TtsProvider):
        self.inner = inner
        self.name = getattr(inner, "name", "tts")
        self.lines: list[str] = []
        self.sounds: list[bytearray] = []

    async def warm(self) -> None:
        await self.inner.warm()

    async def synthesize(self, text: str, call_id: str = "-") -> AsyncIterator[bytes]:
        first = True
        async with aclosing(self.inner.synthesize(text, call_id=call_id)) as stream:
            async for chunk in stream:
                if first and chunk:
                    self.lines.append(text)
                    self.sounds.append(sound := bytearray())
                    first = False
                if not first and len(sound) < HEAD_BYTES:
                    sound += chunk[:HEAD_BYTES - len(sound)]
                yield chunk
