"""`Services`: what every call of one server process shares — the live flow, the STT and
TTS providers, the brain, the tool registry and storage, telephony, signatures, metrics —
the deployment's limits — and the set of active streams, the count of open media sockets
and the one-stream-per-CallSid claims (in the shared database: a replayed `start` is refused
by every worker and machine). Under `serve --workers N` also the way to the other workers
(`routing`, engine/app/server/forwarding.py): each started call is recorded as held here,
so a callback about it that reaches another worker is forwarded here.
Built once at start-up; calls only borrow from it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters.twilio.binding import BINDING_TTL
from adapters.twilio.rest import TwilioCalls, TwilioRest, WarmLine
from adapters.twilio.signature import SignatureChecker
from adapters.twilio.urls import hooks_base
from adapters.twilio.warm import WarmTransfers
from engine.app.server.flow_source import FlowSource
from engine.app.server.limits import ServerLimits
from engine.app.server.metrics import Metrics
from engine.media import SttProvider, TtsProvider, describe
from engine.ports import Brain
from engine.records.recorder import CallRecords
from engine.tools_port import CallTools
from engine.transcripts import TranscriptStore
from tools.calendar import BusinessCalendar
from tools.registry import ToolRegistry
from tools.storage import Storage

if TYPE_CHECKING:
    from adapters.twilio.bridge.stream import MediaStream

log = logging.getLogger("dialflow.server")


class NoTelephony:
    """Telephony when no Twilio credentials are configured (local simulated calls): a
    transfer cannot be placed (the flow takes a message), hang-up closes the media socket."""

    def __init__(self, stream: MediaStream):
        self.stream = stream

    async def transfer(self, number: str, warm: Any = None) -> None:
        from engine.ports import NoHumanToTransferTo  # (imported here: keeps merges local)

        raise NoHumanToTransferTo("no Twilio credentials are configured, so no transfer")

    async def hang_up(self) -> None:
        await self.stream.close()


@dataclass
class Services:
    flows: FlowSource
    stt: SttProvider
    tts: TtsProvider
    brain: Brain
    registry: ToolRegistry
    storage: Storage
    signatures: SignatureChecker
    twilio: TwilioRest | None = None
    retriever: Any = None
    transcripts: TranscriptStore | None = None
    records: CallRecords | None = None  # event logs, recordings, retention (engine/records)
    metrics: Metrics = field(default_factory=Metrics)
    knowledge_ready: bool = False
    accepting: bool = True
    streams: set[MediaStream] = field(default_factory=set)
    limits: ServerLimits = field(default_factory=ServerLimits)
    sockets: int = 0  # media sockets open now, started or not
    outbound: Any = None  # OutboundDesk (engine/app/outbound): calls this server places
    worker: Any = None  # this process's WorkerSlot under `serve --workers N` (board.py)
    memory: Any = None  # MemoryRelease (memory_release.py), started with the app
    warm: WarmTransfers = field(default_factory=WarmTransfers)  # callers on hold, humans rung
    routing: Any = None  # Routing (forwarding.py) under `serve --workers N`, else None
    dial_from: str = ""  # DIALFLOW_DIAL_FROM: a number of ours, when the call has none

    @property
    def at_capacity(self) -> bool:
        return self.sockets >= self.limits.max_calls

    async def claim_call_sid(self, call_sid: str) -> str:
        """Record that a stream starts for `call_sid`; a reason (to log) when another stream
        already did: live here, or within the binding's lifetime in any worker or machine
        sharing the database (a replayed `start`; `Storage.claim_stream`)."""
        if any(s.session.call_sid == call_sid for s in self.streams):
            return "another stream already started for this CallSid"
        now = dt.datetime.now(dt.UTC)
        ttl = dt.timedelta(seconds=BINDING_TTL)
        try:
            claimed = await asyncio.to_thread(self.storage.claim_stream, call_sid, now=now,
                                              ttl=ttl)
        except Exception as exc:  # the database is down: refuse rather than admit a replay
            self.metrics.error("storage")
            return f"the stream claim could not be recorded ({type(exc).__name__})"
        if not claimed:
            return "another stream already started for this CallSid"
        if self.outbound is not None and self.routing is not None:
            await self.outbound.adopt_elsewhere(call_sid, self.routing)  # placed by another
        return ""

    def tools_for(self, call_id: str, caller: str) -> CallTools:
        business = self.flows.current().flow.settings.business
        calendar = BusinessCalendar.from_settings(business)
        return CallTools(self.registry, self.storage, calendar, call_id, caller)

    def telephony_for(self, call_sid: str, call_id: str, stream: MediaStream) -> Any:
        if self.twilio is None:
            return NoTelephony(stream)
        base = hooks_base(stream.public_url)
        line = (WarmLine(base, self.warm, stream.caller, stream,
                         from_number=stream.called or self.dial_from) if base else None)
        return TwilioCalls(self.twilio, call_sid, call_id=call_id, warm_line=line)

    def machine_for(self, call_sid: str, default: Any) -> Any:
        """The flow a stream runs: an outbound call's own, else the live one."""
        return default if self.outbound is None else self.outbound.machine_for(call_sid,
                                                                               default)

    def call_started(self, stream: MediaStream) -> None:
        if self.routing is not None:
            self.routing.owners.claim(f"call:{stream.session.call_sid}")
        if self.outbound is not None:
            self.outbound.attach(stream)  # an outbound call's variables, its detection
        self.streams.add(stream)
        self.metrics.calls_total.inc()
        self.metrics.active_calls.set(len(self.streams))

    def call_ended(self, stream: MediaStream) -> None:
        if self.routing is not None and stream.call is not None:
            self.routing.owners.release(f"call:{stream.session.call_sid}")
        if self.outbound is not None:
            self.outbound.ended(stream)
        self.streams.discard(stream)
        self.metrics.active_calls.set(len(self.streams))

    def describe(self) -> dict[str, str]:
        return {"stt": describe(self.stt), "tts": describe(self.tts),
                "brain": describe(self.brain), "telephony": "twilio" if self.twilio else "none"}
