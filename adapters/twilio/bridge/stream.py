"""`MediaStream`: one Twilio Media Streams WebSocket bridged to one `Call`.

Inbound: `start` creates the call (on the flow version current at that moment), `media`
feeds the STT session, `mark` reports playback (the session records the echo in the call's
one ledger, which decides what was heard; the echo of a mark flushed by the barge-in gate's
rewind clear did not play and is dropped, and the sender learns what needs no replay),
`dtmf` and `stop` become events. Bad input — binary frames, malformed JSON, huge numbers,
unknown events, media before start, a second start, bad base64, oversized messages, unknown
marks, anything a handler trips over — is logged with the (escaped) call id and dropped; it
never ends the call or touches another one. A `start` must come within the start deadline
and be bound to the call the signed webhook answered (`adapters/twilio/binding.py`), for a
CallSid no other stream has started; otherwise the socket is closed and no call begins.
A socket that closes at any moment, even mid-send, hangs the call up and always reaches
`call_ended`, so no call outlives its socket — except when a warm transfer moves the caller
into a conference with the human, when the call waits (bounded) for the flow to end it
(`parking.py`). A warm transfer's webhooks that reach another worker are forwarded here
(engine/app/server/transfer_hooks.py); the stream itself never moves.
A valid, in-order `media` message (50 a second per call) takes a short path: the fast
parser's fields (`media_fast.py`), the session's order check, the STT feed, no coroutine;
where the server offers it (engine/app/server/lean_ws.py) that runs as the frame arrives,
with no wake-up of the stream's task. Anything else goes the generic way, which re-parses it
with the same checks and errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocketDisconnect

from adapters.twilio.binding import BindingRejected
from adapters.twilio.bridge.outbound import OutboundAudio
from adapters.twilio.bridge.parking import await_bridge, leaving_for_bridge, release
from adapters.twilio.bridge.socket import MediaSocket
from adapters.twilio.bridge.speaker import TwilioSpeaker
from adapters.twilio.media_fast import media_fields, parse_inbound
from adapters.twilio.messages import Dtmf, Mark, Media, ProtocolError, Start, Stop
from adapters.twilio.session import StreamSession
from adapters.twilio.twiml import CALLED_PARAM, E164
from engine.call import Call
from engine.ports import Ports
from engine.records.recorder import CallRecord
from engine.redaction import escape_id, redact_number
from engine.transcripts import TranscriptBusy
from engine.turns.barge_in import BargeInGate
from engine.turns.current import current_policy

if TYPE_CHECKING:
    from adapters.twilio.bridge.host import StreamHost

log = logging.getLogger("dialflow.stream")
HANGUP_DEADLINE = 10.0
POLICY_VIOLATION = 1008  # WebSocket close code: no (acceptable) start


class MediaStream:
    def __init__(self, ws: MediaSocket, services: StreamHost, public_url: str = ""):
        self.ws = ws
        self.services = services
        self.public_url = public_url  # the wss:// URL Twilio opened (signature-checked)
        self.caller = ""
        self.called = ""
        self.session = StreamSession()
        self.call: Call | None = None
        self.call_id = "-"
        self.outbound: OutboundAudio | None = None
        self.speaker: TwilioSpeaker | None = None  # its hold music stops at a warm outcome
        self.stt: Any = None
        self.record: CallRecord | None = None  # the call's event log (engine/records)
        self._consumer: asyncio.Task[Any] | None = None
        self._refused = False  # the start was not acceptable: the stream is over
        self.barge_in: BargeInGate | None = None  # engine/turns: pause, confirm, resume
        self._limit = services.limits.max_message_bytes

    async def run(self) -> None:
        try:
            await self._serve()
            if leaving_for_bridge(self):  # a warm transfer's human has the caller now
                await await_bridge(self)
        finally:
            await self._teardown()

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        start_by = loop.time() + self.services.limits.start_deadline
        receive, limit = self.ws.receive, self.services.limits.max_message_bytes
        self._limit = limit
        self.ws.inline(self._inline)  # the server's short path, where it offers one
        try:
            while not self._refused and (self.call is None or not self.call.ended):
                if self.call is None:
                    async with asyncio.timeout_at(start_by):
                        data = await receive()
                else:
                    data = await receive()
                    if self._media(data, limit):
                        continue  # the 50-a-second case, done without a coroutine
                if await self._handle(data):
                    break
        except WebSocketDisconnect:
            log.info("call %s: media socket closed", self.call_id)
        except RuntimeError as exc:  # an ASGI message a media socket does not expect
            log.info("call %s: media socket gone: %s", self.call_id, escape_id(str(exc)))
        except TimeoutError:
            self.services.metrics.error("twilio")
            log.warning("call -: no valid 'start' within %ss of the handshake; closing",
                        self.services.limits.start_deadline)
            await self.close(POLICY_VIOLATION)
        finally:
            self.ws.inline(None)

    def _inline(self, data: str) -> bool:
        """`_media` for a text the server hands over as it arrives (lean_ws.py), taken only
        where the receive loop would take it: a call running, the loop waiting in
        `receive`, nothing queued ahead (the server checks that). False: it goes the loop's
        way, in order."""
        call = self.call
        if call is None or call.ended or self._refused or not self.ws.parked:
            return False
        return self._media(data, self._limit)

    def _media(self, data: str | bytes, limit: int) -> bool:
        """A valid media message, in order: feed its audio on and say True, with no
        coroutine and no message object. Anything else says False having done nothing, and
        the generic path (`_handle`) parses it again and takes or refuses it as always."""
        fields = media_fields(data, limit)
        if fields is None or not self.session.media_in_order(fields[0], len(fields[4])):
            return False
        payload = fields[4]
        try:
            if self.stt is not None:
                self.stt.feed(payload)
            record = self.record
            if record is not None and record.audio is not None:
                record.audio.caller(payload)
        except Exception as exc:
            self._dropped(exc)
        return True

    async def _handle(self, data: str | bytes) -> bool:
        """Handle one message; True when the stream is over. Never raises: whatever goes
        wrong with one message is logged and the message dropped."""
        try:
            return await self._dispatch(data)
        except Exception as exc:
            self._dropped(exc)
            return False

    def _dropped(self, exc: Exception) -> None:
        self.services.metrics.error("twilio")
        log.error("call %s: a message could not be handled and was dropped: %s",
                  self.call_id, escape_id(repr(exc), 200))

    async def _dispatch(self, data: str | bytes) -> bool:
        metrics = self.services.metrics
        try:
            if not isinstance(data, str):
                raise ProtocolError(f"binary frame of {len(data)} bytes (Twilio sends text)")
            message = parse_inbound(data, self.services.limits.max_message_bytes)
            observation = self.session.observe(message)
        except ProtocolError as exc:
            metrics.error("twilio")
            log.warning("call %s: bad Twilio message dropped: %s", self.call_id,
                        escape_id(exc.reason, 200))
            return False
        if observation.flagged:
            metrics.error("twilio")
            log.warning("call %s: %s", self.call_id, escape_id(observation.note, 200))
            if isinstance(message, Mark) and "never sent" in observation.note:
                return False
        if isinstance(message, Start):
            return await self._admit(message)
        elif isinstance(message, Media):
            if self.stt is not None:
                self.stt.feed(message.payload)
            if self.record is not None and self.record.audio is not None:
                self.record.audio.caller(message.payload)
        elif isinstance(message, Mark):
            if observation.rewound:  # dropped by a clear whose audio is replayed
                return False
            if self.outbound is not None:
                self.outbound.heard(message.name)
            if self.call is not None:
                self.call.timeline.mark("first_mark")
            self._post("agent.playback_done", speech=message.name)
        elif isinstance(message, Dtmf):
            self._post("caller.dtmf", digit=message.digit)
        elif isinstance(message, Stop):
            if not leaving_for_bridge(self):
                self._post("call.hangup")
            return True
        return False

    async def _admit(self, start: Start) -> bool:
        """Start the call if this `start` is bound to a call the webhook answered and no
        other stream has its CallSid; otherwise close the socket. True when refused."""
        call_id = escape_id(start.call_sid or start.stream_sid, limit=1000)
        caller = start.custom_parameters.get("caller", "")
        try:
            self.services.signatures.check_binding(start.call_sid, caller,
                                                   start.custom_parameters)
            reason = await self.services.claim_call_sid(start.call_sid)
        except BindingRejected as exc:
            reason = exc.reason
        if reason:
            self.services.metrics.error("signature")
            log.warning("call %s: media stream refused: %s", call_id, reason)
            self._refused = True
            await self.close(POLICY_VIOLATION)
            return True
        self._start(start, call_id, caller)
        return False

    def _start(self, start: Start, call_id: str, caller: str) -> None:
        services = self.services
        self.call_id = call_id
        self.caller = caller
        called = start.custom_parameters.get(CALLED_PARAM, "")
        self.called = called if E164.match(called) else ""  # a warm transfer rings from it
        machine = services.flows.current()
        self.outbound = OutboundAudio(self._send, start.stream_sid, on_frame=self._frame_sent,
                                      on_mark=self.session.mark_sent,
                                      on_clear=self.session.clear_sent,
                                      on_rewind=self.session.rewind_sent,
                                      send_now=self._send_now if self.ws.short_path
                                      else None)
        self.outbound.start()
        machine = services.machine_for(start.call_sid, machine)  # an outbound call's flow
        speaker = self.speaker = TwilioSpeaker(services.tts, self.outbound, self.call_id,
                                               on_first_byte=self._tts_first_byte)
        ports = Ports(speaker=speaker, brain=services.brain,
                      tools=services.tools_for(self.call_id, caller),
                      telephony=services.telephony_for(start.call_sid, self.call_id, self),
                      playback=self.session.ledger)
        if services.records is not None:
            try:
                self.record = services.records.open(self.call_id, caller, machine.flow)
            except OSError as exc:  # the caller is served all the same, unrecorded
                services.metrics.error("records")
                log.error("call %s: no event log for this call: %s", self.call_id,
                          escape_id(str(exc), 200))
        self.call = Call(machine, self.record.wrap(ports) if self.record else ports,
                         call_id=self.call_id)
        if self.record is not None:
            self.record.attach(self.call)
        self.call.timeline.sink = services.metrics.stage
        if services.transcripts is not None:
            try:
                self.call.transcript = services.transcripts.open(
                    self.call_id, redact=self.record.redact if self.record else None)
                self.call.transcript.write("start", caller=caller, flow=machine.flow.name)
            except (OSError, TranscriptBusy) as exc:  # the caller is served all the same
                services.metrics.error("transcripts")
                log.error("call %s: no transcript for this call: %s", self.call_id,
                          escape_id(str(exc), 200))
        self.stt = services.stt.open(self.call_id, self._stt_event)
        self._attach_turns()
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

    def _attach_turns(self) -> None:
        """The STT session takes the current state's turn policy, reports voice onsets to
        the barge-in gate and its guesses at pauses to the call's speculator (sessions
        without these hooks just end turns their own way)."""
        call, outbound = self.call, self.outbound
        assert call is not None and outbound is not None
        self.barge_in = BargeInGate(call, outbound)
        if hasattr(self.stt, "turn_policy"):
            self.stt.turn_policy = lambda: current_policy(call)
        if hasattr(self.stt, "on_voice"):
            self.stt.on_voice = self.barge_in.voice
        if hasattr(self.stt, "speculation"):  # guesses at pauses: the reply may start early
            self.stt.speculation = call.speculation

    def _stt_event(self, event: str, /, **data: Any) -> None:
        if self.barge_in is not None and not self.barge_in.admit(event, data):
            return  # held back by the barge-in gate (a false interruption, or not yet)
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

    def _send_now(self, texts: list[str]) -> bool:
        """The paced frames in one write now, if the socket's short path can (recorded as
        `_send` records them); False: nothing sent."""
        if not self.ws.send_texts_now(texts):
            return False
        if self.record is not None and self.record.audio is not None:
            for text in texts:
                self.record.agent_message(text)
        return True

    async def close(self, code: int = 1000) -> None:
        """Hang up from our side (no Twilio REST available): end the media socket."""
        with contextlib.suppress(Exception):
            await self.ws.close(code)

    async def _teardown(self) -> None:
        """Hang the call up and release what it holds. `call_ended` always runs, whatever
        the socket, the providers or the sender did."""
        try:
            if self.call is not None and not self.call.ended:
                self.call.post("call.hangup")
            if self._consumer is not None:
                try:
                    await asyncio.wait_for(asyncio.shield(self._consumer), HANGUP_DEADLINE)
                except TimeoutError:
                    log.error("call %s: did not end within %ss of hang-up", self.call_id,
                              HANGUP_DEADLINE)
                    self._consumer.cancel()
            if self.barge_in is not None:
                self.barge_in.close()
            if self.stt is not None:
                with contextlib.suppress(Exception):
                    await self.stt.close()
            if self.outbound is not None:
                await self.outbound.close()
            if self.call is not None and self.call.transcript is not None:
                self.call.transcript.close()  # idempotent; the call loop may not have run
            if self.record is not None:
                self.record.close(self.call.state if self.call is not None else "-")
        finally:
            await release(self)  # a human still rung for this call stops ringing
            self.services.call_ended(self)
