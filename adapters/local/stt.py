"""`LocalWhisperStt`: the offline `SttProvider` (silero VAD inline, whisper in a worker).

A session runs the end-pointer on every fed frame, on the event loop (about 0.1 ms per 32 ms
window), and emits `caller.speech_started {duration_ms}` as speech grows. When an utterance
ends its audio goes to the shared stt worker pool; the result comes back to the loop in a
task, which emits `caller.utterance {text, confidence, gap_ms}` - in utterance order, and only ever
on the loop thread; the text has sure sound-alikes of the business's words corrected
(`knowledge.soundalike`) once `prime` gave them. After a pause the audio is held (bounded)
until the end-of-turn decision is known, so the turns depend on the audio, not on how fast
the CPU answered. An utterance that starts within the turn policy's `continue_ms` of the
previous one's end is also heard again together with it (both audios, one whisper job):
`rejoined` and `rejoined_confidence` on the utterance, which the call uses if it joins
the two into one turn (`engine/turns/continuation.py`).
A failure emits `stt.error {error}` once and the session stops.
Touches the event loop, the stt worker pool and the shared models; logs carry the call id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from typing import Any

from adapters.local import models, workers
from adapters.local.embeddings import tokenizer_words
from adapters.local.transcribe import Transcript, transcribe
from adapters.local.turn.speculation import (
    Speculation,
    TurnDecider,
    early_ms,
    warm_turn_model,
)
from adapters.local.vad import (
    WINDOW,
    EndPointer,
    Paused,
    Pausing,
    Resumed,
    SpeechStarted,
    UtteranceEnded,
    VadParams,
    VoiceOnset,
)
from engine.media import Emit
from flows.model import Settings
from flows.turns import TurnPolicy
from knowledge.soundalike import SoundalikeFixer
from knowledge.vocabulary import WEEKDAYS, whisper_prompt

log = logging.getLogger("dialflow.local.stt")

CLOSE_TIMEOUT_S = 10.0  # at hang-up, how long to wait for the last transcriptions
HOLD_LIMIT_BYTES = 8 * 8000  # audio held for a pending decision at most (8 s of 8 kHz mu-law)
REJOIN_LIMIT_BYTES = 24 * 8000  # two utterances heard again as one: at most 24 s together


class LocalWhisperSession:
    """One call's recognition. `feed` and `close` must be called on the event loop."""

    def __init__(self, call_id: str, emit: Emit, params: VadParams, executor: Executor,
                 prompt: str | None = None, fixer: SoundalikeFixer | None = None) -> None:
        self.call_id = call_id
        self._prompt = prompt
        self._fixer = fixer
        self._emit = emit
        self._executor = executor
        self._vad = models.take_vad()
        self._endpointer = EndPointer(self._vad, params)
        if params.pause_ms is not None:
            self._endpointer.early_ms = early_ms(params.pause_ms)
        self._silence_s = params.end_silence_ms / 1000  # without pauses: the end silence
        self._last: asyncio.Task[None] | None = None  # the newest transcription, for ordering
        self._previous_audio = b""  # the last utterance's audio (heard again with the next)
        self._tasks: set[asyncio.Task[None]] = set()
        self._closed = False
        self._failed = False
        self._hold: Speculation | None = None  # the pause whose decision the audio waits for
        self._held = bytearray()
        self._closing = False
        self.turn_policy: Callable[[], TurnPolicy] = TurnPolicy  # the stream sets the state's
        self.on_voice: Callable[[str], None] | None = None  # "onset"/"gone": barge-in pauses
        self.turns = TurnDecider(call_id, self._endpointer, executor, lambda: self.turn_policy(),
                                 self._commit, prompt)
        self.speculation: Any = None  # the call's Speculator: guess(text, confidence), drop()
        self.turns.on_wait = self._guess
        self.turns.on_guess = self._guess  # the words at a pause, before the decision

    def feed(self, ulaw: bytes) -> None:
        if self._closed or self._failed:
            return
        if self._hold is not None:  # the decision at the pause is not known yet
            self._held += ulaw
            if len(self._held) > HOLD_LIMIT_BYTES:  # bounded: the stream goes on undecided
                log.warning("call %s: end-of-turn decision late; audio released",
                            self.call_id)
                self._release(self._hold)
            return
        self._push(ulaw)

    def _push(self, ulaw: bytes) -> None:
        try:
            events = self._endpointer.push(ulaw)
        except Exception as exc:
            self._fail(exc)
            return
        for event in events:
            if isinstance(event, SpeechStarted):
                self._emit("caller.speech_started", duration_ms=event.duration_ms)
            elif isinstance(event, UtteranceEnded):
                spec = self.turns.take()
                if spec is not None and not event.truncated:
                    self._recognise(event, spec.text, spec.paused_at)
                else:
                    self._recognise(event)
            elif isinstance(event, Pausing):
                self.turns.pausing(event)
            elif isinstance(event, Paused):
                self.turns.paused(event)
                self._hold_for(self.turns.current)
            elif isinstance(event, Resumed):
                self.turns.resumed()
                if self.speculation is not None:
                    self.speculation.drop()
            else:
                if isinstance(event, VoiceOnset):  # a new turn takes the state's policy
                    self._take_policy()
                if self.on_voice is not None:
                    self.on_voice("onset" if isinstance(event, VoiceOnset) else "gone")

    def _hold_for(self, spec: Speculation | None) -> None:
        """Hold the audio after a pause until its decision is known, so the decision is made
        on the pause whatever the CPU load: a transcript that came back after the caller had
        already resumed used to be dropped, so a busy machine hid premature ends that a quiet
        one made (and the reverse for the turns that should end). Frames after the pause are
        fed, in order, once the decision has ended the turn (they start the next) or not."""
        if self._closing or spec is None or spec.decided is None or spec.decided.done():
            return
        self._hold = spec
        spec.decided.add_done_callback(lambda _: self._release(spec))

    def _release(self, spec: Speculation) -> None:
        if self._hold is not spec:
            return
        self._hold = None
        held, self._held = bytes(self._held), bytearray()
        for at in range(0, len(held), WINDOW):  # one VAD window at a time: a pause among
            if self._hold is not None:  # them holds the rest again
                self._held += held[at:]
                return
            if self._closed or self._failed:
                return
            self._push(held[at:at + WINDOW])

    def _take_policy(self) -> None:
        policy = self.turn_policy()
        if self._endpointer.params.pause_ms is not None:
            self._endpointer.pause_ms = policy.pause_ms
            self._endpointer.early_ms = early_ms(policy.pause_ms)
        self._endpointer.max_utterance_ms = policy.max_turn_ms

    def _guess(self, result: Transcript) -> None:
        """The caller paused after these words and the turn is not (yet) over: the reply
        may start on them (the same correction as the utterance, so a commit with the same
        words matches)."""
        if self.speculation is not None and not self._closed and not self._failed:
            text = self._fixed(result.text)
            self.speculation.guess(text, result.confidence)

    def _commit(self, spec: Speculation) -> None:
        """The decision at a pause ended the turn: emit the speculative transcript."""
        event = self._endpointer.commit()
        if event is not None and not self._closed and not self._failed:
            self._recognise(event, spec.text, spec.paused_at)

    async def close(self) -> None:
        """Let the decisions the audio waits for finish, transcribe and emit what the caller
        was saying, wait for pending transcriptions (all within `CLOSE_TIMEOUT_S`), then
        cancel whatever is left and release the VAD."""
        if self._closed or self._closing:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLOSE_TIMEOUT_S
        while self._hold is not None and self._hold.decided is not None:
            decided = self._hold.decided  # its done callback releases the held audio first
            if decided.done() or loop.time() >= deadline:
                break
            await asyncio.wait([decided], timeout=deadline - loop.time())
        self._closing = True  # no more holds: what is still held is fed undecided
        if self._hold is not None:
            self._release(self._hold)
        self._closed = True
        if not self._failed:
            spec = self.turns.take()
            event = self._endpointer.flush()
            if event is not None:
                self._recognise(event, *((spec.text, spec.paused_at) if spec else ()))
        pending = list(self._tasks)
        try:
            if pending:
                await asyncio.wait(pending, timeout=max(deadline - loop.time(), 0.5))
        finally:
            for task in pending:
                if not task.done():
                    log.warning("call %s: transcription cancelled at hang-up", self.call_id)
                    task.cancel()
            models.give_back_vad(self._vad)

    def _recognise(self, event: UtteranceEnded, future: asyncio.Future[Transcript] | None = None,
                   ended_at: float | None = None) -> None:
        """Emit the utterance's transcript (`future`: one already started at a pause)."""
        loop = asyncio.get_running_loop()
        if ended_at is None:  # the speech ended before the end-pointing silence found it
            ended_at = time.perf_counter() - self._silence_s
        primed = () if self._prompt is None else (self._prompt,)
        if future is None:
            future = loop.run_in_executor(self._executor, transcribe, event.audio, *primed)
        previous, self._previous_audio = self._previous_audio, event.audio
        rejoined = None  # soon after the last utterance: both heard as one too (a caller
        # going on with their turn is heard better whole: "Yes, please." against "please.")
        within = self.turn_policy().continue_ms  # 0: the call never continues a turn
        if (previous and event.gap_ms is not None and within > 0 and event.gap_ms <= within
                and len(previous) + len(event.audio) <= REJOIN_LIMIT_BYTES):
            rejoined = loop.run_in_executor(self._executor, transcribe,
                                            previous + event.audio, *primed)
        task = loop.create_task(self._deliver(future, self._last, event, ended_at, rejoined))
        self._last = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(
        self,
        future: asyncio.Future[Transcript],
        previous: asyncio.Task[None] | None,
        event: UtteranceEnded,
        ended_at: float,
        rejoined: asyncio.Future[Transcript] | None = None,
    ) -> None:
        try:
            if previous is not None:  # emit utterances in the order they were spoken
                await asyncio.wait([previous])
            result = await future
            whole = await rejoined if rejoined is not None else None
        except asyncio.CancelledError:
            future.cancel()
            if rejoined is not None:
                rejoined.cancel()
            raise
        except Exception as exc:
            self._fail(exc)
            return
        if self._failed:
            return
        text = self._fixed(result.text)
        if text != result.text:
            log.debug("call %s: %r corrected toward the business's words", self.call_id,
                      result.text)
        log.debug(
            "call %s: utterance of %d ms%s -> %r (confidence %.2f)",
            self.call_id,
            event.duration_ms,
            " (truncated)" if event.truncated else "",
            text,
            result.confidence,
        )
        extra: dict[str, Any] = {"truncated": True} if event.truncated else {}  # never stops
        if event.gap_ms is not None:  # silence since the caller's previous utterance
            extra["gap_ms"] = event.gap_ms
        if whole is not None and whole.text:
            extra.update(rejoined=self._fixed(whole.text), rejoined_confidence=whole.confidence)
        self._emit("caller.utterance", text=text, confidence=result.confidence,
                   ended_at=ended_at, **extra)

    def _fixed(self, text: str) -> str:
        return text if self._fixer is None else self._fixer.fix(text)

    def _fail(self, exc: BaseException) -> None:
        if self._failed:
            return
        self._failed = True
        log.error("call %s: speech-to-text failed: %s", self.call_id, exc, exc_info=exc)
        self._emit("stt.error", error=f"{type(exc).__name__}: {exc}")


