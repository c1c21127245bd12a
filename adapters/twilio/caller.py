"""`SimulatedCaller`: the Twilio side of a Media Stream, for tests, demos and benchmarks.

It does what Twilio does on a bidirectional `<Connect><Stream>`: opens the WebSocket with a
signed handshake, sends `connected` and `start` (with the custom parameters the voice webhook
would answer with: caller, callSid, the number `called`, the binding), streams the
caller's microphone as paced 20 ms `media` frames (silence between utterances), plays what
the server sends in real time through a `PlaybackBuffer`, echoes each `mark` when playback
reaches it, honours `clear`, and sends `dtmf` and `stop`. Everything the server sends is
parsed strictly; violations are kept in `errors` so a test can assert there were none.
What the caller heard is also kept as `segments`, one per agent sentence (the audio between
two marks): when it started playing, its audio, and whether a `clear` cut it off.
Uses the `websockets` client; all timing is on the running loop's clock.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from adapters.twilio.binding import BINDING_PARAM, make_binding
from adapters.twilio.messages import (
    OutboundClear,
    OutboundMark,
    OutboundMedia,
    OutboundMessage,
    ProtocolError,
    parse_outbound,
)
from adapters.twilio.playback import PlaybackBuffer
from adapters.twilio.signature import SIGNATURE_HEADER, sign
from adapters.twilio.twiml import CALLED_PARAM
from engine import audio_format
from engine.redaction import redact_number

log = logging.getLogger("dialflow.twilio.caller")
FRAME_SECONDS = audio_format.FRAME_MS / 1000


@dataclass
class HeardSegment:
    """One stretch of agent audio the caller heard: a sentence, ended by the server's mark
    (complete) or by a `clear` (cut off: the caller barged in)."""

    started_at: float  # the loop's clock when its first byte played
    audio: bytearray = field(default_factory=bytearray)
    mark: str | None = None
    cut_off: bool = False

    @property
    def ended(self) -> bool:
        return self.mark is not None or self.cut_off


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class SimulatedCaller:
    """One simulated call. `async with SimulatedCaller(url, auth_token=...) as caller:`
    connects and sends `connected` + `start`; leaving the block sends `stop` and closes.

    `signed_url` is the URL to sign when it differs from the one connected to (Twilio signs
    the public `wss://` URL, a test connects to `ws://127.0.0.1:port`). `auth_token=None`
    sends no signature. `continuous=True` sends silence frames whenever the caller is not
    speaking, as Twilio does; False sends only what `say` queues.
    """

    def __init__(
        self,
        url: str,
        *,
        auth_token: str | None,
        signed_url: str | None = None,
        caller: str = "+15550001234",
        call_sid: str | None = None,
        account_sid: str | None = None,
        stream_sid: str | None = None,
        custom_parameters: Mapping[str, str] | None = None,
        called: str = "+15550100100",
        continuous: bool = True,
    ) -> None:
        self.url = url
        self.caller = caller
        self.call_sid = call_sid or _sid("CA")
        self.account_sid = account_sid or _sid("AC")
        self.stream_sid = stream_sid or _sid("MZ")
        self.custom_parameters = {
            "caller": caller,
            "callSid": self.call_sid,
            CALLED_PARAM: called,  # the number dialled, as the voice webhook passes it on
            **dict(custom_parameters or {}),
        }
        self.continuous = continuous
        self._headers = {}
        if auth_token is not None:
            self._headers[SIGNATURE_HEADER] = sign(auth_token, signed_url or url)
            # What the webhook would have answered: the stream's binding to this call.
            self.custom_parameters.setdefault(BINDING_PARAM, make_binding(
                auth_token, self.call_sid, self.custom_parameters["caller"], time.time()))
        self.playback = PlaybackBuffer()
        self.received: list[OutboundMessage] = []
        self.media_received = 0  # how many of `received` are media (counted as they come)
        self.echoed_marks: list[str] = []
        self.segments: list[HeardSegment] = []
        self.errors: list[str] = []
        self.frames_sent = 0
        self.sent_audio = bytearray()  # every microphone byte sent, silence included
        self._ws: ClientConnection | None = None
        self._seq = 0
        self._send_lock = asyncio.Lock()
        self._changed = asyncio.Condition()
        self._mic: deque[bytes] = deque()
        self._mic_drained = asyncio.Event()
        self._audio_arrived = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = False

    # -- lifecycle -------------------------------------------------------------------------
    async def __aenter__(self) -> SimulatedCaller:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def connect(self, opened: ClientConnection | None = None) -> None:
        """Open the signed WebSocket (or take `opened`, one already open to the same URL
        with a signed handshake), send `connected` and `start`, start the tasks."""
        self._ws = opened or await connect(  # Twilio negotiates no compression; neither do we
            self.url, additional_headers=self._headers, proxy=None, max_size=None,
            compression=None,
        )
        log.info(
            "call %s: simulated caller %s connected", self.call_sid, redact_number(self.caller)
        )
        await self._send(
            {"event": "connected", "protocol": "Call", "version": "1.0.0"}, numbered=False
        )
        await self._send(
            {
                "event": "start",
                "start": {
                    "accountSid": self.account_sid,
                    "streamSid": self.stream_sid,
                    "callSid": self.call_sid,
                    "tracks": ["inbound"],
                    "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                    "customParameters": self.custom_parameters,
                },
            }
        )
        for coro in (self._read(), self._play(), self._microphone()):
            self._tasks.append(asyncio.create_task(coro))

    async def stop(self) -> None:
        """Send `stop` (if the socket is still open), then close and end the tasks."""
        if self._stopped or self._ws is None:
            return
        self._stopped = True
        for task in self._tasks:
            if task is not self._tasks[0]:  # keep reading until the socket closes
                task.cancel()
        with contextlib.suppress(ConnectionClosed):
            await self._send(
                {
                    "event": "stop",
                    "stop": {"accountSid": self.account_sid, "callSid": self.call_sid},
                }
            )
        await self._ws.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._notify()

    # -- what the caller does --------------------------------------------------------------
    async def say(self, ulaw: bytes, *, wait: bool = True) -> None:
        """Queue caller audio (8 kHz mu-law) for the microphone; by default return once
        every frame of it has been sent, paced at real time (or the socket closed)."""
        if self.closed:
            raise ConnectionError("the simulated call is not connected")
        self._mic.extend(audio_format.frames(ulaw))
        self._mic_drained.clear()
        if wait:
            await self._mic_drained.wait()

    async def press(self, digit: str) -> None:
        """The caller presses a key."""
        await self._send({"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": digit}})

    async def send_raw(self, text: str) -> None:
        """Send any text as-is (for protocol tests of the server)."""
        assert self._ws is not None, "not connected"
        await self._ws.send(text)

    # -- waiting -----------------------------------------------------------------------------
    async def wait_until(
        self, predicate: Callable[[SimulatedCaller], bool], timeout: float = 10.0
    ) -> None:
        """Wait until `predicate(self)` holds; raise TimeoutError after `timeout` seconds."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self))

    async def wait_closed(self) -> None:
        """Return once either side closed the socket."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.closed)

    @property
    def closed(self) -> bool:
        """True before `connect` and once either side closed the socket."""
        return self._ws is None or self._ws.close_code is not None

    @property
    def heard(self) -> bytes:
        """Every byte of agent audio played to the caller so far."""
        return bytes(self.playback.heard)

    # -- internals -------------------------------------------------------------------------
    async def _send(self, message: dict[str, Any], *, numbered: bool = True) -> None:
        assert self._ws is not None, "not connected"
        async with self._send_lock:
            if numbered:
                self._seq += 1
                message = {**message, "sequenceNumber": str(self._seq)}
                message.setdefault("streamSid", self.stream_sid)
            await self._ws.send(json.dumps(message))

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _microphone(self) -> None:
        try:
            await self._microphone_frames()
        except ConnectionClosed:
            pass
        finally:
            self._mic.clear()
            self._mic_drained.set()  # nobody waits forever on a closed socket

    async def _microphone_frames(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        silence = bytes([audio_format.SILENCE]) * audio_format.FRAME_BYTES
        while True:
            if self._mic:
                frame = self._mic.popleft()
            elif self.continuous:
                frame = silence
            else:
                self._mic_drained.set()
                await asyncio.sleep(FRAME_SECONDS)
                start = loop.time() - self.frames_sent * FRAME_SECONDS
                continue
            chunk = self.frames_sent + 1
            await self._send(
                {
                    "event": "media",
                    "media": {
                        "track": "inbound",
                        "chunk": str(chunk),
                        "timestamp": str(self.frames_sent * audio_format.FRAME_MS),
                        "payload": base64.b64encode(frame).decode("ascii"),
                    },
                }
            )
            self.frames_sent = chunk
            self.sent_audio += frame
            if not self._mic:
                self._mic_drained.set()
            await asyncio.sleep(max(0.0, start + chunk * FRAME_SECONDS - loop.time()))

    async def _play(self) -> None:
        """Play queued agent audio in real time; echo marks as playback reaches them."""
        with contextlib.suppress(ConnectionClosed):
            await self._play_in_real_time()

    async def _play_in_real_time(self) -> None:
        loop = asyncio.get_running_loop()
        started, played_total = loop.time(), 0
        while True:
            if self.playback.idle:
                self._audio_arrived.clear()
                await self._audio_arrived.wait()
                started, played_total = loop.time(), 0
                continue
            await asyncio.sleep(FRAME_SECONDS)
            due = int((loop.time() - started) * audio_format.SAMPLE_RATE) - played_total
            played = self.playback.advance_bytes(max(0, due))
            played_total += len(played.audio)
            self._heard(loop.time(), played.audio, played.marks, played.at)
            await self._echo(played.marks)
            await self._notify()

    def _heard(self, now: float, audio: bytes, marks: list[str],
               at: list[int] | None = None) -> None:
        """Keep `segments` up to date with what one tick played: a mark ends a segment at
        the byte it was reached (`at`), so the audio after it, and every other mark a long
        tick reached, go to the segments that follow."""
        start = 0
        for name, end in zip(marks, at or [0] * len(marks), strict=True):
            self._heard_piece(now, audio[start:end], name)
            start = max(start, end)
        self._heard_piece(now, audio[start:], None)

    def _heard_piece(self, now: float, audio: bytes, mark: str | None) -> None:
        current = self.segments[-1] if self.segments else None
        if audio and (current is None or current.ended):
            current = HeardSegment(now)
            self.segments.append(current)
        if current is not None and not current.ended:
            current.audio += audio
            if mark is not None:
                current.mark = mark

    def _cut(self) -> None:
        """A `clear` arrived: the segment playing now, if any of it was still queued, was
        cut off; a segment whose audio had all played is complete."""
        current = self.segments[-1] if self.segments else None
        if current is None or current.ended:
            return
        if not current.audio:
            self.segments.pop()  # it had not started playing
        elif self.playback.queued_bytes:
            current.cut_off = True
        else:
            current.mark = ""

    async def _echo(self, marks: list[str]) -> None:
        for name in marks:
            self.echoed_marks.append(name)
            await self._send({"event": "mark", "mark": {"name": name}})

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for text in self._ws:
                await self._handle(text)
        except ConnectionClosed:
            pass
        finally:
            await self._notify()

    async def _handle(self, text: str | bytes) -> None:
        try:
            message = parse_outbound(text)
        except ProtocolError as exc:
            self.errors.append(exc.reason)
            await self._notify()
            return
        self.received.append(message)
        if message.stream_sid != self.stream_sid:
            self.errors.append(f"{type(message).__name__} for stream {message.stream_sid!r}")
        elif isinstance(message, OutboundMedia):
            self.media_received += 1
            self.playback.push_audio(message.payload)
            self._audio_arrived.set()
        elif isinstance(message, OutboundMark):
            reached = self.playback.push_mark(message.name)
            self._heard(asyncio.get_running_loop().time(), b"", reached)
            await self._echo(reached)
        elif isinstance(message, OutboundClear):
            self._cut()
            await self._echo(self.playback.clear())
        await self._notify()
