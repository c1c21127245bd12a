"""`CallRecords` (one per server) opens a `CallRecord` per call: the call's event log, fed by
its trace and by recording proxies around its ports, plus the encrypted audio if the flow
asks for it.

The proxies pass every request through unchanged and write what came back: each brain reply
(its sentences and tool call, with times), each tool outcome, each transfer outcome, each
speech's synthesis (when queued or failed). The trace writes every event the machine
handled. Times are seconds since the call's record was opened. Nothing here blocks: a line is
a `write` + `flush`; the fsync runs on the transcripts' background syncer.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from engine.ports import BrainOutput, Ports, ToolCall, ToolOutcome, Turn, WarmDial
from engine.records.log import FORMAT_VERSION, SUFFIX, EventLogWriter, entry_record, stem_of
from engine.records.names import FlowArchive
from engine.records.privacy import KEY_ENV, DataDirs, PrivacySettings, Redactor, scrub
from engine.trace import Trace, TraceEntry
from engine.transcripts import file_stem as safe_name
from flows import Flow

if TYPE_CHECKING:
    from engine.call import Call
    from engine.records.audio import AudioRecorder

log = logging.getLogger("dialflow.records")
ARCHIVE_POLL = 1.0  # seconds between looks for a reloaded flow to archive


def error_of(exc: BaseException) -> list[str]:
    return [type(exc).__name__, str(exc)]


class CallRecord:
    """One call's record while it runs."""

    def __init__(self, writer: EventLogWriter, clock: Callable[[], float],
                 redact: Redactor | None, audio: AudioRecorder | None = None):
        self.writer = writer
        self._clock = clock
        self._t0 = clock()
        self.redact = redact
        self.audio = audio

    def now(self) -> float:
        return round(self._clock() - self._t0, 4)

    def write(self, record: dict[str, Any]) -> None:
        """Never raises into the call: a record that cannot be written is logged."""
        try:
            self.writer.write(scrub(record, self.redact))
        except Exception:
            log.exception("event log %s: a %s line could not be written", self.writer.path.name,
                          record.get("k"))

    def wrap(self, ports: Ports) -> Ports:
        return Ports(speaker=_Speaker(ports.speaker, self), brain=_Brain(ports.brain, self),
                     tools=_Tools(ports.tools, self), telephony=_Telephony(ports.telephony, self),
                     playback=ports.playback)

    def agent_message(self, text: str) -> None:
        """An outbound Twilio message: its audio, if it is a media frame, goes to the
        recording's agent side."""
        if self.audio is None or '"media"' not in text[:40]:
            return
        try:  # (50 a second while recording: orjson, a few times faster than json)
            payload = orjson.loads(text)["media"]["payload"]
            self.audio.agent(base64.b64decode(payload))
        except (ValueError, KeyError, TypeError):
            return

    def attach(self, call: Call) -> None:
        """Record every trace entry of `call` from now on."""
        call.trace = _RecordingTrace(self, call)

    def close(self, state: str) -> None:
        if self.writer.closed:
            return
        self.write({"k": "end", "t": self.now(), "state": state})
        self.writer.close()
        if self.audio is not None:
            self.audio.close()


class _RecordingTrace(Trace):
    """The call's trace, written as it grows; a turn's latency stages are written once the
    call's timeline has finished that turn (its first mark came back)."""

    def __init__(self, record: CallRecord, call: Call):
        super().__init__()
        self.entries = call.trace.entries
        self._record = record
        self._timeline = call.timeline
        self._turns = 0
        self._call = call
        self._timer: tuple[str, float] | None = None  # (event, deadline) last written

    def add(self, entry: TraceEntry) -> None:
        super().add(entry)
        rec = self._record
        timeline = self._timeline
        if timeline.turns != self._turns:
            self._turns = timeline.turns
            rec.write({"k": "turn", "t": rec.now(), "n": timeline.turns,
                       "ms": {k: round(v * 1000, 1) for k, v in timeline.last.items()
                              if k != "caller_done"}})
        line = entry_record(entry, rec.now())
        timer = self._timer_change(line["t"])
        if timer is not None:
            line["tm"] = timer
        rec.write(line)

    def _timer_change(self, t: float) -> list[Any] | int | None:
        """`tm` of an `ev` line when the state timer changed with it: `[event, seconds
        left]` when one was (re)armed, 0 when none is armed any more; None when unchanged."""
        armed = self._call.armed_timer()
        now = None if armed is None else (armed[0], round(t + armed[1], 2))
        if now == self._timer:
            return None
        self._timer = now
        return 0 if armed is None else [armed[0], round(armed[1], 2)]


