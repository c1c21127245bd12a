"""`TurnDecider`: the two-step end of turn for the local STT session, with speculation.

At a `Paused` (a short silence mid-utterance) it starts, at once and side by side, the
transcription of the utterance so far (stt pool) and the Smart Turn model (turn pool), then
decides with `engine.turns.decision`: end the turn now (the session commits the utterance
and emits that very transcript), or wait — the cap (`max_wait_ms` of silence) is set on the
end-pointer, and if the turn ends there the speculative transcript is reused, so nothing is
transcribed twice; while it waits, `on_wait(transcript)` lets the call's reply start on
those words (engine/turns/speculation.py). When the caller speaks again (`Resumed`) the
speculation is dropped: it never reaches the call, and the jobs it queued that have not
started are taken off the pools.
Speculative transcription: `early_ms` of silence into a pause (`Pausing`, well before the
`pause_ms` decision point) the transcription of the words so far starts already, if the
stt pool is idle and whisper runs fast enough (`EARLY_RUN_LIMIT_S`) for a start that the
caller's next word makes stale to be done before their real pause; the
`Paused` of the same silence takes it over (it transcribes the same audio, `Paused.words`,
when no early start ran, so turns never depend on the load). A caller who speaks again
cancels it: a job not started never runs, and since one starts only on an idle pool, it
never sits in the queue ahead of a real one (one already running keeps the pool busy, so
no second early job starts behind it). As soon as a pause's
transcript is there and the decision is not, `on_guess(transcript)` lets the call's reply
start on it (engine/turns/speculation.py: nothing is played before the commit).
Loop-only; touches the worker pools and the shared turn model.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from adapters.local import workers
from adapters.local.transcribe import Transcript, transcribe
from adapters.local.turn import smart_turn
from adapters.local.vad import WINDOW_MS, EndPointer, Paused, Pausing
from engine.turns.decision import Decision, decide
from flows.turns import TurnPolicy

log = logging.getLogger("dialflow.local.turn")
EARLY_MS = 32  # silence after which a pause's transcription may start (one VAD window)
# No early start while whisper runs slower than this (a loaded machine): a start that a
# comma makes stale would still be running when the caller's real pause came (a comma, a
# word or two and the 0.2 s pause take about this long), and the real job would wait.
EARLY_RUN_LIMIT_S = 0.6
_runs = {"typical_s": 0.0}  # a moving average of a pause's whisper run, all calls


def _timed(audio: bytes, *primed: str) -> Transcript:
    """`transcribe`, its run time folded into the moving average (in the worker)."""
    began = time.perf_counter()
    try:
        return transcribe(audio, *primed)
    finally:
        _runs["typical_s"] += 0.3 * (time.perf_counter() - began - _runs["typical_s"])


def early_ms(pause_ms: int) -> int | None:
    """The silence that starts a speculative transcription (None: the pause is too short
    for an early start to be worth it)."""
    return EARLY_MS if pause_ms - WINDOW_MS >= EARLY_MS else None


@dataclass
class Early:
    """A transcription started `early_ms` into a silence, before its pause was reached."""

    pause: int
    job: Future[Transcript]  # in the stt pool: cancelled there if it has not started
    text: asyncio.Future[Transcript]
    asked_at: float


@dataclass
class Speculation:
    """What was started at one pause."""

    pause: int
    paused_at: float  # perf_counter when the caller's speech stopped
    text: asyncio.Future[Transcript]
    decided: asyncio.Task[None] | None = None
    model_job: Future[float] | None = None  # the turn model's run in its pool, if any
    decision: Decision | None = None
    probability: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    job: Future[Transcript] | None = None  # the transcription's run in the stt pool
    asked_at: float = 0.0  # perf_counter when the transcription was queued
    early: bool = False  # ... at a `Pausing`, before the pause
    ready_at: float | None = None  # perf_counter when the transcript came back


_model_state: dict[str, Any] = {}


def turn_model() -> smart_turn.SmartTurn | None:
    """The shared Smart Turn model, or None (logged once) when it is not installed."""
    if "model" not in _model_state:
        try:
            _model_state["model"] = smart_turn.shared()
        except smart_turn.TurnModelMissing as exc:
            log.warning("end of turn from the transcript only: %s", exc)
            _model_state["model"] = None
    return _model_state["model"]


def warm_turn_model() -> None:
    """Load the model and run it once (blocking: run it in the turn pool)."""
    model = turn_model()
    if model is not None:
        model.predict(b"\xff" * 1600)


class TurnDecider:
    """One call's pauses. `on_commit(speculation)` ends the turn with its transcript."""

    def __init__(self, call_id: str, endpointer: EndPointer, executor: Executor,
                 policy: Callable[[], TurnPolicy], on_commit: Callable[[Speculation], None],
                 prompt: str | None = None) -> None:
        self.call_id = call_id
        self._endpointer = endpointer
        self._executor = executor
        self.policy = policy
        self._on_commit = on_commit
        self._prompt = prompt
        self.current: Speculation | None = None
        self.decisions: list[Decision] = []  # for the bench and tests
        self.on_wait: Callable[[Transcript], None] | None = None  # the turn waits for more
        self.on_guess: Callable[[Transcript], None] | None = None  # words, turn undecided
        self._early: Early | None = None
        self._guessed: Transcript | None = None  # the words last offered to the reply

    # -- the transcription ----------------------------------------------------------------
    def _transcribe(self, audio: bytes) -> tuple[Future[Transcript], asyncio.Future[Transcript]]:
        primed = () if self._prompt is None else (self._prompt,)
        job = self._executor.submit(_timed, audio, *primed)
        return job, asyncio.wrap_future(job, loop=asyncio.get_running_loop())

    @staticmethod
    def _forget(job: Future[Transcript] | None, text: asyncio.Future[Transcript]) -> None:
        """A transcription nobody wants: taken off the pool if it has not started."""
        if job is not None:
            job.cancel()
        text.cancel()

    def pausing(self, event: Pausing) -> None:
        """A pause may be coming: transcribe the words so far now, if whisper is idle (so
        a speculative job never queues ahead of anyone's real one, and at most one runs)."""
        self._drop_early()
        if getattr(self._executor, "busy", True):  # a pool that cannot say: never early
            return
        if _runs["typical_s"] > EARLY_RUN_LIMIT_S:  # a stale start would hold the real one
            return
        job, text = self._transcribe(event.audio)
        early = Early(event.pause, job, text, time.perf_counter())
        self._early = early
        text.add_done_callback(lambda _: self._early_done(early))

    def _early_done(self, early: Early) -> None:
        """The early words are there: the reply may start on them while the silence lasts."""
        spec = self.current
        undecided = (self._early is early
                     or (spec is not None and spec.text is early.text and spec.decision is None))
        if not undecided or early.text.cancelled() or early.text.exception() is not None:
            return
        self._offer(early.text.result(), self.on_guess)

    def _offer(self, result: Transcript, to: Callable[[Transcript], None] | None) -> None:
        """Hand `result` to the reply once (an early guess is not repeated at the wait)."""
        if to is not None and result is not self._guessed:
            self._guessed = result
            to(result)

    def _drop_early(self) -> None:
        early, self._early = self._early, None
        if early is not None:
            self._forget(early.job, early.text)

    # -- the pause and its decision -------------------------------------------------------
    def paused(self, event: Paused) -> None:
        loop = asyncio.get_running_loop()
        policy = self.policy()
        self._endpointer.end_silence_ms = max(policy.max_wait_ms, policy.pause_ms)
        early, self._early = self._early, None
        if early is not None and early.pause == event.pause and not early.text.cancelled():
            job, text, asked_at = early.job, early.text, early.asked_at  # the same audio
        else:
            if early is not None:
                self._forget(early.job, early.text)
            job, text = self._transcribe(event.words)
            asked_at = time.perf_counter()
        model = turn_model() if policy.model != "off" else None
        model_job = (workers.turn_executor().submit(model.predict, event.audio)
                     if model is not None else None)  # its own future: cancelled on drop
        probability = (asyncio.wrap_future(model_job, loop=loop)
                       if model_job is not None else None)
        spec = Speculation(event.pause, time.perf_counter() - policy.pause_ms / 1000, text,
                           model_job=model_job, job=job, asked_at=asked_at,
                           early=early is not None and text is early.text)
        self.drop()
        self.current = spec
        spec.decided = loop.create_task(self._decide(spec, policy, probability))

    async def _decide(self, spec: Speculation, policy: TurnPolicy,
                      probability: asyncio.Future[float] | None) -> None:
        try:  # shielded: cancelling the decision must not cancel the reusable transcript
            result = await asyncio.shield(spec.text)
            spec.ready_at = time.perf_counter()
            if probability is not None and not probability.done():
                self._offer(result, self.on_guess)  # the reply may start while it decides
            spec.probability = await probability if probability is not None else None
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the session's own transcription will report it
            log.warning("call %s: end-of-turn decision failed: %s", self.call_id, exc)
            return
        if self.current is not spec:
            return  # the caller went on speaking, or the turn already ended
        spec.decision = decide(policy, result.text, spec.probability)
        self.decisions.append(spec.decision)
        self._report(spec)
        if spec.decision.end_now:
            self.current = None
            self._on_commit(spec)
        else:  # the reply may start on these words meanwhile
            self._offer(result, self.on_wait)

    def _report(self, spec: Speculation) -> None:
        """The pause's timeline (seconds from the end of the speech), for logs and the bench."""
        assert spec.decision is not None
        origin = spec.paused_at
        timing = {"call_id": self.call_id, "pause": spec.pause, "early": spec.early,
                  "speech_end": origin,
                  "asked": spec.asked_at - origin,
                  "ready": (spec.ready_at or origin) - origin,
                  "decided": time.perf_counter() - origin, "end_now": spec.decision.end_now}
        log.debug("call %s: pause %d -> %s (%s); transcription asked %+.3f s%s, ready "
                  "%+.3f s, decided %+.3f s", self.call_id, spec.pause,
                  "end" if spec.decision.end_now else "wait", spec.decision.reason,
                  timing["asked"], " (early)" if spec.early else "", timing["ready"],
                  timing["decided"], extra={"turn_timing": timing})

    def resumed(self) -> None:
        """The caller spoke again: the speculation goes, without a trace."""
        self.drop()
        self._drop_early()
        self._guessed = None

    def take(self) -> Speculation | None:
        """The turn ended at the cap: the speculation of its last pause, if any."""
        self._drop_early()
        spec, self.current = self.current, None
        if spec is not None:
            _stop(spec)
        return spec

    def drop(self) -> None:
        spec, self.current = self.current, None
        if spec is not None:
            _stop(spec)
            self._forget(spec.job, spec.text)


def _stop(spec: Speculation) -> None:
    """No decision is wanted at `spec`'s pause any more: its task goes, and the turn
    model's run too if it has not started (a stale job would hold up other calls')."""
    if spec.decided is not None:
        spec.decided.cancel()
    if spec.model_job is not None:
        spec.model_job.cancel()
