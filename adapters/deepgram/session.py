"""`DeepgramSession`: one call's live Deepgram socket, kept up for the whole call.

`feed` only queues the frame in the `AudioLedger` and wakes the sender task, so it never
blocks; the sender puts frames on the socket unchanged (Twilio's mu-law, no transcoding)
and sends `KeepAlive` whenever no audio went out for `keepalive_s`, so Deepgram's 10 s idle
limit (NET-0001) never closes the socket, whether the telephony side pauses or not. The
receiver turns Deepgram's messages into call events through the `TurnTracker`, and its
guesses (a final segment at a pause, withdrawn when more words come) into calls on the
call's speculator (`speculation`, set by the media stream).

A dropped socket does not end the call: audio keeps queueing (bounded), and the session
reconnects with exponential backoff and jitter, then resends the unconfirmed and queued
audio. `max_attempts` failed attempts in a row (the first connection included) emit
`stt.error` once and the session goes quiet. A connection counts as healthy, resetting
the count, once Deepgram answered on it or it lasted `stable_after_s`.

`close` (hang-up) sends the rest of the audio, `Finalize`, waits up to `finalize_wait_s`
for its answer, sends `CloseStream`, waits for Deepgram to close, and emits the turn still
pending. Everything runs in tasks on the event loop that called `open`, so `emit` is only
ever called on that loop's thread. `first_result_s` (also passed to `on_first_result`)
is the time from the first audio sent to the first `Results` message. Logs carry the call
id; the API key never reaches this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from adapters.deepgram.config import DeepgramOptions
from adapters.deepgram.ledger import AudioLedger
from adapters.deepgram.turns import GUESS, WITHDRAW, Emission, TurnTracker
from adapters.retry import backoff_delay
from engine.audio_format import BYTES_PER_SECOND
from engine.media import Emit

FEED_CLOCK_FRAMES = 3000  # 60 s of 20 ms frames

log = logging.getLogger("dialflow.deepgram.stt")


class LiveSocket(Protocol):
    """What the session needs of the SDK's `AsyncV1SocketClient`."""

    async def send_media(self, message: bytes) -> None: ...
    async def send_keep_alive(self) -> None: ...
    async def send_finalize(self) -> None: ...
    async def send_close_stream(self) -> None: ...
    def __aiter__(self) -> AsyncIterator[Any]: ...


Connect = Callable[[], AbstractAsyncContextManager[LiveSocket]]
FirstResult = Callable[[str, float], None]


class ConnectionDropped(Exception):
    """Deepgram closed the socket while the call was still live."""


@dataclass(frozen=True)
class _Outcome:
    closed: bool  # the session finished (hang-up); False: the connection was lost
    healthy: bool = False
    error: BaseException | None = None