class _Brain:
    def __init__(self, inner: Any, record: CallRecord):
        self.inner = inner
        self.rec = record

    def _write(self, turn: Turn, rec: dict[str, Any]) -> None:
        """A speculative turn's reply is written once committed, never if dropped."""
        if turn.tentative is None:
            self.rec.write(rec)
        else:
            turn.tentative.on_commit(lambda: self.rec.write(rec))

    async def respond(self, turn: Turn) -> AsyncIterator[BrainOutput]:
        rec = {"k": "reply", "t": self.rec.now(), "q": turn.text, "o": []}
        done = False
        try:
            async for item in self.inner.respond(turn):
                if isinstance(item, ToolCall):
                    rec["o"].append([self.rec.now(), {"tool": item.name, "args": item.args,
                                                      "id": item.id}])
                    rec["end"] = self.rec.now()
                    done = True
                    self._write(turn, rec)  # the runner stops reading after a tool call
                else:
                    rec["o"].append([self.rec.now(), item.text])
                yield item
            rec["end"] = self.rec.now()
        except (asyncio.CancelledError, GeneratorExit):
            rec["end"], rec["cut"] = self.rec.now(), 1
            raise
        except Exception as exc:
            rec["end"], rec["err"] = self.rec.now(), error_of(exc)
            raise
        finally:
            if not done:
                self._write(turn, rec)

    def tool_result(self, call_id: str, tool: ToolCall, outcome: ToolOutcome) -> None:
        self.inner.tool_result(call_id, tool, outcome)

    def forget(self, call_id: str) -> None:
        self.inner.forget(call_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class _Tools:
    def __init__(self, inner: Any, record: CallRecord):
        self.inner = inner
        self.rec = record

    async def run(self, name: str, args: dict[str, Any], call_id: str) -> ToolOutcome:
        rec: dict[str, Any] = {"k": "tool", "t": self.rec.now(), "name": name, "args": args}
        try:
            outcome = await self.inner.run(name, args, call_id)
        except asyncio.CancelledError:
            self.rec.write({**rec, "end": self.rec.now(), "cut": 1})
            raise
        except Exception as exc:
            self.rec.write({**rec, "end": self.rec.now(), "raised": error_of(exc)})
            raise
        self.rec.write({**rec, "end": self.rec.now(), "ok": int(outcome.ok),
                        "res": outcome.result, "err": outcome.error})
        return outcome


class _Telephony:
    def __init__(self, inner: Any, record: CallRecord):
        self.inner = inner
        self.rec = record

    async def transfer(self, number: str, warm: WarmDial | None = None) -> None:
        rec: dict[str, Any] = {"k": "transfer", "t": self.rec.now(), "to": number}
        try:
            await self.inner.transfer(number, warm)
        except asyncio.CancelledError:
            self.rec.write({**rec, "end": self.rec.now(), "cut": 1})
            raise
        except Exception as exc:
            self.rec.write({**rec, "end": self.rec.now(), "ok": 0, "err": error_of(exc)})
            raise
        self.rec.write({**rec, "end": self.rec.now(), "ok": 1})

    async def hang_up(self) -> None:
        await self.inner.hang_up()

    def stop_ringing(self) -> None:  # optional on the port (engine/ports.py); not an answer
        stop = getattr(self.inner, "stop_ringing", None)
        if stop is not None:
            stop()


class _Speaker:
    def __init__(self, inner: Any, record: CallRecord):
        self.inner = inner
        self.rec = record

    async def say(self, speech_id: str, text: str) -> None:
        rec: dict[str, Any] = {"k": "say", "t": self.rec.now(), "id": speech_id, "text": text}
        try:
            await self.inner.say(speech_id, text)
        except asyncio.CancelledError:
            self.rec.write({**rec, "end": self.rec.now(), "cut": 1})
            raise
        except Exception as exc:
            self.rec.write({**rec, "end": self.rec.now(), "err": error_of(exc)})
            raise
        self.rec.write({**rec, "end": self.rec.now()})

    def clear(self) -> None:
        self.inner.clear()

    def hold(self, music: str) -> None:
        self.inner.hold(music)

    def stop_hold(self) -> None:
        self.inner.stop_hold()

    def __getattr__(self, name: str) -> Any:  # prepare/forget_prepared: nothing to record
        return getattr(self.inner, name)


class CallRecords:
    """The server's call records: opens one `CallRecord` per call under `dirs.calls`."""

    def __init__(self, dirs: DataDirs, redact: Redactor | None = None,
                 env: dict[str, str] | None = None):
        self.dirs = dirs
        self.redactor = redact
        self.key = (env or {}).get(KEY_ENV, "")
        self.flows = FlowArchive(dirs.calls)
        self._purger: asyncio.Task[None] | None = None

    def start(self, current: Callable[[], Any]) -> None:
        """Background work, off the calls' path: archive each new flow version in a thread
        (checking it means parsing it again: tens of milliseconds the first call would
        otherwise spend on the loop), and enforce retention now, then every hour, with the
        retention of the flow serving at that moment (`current()` returns its machine)."""
        self._purger = asyncio.get_running_loop().create_task(self._background(current),
                                                              name="records-background")

    async def _background(self, current: Callable[[], Any]) -> None:
        from engine.records.retention import PURGE_EVERY

        next_purge = 0.0
        loop = asyncio.get_running_loop()
        while True:
            flow = current().flow
            if not self.flows.knows(flow):
                await asyncio.to_thread(self.flows.version_of, flow)
            if loop.time() >= next_purge:
                next_purge = loop.time() + PURGE_EVERY
                await self._purge(self.privacy(flow).retention_days)
            await asyncio.sleep(ARCHIVE_POLL)

    async def _purge(self, days: int) -> None:
        from engine.records.retention import purge

        try:
            report = await asyncio.to_thread(purge, self.dirs, days)
            if report.removed or report.failed:
                log.warning("retention %sd: %s%s", days, report.summary(),
                            f"; failed: {report.failed}" if report.failed else "")
        except Exception:
            log.exception("retention: purge failed")

    async def stop(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger

    def privacy(self, flow: Flow) -> PrivacySettings:
        return flow.settings.privacy

    def open(self, call_id: str, caller: str, flow: Flow,
             clock: Callable[[], float] | None = None) -> CallRecord | None:
        """Start a call's record; None (logged) if the disk refuses."""
        privacy = self.privacy(flow)
        redact = self.redactor if privacy.redact_transcripts else None
        clock = clock or asyncio.get_running_loop().time
        try:
            self.dirs.calls.mkdir(parents=True, exist_ok=True)
            path = _fresh(self.dirs.calls, safe_name(call_id), SUFFIX)
            writer = EventLogWriter(path)
        except OSError as exc:
            log.error("call records: cannot open a log in %s: %s", self.dirs.calls, exc)
            return None
        audio = self._audio(privacy, stem_of(path))
        record = CallRecord(writer, clock, redact, audio)
        record.write({"v": FORMAT_VERSION, "k": "call", "id": call_id,
                      "start": round(time.time(), 3), "flow": self.flows.version_of(flow),
                      "flow_path": flow.path, "flow_name": flow.name, "caller": caller,
                      "audio": int(audio is not None), "pid": os.getpid(),
                      "host": socket.gethostname()})
        return record

    def _audio(self, privacy: PrivacySettings, name: str) -> AudioRecorder | None:
        if not privacy.record_audio:
            return None
        from engine.records.audio import AudioRecorder, RecordingKeyError, load_key

        try:
            key = load_key(self.key)
        except RecordingKeyError as exc:
            log.error("recording is on but not possible: %s", exc)
            return None
        try:
            self.dirs.recordings.mkdir(parents=True, exist_ok=True)
            return AudioRecorder.create(self.dirs.recordings / f"{name}.wav.enc", key)
        except OSError as exc:
            log.error("call records: cannot open a recording: %s", exc)
            return None

    def describe(self, flow: Flow) -> dict[str, Any]:
        """What /health shows: what is kept, where and for how long."""
        privacy = self.privacy(flow)
        audio = "off"
        if privacy.record_audio:
            audio = "encrypted" if self.key else f"off: {KEY_ENV} is not set"
        return {"event_logs": str(self.dirs.calls), "transcripts": str(self.dirs.transcripts),
                "recordings": audio, "retention_days": privacy.retention_days,
                "redact_transcripts": privacy.redact_transcripts}


def _fresh(directory: Path, stem: str, suffix: str) -> Path:
    """`stem.jsonl.gz`, or `stem.2.jsonl.gz`… when the same call id was recorded before."""
    path = directory / f"{stem}{suffix}"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"{stem}.{n}{suffix}"
    return path
