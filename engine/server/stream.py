"""`MediaStream`: one Twilio Media Streams WebSocket bridged to one `Call`.

Inbound: `start` creates the call (on the flow version current at that moment), `media`
feeds the STT session, `mark` reports playback (the call's ledger decides what was heard),
`dtmf` and `stop` become events. Bad input — malformed JSON, unknown events, media before
start, a second start, bad base64, oversized messages, unknown marks — is logged with the
call id and dropped; it never ends the call or touches another one. A socket that closes
mid-sentence hangs the call up cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from adapters.twilio.messages import Dtmf, Mark, Media, ProtocolError, Start, Stop, parse_inbound
from adapters.twilio.redact import redact_number
from adapters.twilio.session import StreamSession
from engine.call import Call
from engine.ports import Ports
from engine.records.recorder import CallRecord
from engine.server.outbound import OutboundAudio
from engine.server.speaker import TwilioSpeaker

if TYPE_CHECKING:
    from engine.server.services import Services

log = logging.getLogger("dialflow.stream")
HANGUP_DEADLINE = 10.0


class MediaStream:
    def __init__(self, ws: WebSocket, services: Services):
        self.ws = ws
        self.services = services
        self.session = StreamSession()
        self.call: Call | None = None
        self.call_id = "-"
        self.outbound: OutboundAudio | None = None
        self.stt: Any = None
        self.record: CallRecord | None = None  # the call's event log (engine/records)
        self._consumer: asyncio.Task[Any] | None = None

    async def run(self) -> None:
        try:
            while self.call is None or not self.call.ended:
                text = await self.ws.receive_text()
                if await self._handle(text):
                    break
        except WebSocketDisconnect:
            log.info("call %s: media socket closed", self.call_id)
        except RuntimeError as exc:  # starlette: receive after disconnect
            log.info("call %s: media socket gone: %s", self.call_id, exc)
        finally:
            await self._teardown()

    async def _handle(self, text: str) -> bool:
        """Handle one message; True when the stream is over."""
        metrics = self.services.metrics
        try:
            message = parse_inbound(text)
            observation = self.session.observe(message)
        except ProtocolError as exc:
            metrics.error("twilio")
            log.warning("call %s: bad Twilio message dropped: %s", self.call_id, exc)
            return False
        if observation.flagged:
            metrics.error("twilio")
            log.warning("call %s: %s", self.call_id, observation.note)
            if isinstance(message, Mark) and "never sent" in observation.note:
                return False
        if isinstance(message, Start):
            self._start(message)
        elif isinstance(message, Media):
            if self.stt is not None:
                self.stt.feed(message.payload)
            if self.record is not None and self.record.audio is not None:
                self.record.audio.caller(message.payload)
        elif isinstance(message, Mark):
            if self.call is not None:
                self.call.timeline.mark("first_mark")
            self._post("agent.playback_done", speech=message.name)
        elif isinstance(message, Dtmf):
            self._post("caller.dtmf", digit=message.digit)
        elif isinstance(message, Stop):
            self._post("call.hangup")
            return True
        return False

    def _start(self, start: Start) -> None:
        services = self.services
        params = dict(start.custom_parameters)
        caller = params.get("caller", "")
        self.call_id = start.call_sid or start.stream_sid
        machine = services.flows.current()
        self.outbound = OutboundAudio(self._send, start.stream_sid, on_frame=self._frame_sent,
                                      on_mark=self.session.mark_sent,
                                      on_clear=self.session.clear_sent)
        self.outbound.start()
        speaker = TwilioSpeaker(services.tts, self.outbound, self.call_id,
                                on_first_byte=self._tts_first_byte)
        ports = Ports(speaker=speaker, brain=services.brain,
                      tools=services.tools_for(self.call_id, caller),
                      telephony=services.telephony_for(start.call_sid, self.call_id, self))
        if services.records is not None:
            self.record = services.records.open(self.call_id, caller, machine.flow)
        self.call = Call(machine, self.record.wrap(ports) if self.record else ports,
                         call_id=self.call_id)
        if self.record is not None:
            self.record.attach(self.call)
        self.call.timeline.sink = services.metrics.stage
        if services.transcripts is not None:
            self.call.transcript = services.transcripts.open(
                self.call_id, redact=self.record.redact if self.record else None)
            self.call.transcript.write("start", caller=caller, flow=machine.flow.name)
        self.stt = services.stt.open(self.call_id, self._stt_event)
        self._consumer = asyncio.get_running_loop().create_task(self._run_call(),
                                                                 name=f"{self.call_id}:call")
        services.call_started(self)
        log.info("call %s: started from %s on flow %s", self.call_id, redact_number(caller),
                 machine.flow.name)
        self._post("call.started", caller=caller, call_sid=start.call_sid)

    async def _run_call(self) -> None:
        assert self.call is not None
        try:
            trace = await self.call.run()
            for entry in trace.entries:
                if entry.handled:
                    self.services.metrics.transition(entry.after)
        except Exception:
            self.services.metrics.error("engine")
            log.exception("call %s: the call loop failed", self.call_id)

    def _stt_event(self, event: str, /, **data: Any) -> None:
        if event == "caller.utterance" and self.call is not None:
            self.call.timeline.start(data.get("ended_at"))
        elif event == "stt.error":
            self.services.metrics.error("stt")
        self._post(event, **data)

    def _frame_sent(self) -> None:
        timeline = self.call.timeline if self.call is not None else None
        if timeline is not None and timeline.waiting_for_frame:
            timeline.mark("first_frame")
            self.services.metrics.turn_latency(timeline.clock() - timeline.started_at)

    def _tts_first_byte(self, seconds: float) -> None:
        self.services.metrics.ttfb("tts", seconds)
        if self.call is not None:
            self.call.timeline.mark("tts_first_byte")

    def _post(self, event: str, **data: Any) -> None:
        if self.call is not None:
            self.call.post(event, **data)

    async def _send(self, text: str) -> None:
        if self.record is not None and self.record.audio is not None:
            self.record.agent_message(text)
        await self.ws.send_text(text)  # OutboundAudio sends one message at a time

    async def close(self) -> None:
        """Hang up from our side (no Twilio REST available): end the media socket."""
        with contextlib.suppress(Exception):
            await self.ws.close()

    async def _teardown(self) -> None:
        if self.call is not None and not self.call.ended:
            self.call.post("call.hangup")
        if self._consumer is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._consumer), HANGUP_DEADLINE)
            except TimeoutError:
                log.error("call %s: did not end within %ss of hang-up", self.call_id,
                          HANGUP_DEADLINE)
                self._consumer.cancel()
        if self.stt is not None:
            with contextlib.suppress(Exception):
                await self.stt.close()
        if self.outbound is not None:
            await self.outbound.close()
        if self.record is not None:
            self.record.close(self.call.state if self.call is not None else "-")
        self.services.call_ended(self)