class DeepgramSession:
    """One call's recognition. Create, feed and close it on the same event loop."""

    def __init__(
        self,
        call_id: str,
        emit: Emit,
        connect: Connect,
        options: DeepgramOptions,
        on_first_result: FirstResult | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.call_id = call_id
        self.options = options
        self.first_result_s: float | None = None
        self.connections = 0  # sockets opened (1 + reconnects)
        self._emit_to_call = emit
        self._connect = connect
        self._on_first_result = on_first_result
        self._rand = rand
        self._loop = asyncio.get_running_loop()
        self._ledger = AudioLedger(options.buffer_bytes, BYTES_PER_SECOND)
        self._turn = TurnTracker(options.report_until_ms)
        self.speculation: Any = None  # the call's Speculator: guess(text, confidence), drop()
        self._wake = asyncio.Event()  # audio queued, or close requested
        self._stop = asyncio.Event()  # close requested
        self._finalized = asyncio.Event()  # the answer to Finalize arrived
        self._closing = False
        self._failed = False
        self._answered = False  # Deepgram sent something on the current connection
        self._first_audio_at: float | None = None
        self._overflow_logged = False
        # (global offset after a frame, when it was fed): maps Deepgram's word times back to
        # the moment the caller said them, so turns are timed from the end of speech.
        self._feed_clock: deque[tuple[int, float]] = deque(maxlen=FEED_CLOCK_FRAMES)
        self._task = self._loop.create_task(self._run(), name=f"{call_id}:deepgram")

    # -- the SttSession interface --------------------------------------------------------

    def feed(self, ulaw: bytes) -> None:
        if self._closing or self._failed or not ulaw:  # an empty frame would end the stream
            return
        overflow = self._ledger.push(bytes(ulaw))
        self._feed_clock.append((self._ledger.fed, time.perf_counter()))
        if overflow and not self._overflow_logged:
            self._overflow_logged = True
            log.warning("call %s: deepgram unreachable; dropping the oldest buffered audio "
                        "(%.1f s kept)", self.call_id, self.options.buffer_s)
        self._wake.set()

    async def close(self) -> None:
        if self._closing:
            await asyncio.wait({self._task}, timeout=self.options.close_timeout_s)
            return
        self._closing = True
        self._stop.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), self.options.close_timeout_s)
        except TimeoutError:
            log.warning("call %s: deepgram did not finish within %.1f s of hang-up",
                        self.call_id, self.options.close_timeout_s)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if not self._failed:
            self._emit_all(self._turn.flush())

    # -- connection lifecycle -----------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._supervise()
        except Exception as exc:  # a bug here must not leave the call deaf without a word
            log.exception("call %s: deepgram session failed", self.call_id)
            self._fail(exc, "internal error")

    async def _supervise(self) -> None:
        opts = self.options
        attempts = 0  # connection attempts since the last healthy connection
        error: BaseException | None = None
        while True:
            if attempts >= opts.max_attempts:
                self._fail(error, f"unavailable after {attempts} connection attempts")
                return
            if error is not None:  # not the first connection: wait before trying again
                if self._closing:
                    return
                delay = backoff_delay(attempts + 1, opts.backoff_base_s, opts.backoff_cap_s,
                                      self._rand)
                log.info("call %s: reconnecting to deepgram in %.2f s (attempt %d of %d)",
                         self.call_id, delay, attempts + 1, opts.max_attempts)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
                if self._closing:
                    return
            attempts += 1
            outcome = await self._connect_and_serve(attempts)
            if outcome.closed:
                return
            error = outcome.error
            if outcome.healthy:
                attempts = 0
            if self._closing:
                return

    async def _connect_and_serve(self, attempt: int) -> _Outcome:
        opts = self.options
        manager = self._connect()
        try:
            socket = await asyncio.wait_for(manager.__aenter__(), opts.connect_timeout_s)
        except Exception as exc:
            log.warning("call %s: deepgram connection attempt %d of %d failed: %s",
                        self.call_id, attempt, opts.max_attempts, describe_error(exc))
            return _Outcome(closed=False, error=exc)
        self.connections += 1
        self._overflow_logged = False
        log.info("call %s: deepgram connected%s", self.call_id,
                 f" (reconnect {self.connections - 1})" if self.connections > 1 else "")
        try:
            return await self._serve(socket)
        finally:
            try:
                await asyncio.wait_for(manager.__aexit__(None, None, None), opts.close_wait_s)
            except Exception as exc:
                log.debug("call %s: deepgram socket close: %s", self.call_id, describe_error(exc))

    async def _serve(self, socket: LiveSocket) -> _Outcome:
        self._ledger.start_connection()
        self._answered = False
        started = self._loop.time()
        receiver = self._loop.create_task(self._receive(socket), name=f"{self.call_id}:dg-recv")
        sender = self._loop.create_task(self._send(socket), name=f"{self.call_id}:dg-send")
        try:
            await asyncio.wait({receiver, sender}, return_when=asyncio.FIRST_COMPLETED)
            if sender.done() and not sender.cancelled() and sender.exception() is None:
                await self._finish(socket, receiver)  # closing and all audio is out
                return _Outcome(closed=True)
            error = (_task_error(receiver) or _task_error(sender)
                     or ConnectionDropped("Deepgram closed the connection"))
            healthy = self._answered or self._loop.time() - started >= self.options.stable_after_s
            replay = self._ledger.connection_lost()
            log.warning("call %s: deepgram connection lost (%s); %d ms of audio to resend, "
                        "%d ms of it unconfirmed", self.call_id, describe_error(error),
                        _ms(self._ledger.pending_bytes), _ms(replay))
            return _Outcome(closed=False, healthy=healthy, error=error)
        finally:
            for task in (receiver, sender):
                task.cancel()
            await asyncio.gather(receiver, sender, return_exceptions=True)

    async def _send(self, socket: LiveSocket) -> None:
        """Audio out as it comes, KeepAlive after `keepalive_s` without any; returns when
        closing and everything queued went out."""
        keepalive = self.options.keepalive_s
        last_out = self._loop.time()
        while True:
            frame = self._ledger.peek()
            if frame is not None:
                await socket.send_media(frame)
                self._ledger.mark_sent()
                last_out = self._loop.time()
                if self._first_audio_at is None:
                    self._first_audio_at = last_out
                await asyncio.sleep(0)  # a replayed backlog must not hog the shared loop
                continue
            if self._closing:
                return
            self._wake.clear()
            idle = self._loop.time() - last_out
            if idle >= keepalive:
                await socket.send_keep_alive()
                last_out = self._loop.time()
                log.debug("call %s: deepgram KeepAlive", self.call_id)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), keepalive - idle)

    async def _finish(self, socket: LiveSocket, receiver: asyncio.Task[None]) -> None:
        """Hang-up on a live socket: Finalize, wait for its answer (unless final results
        already cover all the audio sent: then there is nothing to flush), CloseStream, and
        wait for Deepgram's last results and close."""
        opts = self.options
        self._finalized.clear()
        try:
            await socket.send_finalize()
            if self._ledger.unconfirmed_bytes:
                finalized = self._loop.create_task(self._finalized.wait())
                try:
                    await asyncio.wait({finalized, receiver}, timeout=opts.finalize_wait_s,
                                       return_when=asyncio.FIRST_COMPLETED)
                finally:
                    finalized.cancel()
            if not receiver.done():
                await socket.send_close_stream()
                await asyncio.wait({receiver}, timeout=opts.close_wait_s)
        except Exception as exc:
            log.info("call %s: deepgram closed before the last results: %s", self.call_id,
                     describe_error(exc))

    # -- messages from Deepgram ---------------------------------------------------------

    async def _receive(self, socket: LiveSocket) -> None:
        async for message in socket:
            self._answered = True
            self._handle(message)

    def _handle(self, message: Any) -> None:
        kind = getattr(message, "type", None)
        if kind == "Results":
            self._on_results(message)
        elif kind == "SpeechStarted":
            start = self._ledger.to_global(_number(getattr(message, "timestamp", 0.0)))
            self._emit_all(self._turn.speech_started(start, self._ledger.fed))
        elif kind == "UtteranceEnd":
            self._emit_all(self._turn.utterance_end())
        elif kind == "Metadata":
            log.info("call %s: deepgram request %s ended (%.1f s of audio)", self.call_id,
                     getattr(message, "request_id", "?"), _number(getattr(message, "duration", 0)))
        elif kind == "Error":
            log.warning("call %s: deepgram error message: %s", self.call_id,
                        getattr(message, "description", None) or getattr(message, "message", ""))
        else:
            log.debug("call %s: deepgram message ignored: %r", self.call_id, kind)

    def _on_results(self, message: Any) -> None:
        if self.first_result_s is None and self._first_audio_at is not None:
            self.first_result_s = self._loop.time() - self._first_audio_at
            request = getattr(getattr(message, "metadata", None), "request_id", "?")
            log.info("call %s: deepgram request %s, first result after %.3f s", self.call_id,
                     request, self.first_result_s)
            if self._on_first_result is not None:
                try:
                    self._on_first_result(self.call_id, self.first_result_s)
                except Exception:
                    log.exception("call %s: first-result callback failed", self.call_id)
        alternatives = getattr(getattr(message, "channel", None), "alternatives", None) or []
        best = alternatives[0] if alternatives else None
        text = str(getattr(best, "transcript", "") or "")
        confidence = _number(getattr(best, "confidence", 0.0))
        words = getattr(best, "words", None) or []
        start = _number(getattr(message, "start", 0.0))
        is_final = bool(getattr(message, "is_final", False))
        if is_final:
            self._ledger.confirm(start + _number(getattr(message, "duration", 0.0)))
        first_word = _number(getattr(words[0], "start", start)) if words else start
        last_end = _number(getattr(words[-1], "end", 0.0)) if words else None
        self._emit_all(self._turn.result(
            text, confidence, is_final=is_final,
            speech_final=bool(getattr(message, "speech_final", False)),
            start=self._ledger.to_global(first_word), fed=self._ledger.fed,
            end=self._ledger.to_global(last_end) if last_end else None))
        if getattr(message, "from_finalize", False):
            self._finalized.set()

    # -- events to the call ---------------------------------------------------------------

    def _emit_all(self, emissions: list[Emission]) -> None:
        for name, fields in emissions:
            if name in (GUESS, WITHDRAW):  # for the speculator, not an event of the call
                self._speculate(name, fields)
                continue
            offset = fields.pop("ended_offset", None)
            if offset is not None:
                ended_at = self._time_of(offset)
                if ended_at is not None:
                    fields["ended_at"] = ended_at
            self._emit(name, **fields)

    def _speculate(self, name: str, fields: dict[str, Any]) -> None:
        if self.speculation is None or self._closing:
            return
        try:
            if name == GUESS:
                self.speculation.guess(fields["text"], fields["confidence"])
            else:
                self.speculation.drop()
        except Exception:
            log.exception("call %s: the speculator failed on a %s", self.call_id, name)

    def _time_of(self, offset: int) -> float | None:
        """When the byte at global `offset` was fed (None once it is out of the window)."""
        for fed, at in self._feed_clock:
            if fed >= offset:
                return at - (fed - offset) / BYTES_PER_SECOND
        return None

    def _emit(self, name: str, **fields: Any) -> None:
        try:
            self._emit_to_call(name, **fields)
        except Exception:
            log.exception("call %s: emitting %s failed", self.call_id, name)

    def _fail(self, error: BaseException | None, what: str) -> None:
        if self._failed:
            return
        self._failed = True
        self._ledger.clear()
        message = f"deepgram {what}: {describe_error(error)}"
        log.error("call %s: speech-to-text failed: %s", self.call_id, message)
        self._emit("stt.error", error=message)


def describe_error(exc: BaseException | None) -> str:
    """A short, key-free description of a connection failure."""
    if exc is None:
        return "unknown error"
    status = getattr(exc, "status_code", None)
    if status is not None:  # the SDK's ApiError (its headers are redacted; not shown anyway)
        return f"HTTP {status}: {getattr(exc, 'body', '')}"
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _task_error(task: asyncio.Task[None]) -> BaseException | None:
    return task.exception() if task.done() and not task.cancelled() else None


def _ms(size: int) -> int:
    return size * 1000 // BYTES_PER_SECOND


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
