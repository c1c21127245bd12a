"""`Narrator`: prints a simulated call as it happens, for `dialflow call`.

Each agent sentence is printed when the caller starts hearing it (the simulated caller's
`segments`), and marked `[cut off]` when a barge-in's `clear` stopped it. Its words come from
`AgentWords`: the server's own text in an in-process call (`SpokenLines`), or, for a remote
server whose words reach the caller only as audio, a local whisper transcription of what was
heard (`HeardWords`, printed when the sentence ends, at the time it started; or
`heard_progress.ProgressiveHeardWords`: its start while it plays, then the rest). `Screen` keeps
those lines from breaking the `you> ` prompt of an interactive call. Touches stdout only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import Callable
from typing import Protocol

from adapters.twilio.caller import HeardSegment, SimulatedCaller

TICK = 0.02


class Screen:
    """Timestamped transcript lines on stdout; redraws the prompt if one is showing."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.prompt = ""  # the prompt on screen, waiting for the caller's line

    def show(self, who: str, text: str, note: str = "", at: float | None = None) -> None:
        at = (asyncio.get_running_loop().time() if at is None else at) - self.start
        line = f"{int(at // 60):02d}:{at % 60:04.1f}  {who:<7} {text}{note}"
        if self.prompt:
            line = "\r" + line + "\n" + self.prompt
            sys.stdout.write(line)
        else:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()

    def ask(self, prompt: str) -> None:
        self.prompt = prompt
        sys.stdout.write(prompt)
        sys.stdout.flush()

    def answered(self) -> None:
        self.prompt = ""


class AgentWords(Protocol):
    live: bool  # True: words are known when the sentence starts; False: when it ends

    async def words(self, index: int, segment: HeardSegment) -> str: ...


class SpokenLines:
    """The agent's own text, for in-process calls. With `sounds` (each line's first audio,
    `session.RecordingTts`), a heard segment is the line whose audio it starts with, told
    apart as soon as its first bytes match one text (or when it ends): a line synthesised
    and never heard, or heard twice, does not shift the ones after it. Without, the n-th
    segment is the n-th line."""

    live = True

    def __init__(self, lines: Callable[[], list[str]],
                 sounds: Callable[[], list[bytearray]] | None = None) -> None:
        self.lines = lines
        self.sounds = sounds

    def _matching(self, segment: HeardSegment) -> list[str]:
        assert self.sounds is not None
        heard = bytes(segment.audio)
        texts = []
        for text, sound in zip(self.lines(), self.sounds(), strict=False):
            n = min(len(heard), len(sound))
            if n and heard[:n] == sound[:n]:
                texts.append(text)
        return texts

    def ready(self, segment: HeardSegment) -> bool:
        return self.sounds is None or segment.ended or len(set(self._matching(segment))) <= 1

    async def words(self, index: int, segment: HeardSegment) -> str:
        lines = self.lines()
        if self.sounds is not None and (texts := self._matching(segment)):
            return texts[-1]  # the same start twice: the newer line is the one just sent
        return lines[index] if index < len(lines) else "(agent audio)"


class HeardWords:
    """What the caller heard, transcribed offline by whisper (a remote server's audio)."""

    live = False

    async def words(self, index: int, segment: HeardSegment) -> str:
        from adapters.local.transcribe import transcribe

        heard = await asyncio.to_thread(transcribe, bytes(segment.audio))
        return heard.text.strip() or "(agent audio, no words recognised)"


class Narrator:
    """Watches the caller's heard segments and prints each agent sentence."""

    def __init__(self, caller: SimulatedCaller, screen: Screen, words: AgentWords,
                 note: Callable[[], str] = lambda: "") -> None:
        self.caller = caller
        self.screen = screen
        self.words = words
        self.note = note  # asked once per sentence as it starts (the turn latency)
        self._task: asyncio.Task[None] | None = None
        self._printed = 0  # segments whose words were printed
        self._finished = 0  # segments whose end was handled
        self._lock = asyncio.Lock()  # the loop and `stop`/`settle` never print one line twice

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Print what is left (the last sentence may still be transcribing), then stop."""
        await self.catch_up(final=True)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def settle(self, timeout: float = 30.0) -> None:
        """Wait until every sentence that ended is printed (a transcription may take a few
        seconds), so the caller's next line is shown after the agent's."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while any(s.ended and s.audio for s in self.caller.segments[self._printed:]):
                    await self.catch_up(tails=False)  # a line's rest may follow the caller's
                    await asyncio.sleep(TICK)

    async def _run(self) -> None:
        while True:
            await self.catch_up()
            await asyncio.sleep(TICK)

    async def catch_up(self, final: bool = False, tails: bool = True) -> None:
        async with self._lock:
            await self._catch_up(final, tails)

    async def _catch_up(self, final: bool, tails: bool) -> None:
        segments = self.caller.segments
        while self._printed < len(segments):
            segment = segments[self._printed]
            ready = getattr(self.words, "ready", lambda _: self.words.live)
            if not segment.audio or not (ready(segment) or segment.ended or final):
                return
            note = self.note()
            text = await self.words.words(self._printed, segment)
            self._printed += 1
            self.screen.show("AGENT", text, note, at=segment.started_at)
        for segment in segments[self._finished:self._printed]:
            if not segment.ended:
                more = getattr(self.words, "more", None)  # a long line, while it plays
                if more is not None and tails and (text := await more(self._finished, segment)):
                    self.screen.show("AGENT", text, at=segment.started_at)
                break
            rest = getattr(self.words, "rest", None)  # the end of a line shown at its start
            if rest is not None and not tails:
                break
            self._finished += 1
            if rest is not None and (text := await rest(self._finished - 1, segment)):
                self.screen.show("AGENT", text, at=segment.started_at)
            if segment.cut_off:
                self.screen.show("", "[cut off: the caller spoke over it]")


class NoteHandler(logging.Handler):
    """Shows a logger's informational lines in the transcript (e.g. "no human to transfer
    to in a local call"), so what the server did between the spoken lines is visible."""

    def __init__(self, screen: Screen) -> None:
        super().__init__(logging.INFO)
        self.screen = screen

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        _, _, text = message.partition(": ")  # drop the "call CA…" prefix
        who = "NOTE" if record.levelno <= logging.INFO else record.levelname
        with contextlib.suppress(RuntimeError):  # no running loop: nothing to show it on
            self.screen.show(who, text or message)
