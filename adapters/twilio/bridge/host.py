"""`StreamHost`: what the media-stream bridge needs from the server that runs it.

The bridge (`stream.py`) is handed a host by the composition root (`engine/app/server/`,
whose `Services` satisfies this protocol); it never imports the root, so the arrow points
one way: the root knows the bridge, the bridge knows only this shape, the core's ports and
its events. Imports nothing at run time, and not the bridge (a stream is passed as `Any`), so no
cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from adapters.twilio.signature import SignatureChecker
    from engine.media import SttProvider, TtsProvider
    from engine.ports import Brain


class StreamHost(Protocol):
    """Shared by every stream of one server process; each stream only borrows from it."""

    flows: Any  # .current() -> the live FlowMachine
    stt: SttProvider
    tts: TtsProvider
    brain: Brain
    signatures: SignatureChecker
    records: Any  # CallRecords | None: .open(call_id, caller, flow) -> CallRecord
    transcripts: Any  # TranscriptStore | None
    metrics: Any  # .error(component), .stage, .turn_latency, .ttfb, .transition
    limits: Any  # .start_deadline, .max_message_bytes
    warm: Any  # WarmTransfers | None (adapters/twilio/warm.py): callers on hold

    def claim_call_sid(self, call_sid: str) -> str:
        """'' when this CallSid may start a stream, else the reason (to log) it may not."""

    def tools_for(self, call_id: str, caller: str) -> Any:
        """The call's `Tools` port."""

    def telephony_for(self, call_sid: str, call_id: str, stream: Any) -> Any:
        """The call's `Telephony` port (transfer, hang-up)."""

    def machine_for(self, call_sid: str, default: Any) -> Any:
        """The FlowMachine this CallSid's stream runs (an outbound call's, or `default`)."""

    def call_started(self, stream: Any) -> None:
        """The stream's call began."""

    def call_ended(self, stream: Any) -> None:
        """The stream is over (always called, whatever happened)."""
