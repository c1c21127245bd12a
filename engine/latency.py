"""`TurnTimeline`: when each stage of a turn happened, from the end of the caller's speech
to the first mark Twilio echoes back — the honest latency of one answer.

Stages, in order: `caller_done` (the caller's speech ended), `final_transcript` (the STT's
end-of-turn result arrived), `retrieval` and `llm_first_token`
(reported by the brain through `Turn.mark`), `first_sentence` (the engine has a sentence to
speak), `tts_first_byte`, `first_frame` (first agent audio frame sent to Twilio) and
`first_mark` (Twilio echoed the first sentence's mark: the caller has heard it). Each turn is
logged with the call id and reported to a sink (the server's metrics). Cheap: a dict write
per stage, nothing per audio frame once the first frame of a turn has been stamped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("dialflow.latency")

STAGES = ("caller_done", "final_transcript", "retrieval", "llm_first_token", "first_sentence",
          "tts_first_byte", "first_frame", "first_mark")
Sink = Callable[[str, float], None]


class TurnTimeline:
    def __init__(self, call_id: str, sink: Sink | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.call_id = call_id
        self.sink = sink
        self.clock = clock
        self.turns = 0
        self._stamps: dict[str, float] = {}
        self.last: dict[str, float] = {}  # the latest finished turn, seconds from caller_done

    def start(self, speech_ended: float | None = None) -> None:
        """The caller's turn ended (its final transcript is here); a new timeline begins at
        `speech_ended` when the STT knows when the speech itself ended."""
        now = self.clock()
        self._stamps = {"caller_done": speech_ended if speech_ended is not None else now,
                        "final_transcript": now}

    def mark(self, stage: str) -> None:
        """Stamp `stage` once per turn (later stamps of the same stage are ignored)."""
        if stage not in STAGES:
            raise ValueError(f"unknown latency stage {stage!r}")
        if not self._stamps or stage in self._stamps:
            return
        if stage == "first_mark" and "first_frame" not in self._stamps:
            return  # a mark of speech queued before this turn's audio
        self._stamps[stage] = self.clock()
        if stage == "first_mark":
            self._finish()

    @property
    def started_at(self) -> float:
        return self._stamps.get("caller_done", 0.0)

    @property
    def waiting_for_frame(self) -> bool:
        return bool(self._stamps) and "first_frame" not in self._stamps

    def _finish(self) -> None:
        start = self._stamps["caller_done"]
        self.last = {s: self._stamps[s] - start for s in STAGES if s in self._stamps}
        self.turns += 1
        if self.sink:
            for stage, seconds in self.last.items():
                if stage != "caller_done":
                    self.sink(stage, seconds)
        log.info("call %s turn %d: %s", self.call_id, self.turns,
                 ", ".join(f"{s} {v * 1000:.0f} ms" for s, v in self.last.items()
                           if s != "caller_done"))
        self._stamps = {}
