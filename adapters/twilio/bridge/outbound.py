"""`OutboundAudio`: the paced sender of one media stream — 20 ms mu-law frames, marks, clear.

Twilio plays what it receives in real time and buffers the rest. Frames are sent just ahead
of playback (`lead` seconds), so the buffer stays short and a `clear` on barge-in drops
little. Marks follow the frames queued before them. Sending is one task per stream, except
the first frame after silence: `send_due` sends it from the producer's own task, so a
reply's first audio does not wait a trip through a busy event loop for the sender to wake.
Paced frames wait for their loop's shared tick (pacer.py: one timer per process, every
20 ms, for all calls) instead of a timer each. On the tick that finds a call's next frame
due, that frame leaves with the one after it, so the first leaves up to 20 ms after its slot
and the second up to 20 ms before its own (each within a frame of `lead` ahead of playback),
and a second of speech costs a call 25 sends, not 50. When the stream offers `send_now` (a
synchronous write, adapters/twilio/bridge/socket.py) and no other send is under way, the
tick writes the pair itself, as one write, without waking the call's task; otherwise it
wakes the task, which sends them the usual way. Likewise the frames due at once (a reply's
first `lead` of audio) leave in one write wherever `send_now` can take them. `jitter`
records how late each paced wake-up came compared with its tick's schedule (frames within
the lead go out at once and are not late). Once a send fails (the socket went away) the
sender is `gone`: later sends are skipped and nothing raises, since the stream's receiving
side sees the disconnect and hangs the call up.

Background frames (hold music: `background`) play only while nothing else is queued, so
music never delays or cuts speech; `stop_background` drops those not sent and, if some went
out, sends a `clear` ahead of anything queued, so Twilio drops the music it buffered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from adapters.twilio.bridge.pacer import pacer_for
from adapters.twilio.messages import clear_message, mark_message, media_prefix, media_text
from engine.audio_format import frames

log = logging.getLogger("dialflow.outbound")
FRAME_SECONDS = 0.02
DEFAULT_LEAD = 0.2
_ON_TIME = 1e-6  # a frame due this close to now is due: the playhead adds up 0.02s in floats

Send = Callable[[str], Awaitable[None]]
SendNow = Callable[[list[str]], bool]  # write these texts now, in one write; False: did not


@dataclass(frozen=True)
class _Mark:
    name: str


@dataclass(frozen=True)
class _Clear:
    rewind: bool = False  # a barge-in not yet confirmed: what was dropped may be re-sent


MAX_UNHEARD = 1500  # frames kept for a rewind (30 s): a sentence longer than this replays less


class OutboundAudio:
    def __init__(self, send: Send, stream_sid: str, lead: float = DEFAULT_LEAD,
                 on_frame: Callable[[], None] | None = None,
                 on_mark: Callable[[str], object] | None = None,
                 on_clear: Callable[[], object] | None = None,
                 on_rewind: Callable[[], object] | None = None,
                 send_now: SendNow | None = None):
        self._send = send
        self._send_now = send_now
        self.stream_sid = stream_sid
        self._media_prefix = media_prefix(stream_sid)  # each frame's JSON up to its payload
        self._clear_text = clear_message(stream_sid)  # the same every time
        self.lead = lead
        self._items: deque[bytes | _Mark | _Clear] = deque()
        self._wake = asyncio.Event()
        self._playhead = 0.0
        self._task: asyncio.Task[None] | None = None
        self.frames_sent = 0
        self.jitter: list[float] = []  # lateness of paced frames, seconds
        self._paced: float | None = None
        self._parked = False  # the sender task waits for work
        self._nap: asyncio.Future[bool] | None = None  # the sender waits for a frame's time
        self._ahead = 0.0  # a tick let the frames due by this time go (a pair's second)
        self._sending = 0  # sends taken and not yet done: the tick writes only when none
        self._one_send = asyncio.Lock()  # FIFO: sends reach the socket in the order taken
        self.on_frame = on_frame  # called as each frame leaves (turn-latency metric)
        self.on_mark = on_mark  # the protocol tracker learns which marks may come back
        self.on_clear = on_clear
        self.on_rewind = on_rewind  # a clear whose marks will be re-sent (see `rewind`)
        self._unheard: deque[bytes | _Mark] = deque()  # sent, after the last heard mark
        self.gone = False  # a send failed: the socket is closed, nothing more goes out
        self.paused = False  # barge-in (engine/turns/barge_in.py): hold what is queued
        self._background: deque[bytes] = deque()  # hold music: only when nothing else is
        self._background_out = False  # some background went out since the last clear
        self._background_head: bytes | None = None  # the background frame moved to the queue

    def pause(self) -> None:
        """Send no new frame (or mark) until `resume` or `clear`; the queue is kept."""
        self.paused = True

    def resume(self) -> None:
        """Go on sending from the first frame that was held, paced from now."""
        self.paused = False
        self._wake.set()

    def heard(self, name: str) -> None:
        """Twilio echoed mark `name` as played: what was sent up to it needs no replay."""
        if any(isinstance(item, _Mark) and item.name == name for item in self._unheard):
            while self._unheard:
                item = self._unheard.popleft()
                if isinstance(item, _Mark) and item.name == name:
                    break

    def rewind(self) -> None:
        """Barge-in before it is confirmed: tell Twilio to drop what it buffered (its
        pending marks come back at once, and mean nothing), and put everything sent since
        the last mark it echoed as played back at the head of the queue, paused: a
        `resume` replays the sentence the caller did not hear to its end, a `clear` drops
        it. Sentence granularity: each speech ends with a mark."""
        self._items.extendleft(reversed(self._unheard))
        self._items.appendleft(_Clear(rewind=True))
        self._unheard.clear()
        self._playhead = self._ahead = 0.0
        self.paused = True
        self._wake.set()
        self._cut_nap()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbound")

    def frames(self, ulaw: bytes) -> None:
        """Queue whole 160-byte frames (the caller keeps any remainder)."""
        if self.gone:
            return
        self._items.extend(frames(ulaw, last="drop"))
        self._wake.set()

    def background(self, ulaw: bytes) -> None:
        """Queue whole 160-byte frames that play only while nothing else is queued."""
        if self.gone:
            return
        self._background.extend(frames(ulaw, last="drop"))
        self._wake.set()

    @property
    def background_pending(self) -> int:
        return len(self._background)

    def stop_background(self) -> None:
        """Drop the background not yet sent; if some was sent, Twilio drops what it still
        buffers (a `clear` that goes before anything queued)."""
        self._background.clear()
        if self._items and self._items[0] is self._background_head:
            self._items.popleft()  # about to go out: it is music too
        self._background_head = None
        if self._background_out:
            self._background_out = False
            self._items.appendleft(_Clear())
            self._wake.set()
            self._cut_nap()

    def mark(self, name: str) -> None:
        if self.gone:
            return
        self._items.append(_Mark(name))
        self._wake.set()

    def clear(self) -> None:
        """Drop everything not yet sent at once, and tell Twilio to drop what it buffered."""
        self._items.clear()
        self._items.append(_Clear())
        self._background.clear()
        self._background_out = False
        self._unheard.clear()
        self._playhead = self._ahead = 0.0
        self.paused = False
        self._wake.set()
        self._cut_nap()

    def _cut_nap(self) -> None:
        """A clear jumped the queue: the sender, if it waits for a frame's time, sends it now
        (a clear must not wait out the pacing, nor be lost to a teardown meanwhile)."""
        if self._nap is not None and not self._nap.done():
            self._nap.set_result(False)

    async def _nap_for_tick(self) -> bool:
        """Wait on the loop's shared tick (pacer.py) until the head frame is due, or until
        the head is no longer a frame to pace; `_cut_nap` ends it early. True if a tick
        ended it. Whichever way it ends, the pacer holds no reference to this sender."""
        loop = asyncio.get_running_loop()
        nap = self._nap = loop.create_future()
        pacer = pacer_for(loop)
        pacer.join(self)
        try:
            return await nap
        finally:
            pacer.leave(self)
            self._nap = None

    def on_tick(self, due: float, now: float) -> bool:
        """The shared tick (scheduled for `due`, running at `now`): if the head frame is
        due, send it and the one after it now when a synchronous write is free (True while
        the next head is a frame still to wait for), else wake the task to do it. If this
        raises (a callback's bug), the task is woken all the same: the pacer drops us."""
        try:
            return self._on_tick(due, now)
        except Exception:
            self._cut_nap()
            raise

    def _on_tick(self, due: float, now: float) -> bool:
        nap = self._nap
        if nap is None or nap.done():
            return False  # the wait ended otherwise (a clear, a teardown)
        if self._frame_ahead():
            if not self._due_by(now):
                return True  # not yet: the next tick
            self._ahead = now + FRAME_SECONDS  # the pair's second may go with it
            if not self._write_due(now, self._ahead):
                self._paced = due  # the task sends it; its lateness is measured then
            else:
                self.jitter.append(max(0.0, now - due))
                if self._frame_ahead():
                    return True
        nap.set_result(True)  # the task goes on: a mark, a clear, an empty queue, a send
        return False

    def _frame_ahead(self) -> bool:
        """The head of the queue is a frame to pace (not a mark or a clear; not paused)."""
        items = self._items
        return bool(items) and not self.paused and isinstance(items[0], bytes)

    def _due_by(self, until: float) -> bool:
        """The head frame may leave by `until`: its slot is within the lead of it."""
        return self._playhead - self.lead <= until + _ON_TIME

    def _write_due(self, now: float, until: float) -> bool:
        """Write the frames due by `until` (the head is due) in one synchronous write;
        False (nothing sent, nothing taken) when there is no such write or another send
        is under way (order), or the stream cannot write now."""
        if self._send_now is None or self._sending:
            return False
        items, limit = self._items, until + _ON_TIME
        playhead = max(self._playhead, now)
        texts: list[str] = []
        while (len(texts) < len(items) and isinstance(frame := items[len(texts)], bytes)
               and playhead - self.lead <= limit):
            texts.append(media_text(self._media_prefix, frame))
            playhead += FRAME_SECONDS
        if not texts:
            return False
        try:
            if not self._send_now(texts):
                return False
        except Exception as exc:  # the socket is gone; the receiving side hangs up
            self._went(exc)
            return True
        self._playhead = playhead
        self.frames_sent += len(texts)
        for _ in texts:
            self._keep(items.popleft())  # type: ignore[arg-type]  # frames, taken above
            if self.on_frame:
                self.on_frame()
        return True

    @property
    def pending(self) -> int:
        return len(self._items)

    async def send_due(self) -> None:
        """Send the next frame now if the sender is parked and that frame is due: the first
        audio after silence. Order holds: the frame leaves the queue before anything else
        can, and sends go out in the order they were taken."""
        if not self._parked or not self._frame_ahead():
            return
        now = asyncio.get_running_loop().time()
        if not self._due_by(now) or self._write_due(now, now):
            return  # not due, or sent: every frame due now, in one write
        frame = self._take_due(now, now)
        if frame is not None:
            await self._send_frame(frame)

    def _take_due(self, now: float, until: float) -> bytes | None:
        """Pop the head frame if it is due by `until` (>= `now`; within the lead),
        advancing the playhead; None if it has to wait."""
        self._playhead = max(self._playhead, now)
        if not self._due_by(until):
            return None
        frame = self._items.popleft()
        assert isinstance(frame, bytes)
        self._playhead += FRAME_SECONDS
        if self.on_frame:
            self.on_frame()
        return frame

    async def _send_frame(self, frame: bytes) -> None:
        self.frames_sent += 1
        self._keep(frame)
        await self._send_one(media_text(self._media_prefix, frame))

    def _keep(self, item: bytes | _Mark) -> None:
        self._unheard.append(item)
        if len(self._unheard) > MAX_UNHEARD:
            self._unheard.popleft()

    async def _send_one(self, text: str) -> None:
        if self.gone:
            return
        self._sending += 1
        try:
            async with self._one_send:
                try:
                    await self._send(text)
                except Exception as exc:  # the socket is gone; the receiving side hangs up
                    self._went(exc)
        finally:
            self._sending -= 1

    def _went(self, exc: Exception) -> None:
        self.gone = True
        self._items.clear()
        log.info("stream %s: agent audio stopped, the socket is gone (%s)",
                 self.stream_sid, type(exc).__name__)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._items and self._background and not self.paused:
                self._background_head = self._background.popleft()  # nothing else to play
                self._items.append(self._background_head)
                self._background_out = True
            held = self.paused and bool(self._items) and not isinstance(self._items[0], _Clear)
            if not self._items or held:
                self._wake.clear()
                self._parked = True
                try:
                    await self._wake.wait()
                finally:
                    self._parked = False
                continue
            item = self._items[0]
            if isinstance(item, _Clear):
                self._items.popleft()
                hook = self.on_rewind if item.rewind else self.on_clear
                if hook:
                    hook()
                await self._send_one(self._clear_text)
                continue
            if isinstance(item, _Mark):
                self._items.popleft()
                if self.on_mark:
                    self.on_mark(item.name)
                self._keep(item)
                await self._send_one(mark_message(self.stream_sid, item.name))
                continue
            now, paced = loop.time(), self._paced
            until = max(now, self._ahead)
            if self._due_by(until) and self._write_due(now, until):
                self._paced = None  # every frame due, in one write
                if paced is not None:
                    self.jitter.append(max(0.0, now - paced))
                continue
            frame = self._take_due(now, until)
            if frame is None:
                self._paced = None
                await self._nap_for_tick()  # the tick may send frames itself meanwhile
                continue  # a clear may have emptied the queue meanwhile (or a pause held it)
            if self._paced is not None:  # woke up for this frame: how late was the wake-up?
                self.jitter.append(max(0.0, now - self._paced))
                self._paced = None
            await self._send_frame(frame)

    async def close(self) -> None:
        """Stop the sender. Never raises: a sender that already died because the socket
        went away (its send raised) must not stop the call's teardown."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

