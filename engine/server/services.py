"""`Services`: what every call of one server process shares — the live flow, the STT and
TTS providers, the brain, the tool registry and storage, telephony, signatures, metrics —
and the set of active streams. Built once at start-up; calls only borrow from it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from adapters.twilio.rest import TwilioCalls, TwilioRest
from adapters.twilio.signature import SignatureChecker
from engine.media import SttProvider, TtsProvider, describe
from engine.ports import Brain
from engine.records.recorder import CallRecords
from engine.server.flow_source import FlowSource
from engine.server.metrics import Metrics
from engine.tools_port import CallTools
from engine.transcripts import TranscriptStore
from tools.calendar import BusinessCalendar
from tools.registry import ToolRegistry
from tools.storage import Storage

if TYPE_CHECKING:
    from engine.server.stream import MediaStream

log = logging.getLogger("dialflow.server")


class NoTelephony:
    """Telephony when no Twilio credentials are configured (local simulated calls): a
    transfer cannot be placed (the flow takes a message), hang-up closes the media socket."""

    def __init__(self, stream: MediaStream):
        self.stream = stream

    async def transfer(self, number: str) -> None:
        raise ConnectionError("no Twilio credentials are configured, so no transfer")

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

    def tools_for(self, call_id: str, caller: str) -> CallTools:
        business = self.flows.current().flow.settings.raw.get("business") or {}
        calendar = BusinessCalendar.from_settings(business)
        return CallTools(self.registry, self.storage, calendar, call_id, caller)

    def telephony_for(self, call_sid: str, call_id: str, stream: MediaStream) -> Any:
        if self.twilio is None:
            return NoTelephony(stream)
        return TwilioCalls(self.twilio, call_sid, call_id=call_id)

    def call_started(self, stream: MediaStream) -> None:
        self.streams.add(stream)
        self.metrics.calls_total.inc()
        self.metrics.active_calls.set(len(self.streams))

    def call_ended(self, stream: MediaStream) -> None:
        self.streams.discard(stream)
        self.metrics.active_calls.set(len(self.streams))

    def describe(self) -> dict[str, str]:
        return {"stt": describe(self.stt), "tts": describe(self.tts),
                "brain": describe(self.brain), "telephony": "twilio" if self.twilio else "none"}
