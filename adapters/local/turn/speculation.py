"""`TurnDecider`: the two-step end of turn for the local STT session, with speculation.

At a `Paused` (a short silence mid-utterance) it starts, at once and side by side, the
transcription of the utterance so far (stt pool) and the Smart Turn model (turn pool), then
decides with `engine.turns.decision`: end the turn now (the session commits the utterance
and emits that very transcript), or wait — the cap (`max_wait_ms` of silence) is set on the
end-pointer, and if the turn ends there the speculative transcript is reused, so nothing is
transcribed twice; while it waits, `on_wait(transcript)` lets the call's reply start on
those words (engine/turns/speculation.py). When the caller speaks again (`Resumed`) the
speculation is dropped: it never reaches the call, and the jobs it queued that have not
started are taken off the pools. Loop-only; touches the worker pools and
the shared turn model.
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
from adapters.local.vad import EndPointer, Paused
from engine.turns.decision import Decision, decide
from flows.turns import TurnPolicy

log = logging.getLogger("dialflow.local.turn")


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

    def paused(self, event: Paused) -> None:
        loop = asyncio.get_running_loop()
        policy = self.policy()
        self._endpointer.end_silence_ms = max(policy.max_wait_ms, policy.pause_ms)
        primed = () if self._prompt is None else (self._prompt,)
        text = loop.run_in_executor(self._executor, transcribe, event.audio, *primed)
        model = turn_model() if policy.model != "off" else None
        job = (workers.turn_executor().submit(model.predict, event.audio)
               if model is not None else None)  # its own future: cancelled at once on drop
        probability = asyncio.wrap_future(job, loop=loop) if job is not None else None
        spec = Speculation(event.pause, time.perf_counter() - policy.pause_ms / 1000, text,
                           model_job=job)
        self.drop()
        self.current = spec
        spec.decided = loop.create_task(self._decide(spec, policy, probability))

    async def _decide(self, spec: Speculation, policy: TurnPolicy,
                      probability: asyncio.Future[float] | None) -> None:
        try:  # shielded: cancelling the decision must not cancel the reusable transcript
            result = await asyncio.shield(spec.text)
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
        log.debug("call %s: pause %d -> %s (%s)", self.call_id, spec.pause,
                  "end" if spec.decision.end_now else "wait", spec.decision.reason)
        if spec.decision.end_now:
            self.current = None
            self._on_commit(spec)
        elif self.on_wait is not None:  # the reply may start on these words meanwhile
            self.on_wait(result)

    def resumed(self) -> None:
        """The caller spoke again: the speculation goes, without a trace."""
        self.drop()

    def take(self) -> Speculation | None:
        """The turn ended at the cap: the speculation of its last pause, if any."""
        spec, self.current = self.current, None
        if spec is not None:
            _stop(spec)
        return spec

    def drop(self) -> None:
        spec, self.current = self.current, None
        if spec is not None:
            _stop(spec)
            spec.text.cancel()


def _stop(spec: Speculation) -> None:
    """No decision is wanted at `spec`'s pause any more: its task goes, and the turn
    model's run too if it has not started (a stale job would hold up other calls')."""
    if spec.decided is not None:
        spec.decided.cancel()
    if spec.model_job is not None:
        spec.model_job.cancel()