class LocalWhisperStt:
    """Offline speech-to-text: whisper tiny.en with silero end-pointing, no network."""

    name = "local-whisper"

    @classmethod
    def from_flow(cls, settings: Settings, env: Mapping[str, str], **_: Any) -> LocalWhisperStt:
        """The provider convention (engine.providers): offline, nothing to read."""
        return cls()

    def __init__(self, params: VadParams | None = None, executor: Executor | None = None) -> None:
        self.params = params or VadParams(pause_ms=TurnPolicy().pause_ms, report_onset=True)
        self._executor = executor
        self.prompt: str | None = None  # whisper's initial_prompt, see `prime`
        self.fixer: SoundalikeFixer | None = None  # sure sound-alikes -> the business's words

    @property
    def executor(self) -> Executor:
        return self._executor or workers.stt_executor()

    def open(self, call_id: str, emit: Emit) -> LocalWhisperSession:
        return LocalWhisperSession(call_id, emit, self.params, self.executor, self.prompt,
                                   self.fixer)

    def prime(self, terms: list[str] | tuple[str, ...]) -> None:
        """Prime whisper with the business's own words (`knowledge.vocabulary`) from the next
        call on, and correct sure sound-alikes of them (`knowledge.soundalike`) in what it
        writes; an empty list turns both off."""
        self.prompt = whisper_prompt(terms) if terms else None
        self.fixer = SoundalikeFixer([*WEEKDAYS, *terms], tokenizer_words()) if terms else None

    async def warm(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.executor, models.warm_vad)
        await loop.run_in_executor(self.executor, models.warm_whisper)
        await loop.run_in_executor(workers.turn_executor(), warm_turn_model)
