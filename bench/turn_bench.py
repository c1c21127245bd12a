"""Turn-taking of the offline stack on this machine: turn latency, barge-in reaction, false
interruptions and premature ends of turn.

    python -m bench.turn_bench [--calls 1,10] [--only endpoint,latency,eot,barge,speculate]
                               [--only split]   (bench/turn_split.py: turns a breath splits)

* endpoint — finished turns fed in real time to the local STT session: from the end of the
  caller's sound to `caller.utterance` (end-of-turn wait + transcription), the part of the
  turn latency that turn-taking owns.
* latency — whole calls through the real Twilio protocol (server on 127.0.0.1, simulated
  caller speaking piper audio in real time), whisper tiny.en, piper, silero, the rules brain
  held back 200 ms before its first sentence (standing in for an LLM's first token). From
  the end of the caller's speech (the server's VAD) to the first agent frame sent and to
  the first mark back, p50/p95, at each concurrency in --calls; then, per turn, when
  whisper was asked (early or at the pause), the transcript, the commit, how far ahead the
  reply was started, the first sentence and the first frame (bench/turn_overlap.py).
* eot — utterances with pauses inside (a phone number read in groups, "I'd like to book...
  a cleaning", a spelled name), fed in real time to the local STT session; premature =
  the turn ended inside the utterance (more than one `caller.utterance`).
* barge — sounds the caller makes while the agent speaks, fed in real time to the STT
  session and the barge-in gate (what the media stream wires): real interruptions (time
  from the onset to the agent's audio held, to Twilio's `clear` — sent by the gate once the
  sound lasts like speech, or by the flow's barge-in — and to the interruption reaching the
  flow) and non-words (backchannels "mm-hm", "uh-huh", "okay" by piper, coughs, clicks,
  line noise at 20 dB SNR): false = the flow was interrupted; resumed = paused then resumed
  (after a clear: the unheard sentence is replayed).
  On a checkout without the gate, the flow's `long_enough` rule (300 ms) decides alone.
* speculate — whole calls as in latency, one at a time, on lines whose turn waits for more
  after the pause (a trailing "and", a number in groups), with the flow's
  `turn.speculate` on and off: end of speech -> first agent frame (bench/turn_speculation.py).
Runs on any checkout (it imports what exists), so old and new figures come from one file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.audio.mulaw import lin2ulaw, ulaw2lin  # noqa: E402
from adapters.local.stt import LocalWhisperStt  # noqa: E402
from adapters.local.tts import LocalPiperTts  # noqa: E402
from engine.audio_format import SILENCE, frames  # noqa: E402

BRAIN_DELAY_S = 0.2
FRAME_S = 0.02


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"p50 {pct(values, .5) * 1000:5.0f} ms  p95 {pct(values, .95) * 1000:5.0f} ms  " \
           f"(n={len(values)})"


async def speak(tts: LocalPiperTts, text: str) -> bytes:
    return b"".join([chunk async for chunk in tts.synthesize(text)])


def silence(ms_: int) -> bytes:
    return bytes([SILENCE]) * (8 * ms_)


# -- latency: whole calls -------------------------------------------------------------------
class DelayedBrain:
    """The rules brain, its first output held back like an LLM's first token."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "brain")

    async def respond(self, turn: Any):  # type: ignore[no-untyped-def]
        first = True
        async for item in self.inner.respond(turn):
            if first:
                await asyncio.sleep(BRAIN_DELAY_S)
                turn.mark("llm_first_token")
                first = False
            yield item

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class SpokenLines:
    """The callers' voice with each line rendered once: the voice is steady (the same text
    gives the same audio), and ten callers re-rendering the same three lines on the server's
    two cores measured piper's load on the bench, not the server's turn-taking."""

    def __init__(self, voice: LocalPiperTts) -> None:
        self.voice = voice
        self.audio: dict[str, bytes] = {}

    async def render(self, texts: list[str]) -> None:
        for text in texts:
            if text not in self.audio:
                self.audio[text] = await speak(self.voice, text)

    async def synthesize(self, text: str, call_id: str = "-"):  # type: ignore[no-untyped-def]
        await self.render([text])
        yield self.audio[text]


async def latency(calls: int, jobs: Any = None, flow: Path | None = None,
                  lines: list[str] | None = None,
                  cpu: list[float] | None = None,
                  threads: list[dict[str, float]] | None = None) -> dict[str, list[float]]:
    """Whole calls; `cpu` gets the process's CPU seconds over the calls (server, callers),
    `threads` the CPU seconds by thread group (bench.thread_cpu)."""
    from adapters.twilio.caller import SimulatedCaller
    from bench.local_server import LocalServer, offline_env, record_stages
    from bench.thread_cpu import ThreadCpu, claim
    from engine.app.callsim.session import CallSimulation, Line, place_call
    from engine.app.commands.call import DEFAULT_LINES
    from engine.app.server.bootstrap import build_services
    from tools.storage import Storage

    tmp = Path(tempfile.mkdtemp())
    env, token = offline_env(os.environ, tmp)
    services = build_services(flow or ROOT / "flows.yaml", env=env,
                              storage=Storage(f"sqlite:///{tmp / 'bench.db'}"))
    services.brain = DelayedBrain(services.brain)
    stages = record_stages(services)
    # the callers' voice has its own worker: sharing the server's tts queue made the agent's
    # first clause wait behind the callers' lines (an artefact of running both in one process)
    voice = SpokenLines(LocalPiperTts(steady=True,
                                      executor=ThreadPoolExecutor(1, "bench-caller-tts")))
    said = list(lines or DEFAULT_LINES[:3])
    await voice.render(said)

    async def one(base: str, index: int) -> None:
        await asyncio.sleep(index * 0.37)  # callers do not all start on the same frame
        call_sid = f"CA{index:04d}{secrets.token_hex(4)}"
        stream_url, params = await place_call(base, token, "+15550001111", call_sid)
        async with SimulatedCaller(stream_url, auth_token=token, call_sid=call_sid,
                                   custom_parameters=params) as caller:
            sim = CallSimulation(caller, voice)
            await sim.greeting()
            for text in said:
                if caller.closed:
                    break
                await sim.play(Line("say", text))

    async with LocalServer(services) as server:
        claim("embeddings, etc. (native threads)")  # loaded by the server's warm-up
        if jobs is not None:
            jobs.clear()  # the start-up warm-up (prompt cache) is not a turn's work
        began = os.times()
        by_thread = ThreadCpu()
        await asyncio.gather(*(one(server.base, i) for i in range(calls)))
        await asyncio.sleep(0.5)
        ended = os.times()
        if threads is not None:
            threads.append(by_thread.since())
        if cpu is not None:
            cpu.append(ended.user + ended.system - began.user - began.system)
    return stages


# -- end of turn: utterances with pauses inside -----------------------------------------------
MID_PAUSE = [
    ("phone number in groups", ["My number is five five five", "one two three",
                                "four five six seven."]),
    ("book... a cleaning", ["I'd like to book", "a cleaning next week."]),
    ("spelled name", ["My last name is Smith,", "S,", "M,", "I,", "T,", "H."]),
    ("date of birth", ["My date of birth is", "March third,", "nineteen eighty four."]),
    ("cancel... and", ["I need to cancel my appointment and", "book a new one."]),
]
GAPS_MS = (500, 700, 900)


class Recorder(list):  # type: ignore[type-arg]
    def __call__(self, name: str, **fields: Any) -> None:
        self.append((time.perf_counter(), name, fields))


async def paced(session: Any, audio: bytes, hook: Any = None) -> None:
    """Feed 20 ms frames at the real-time pace."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i, frame in enumerate(frames(audio)):
        if hook is not None:
            hook(i)
        session.feed(frame)
        delay = start + (i + 1) * FRAME_S - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)


async def end_of_turn(tts: LocalPiperTts) -> tuple[int, int, list[str]]:
    premature, total, notes = 0, 0, []
    stt = LocalWhisperStt()
    for name, pieces in MID_PAUSE:
        spoken = [await speak(tts, p) for p in pieces]
        for gap in GAPS_MS:
            audio = silence(300) + silence(gap).join(spoken) + silence(2500)
            emitted = Recorder()
            session = stt.open(f"eot-{total}", emitted)
            await paced(session, audio)
            await session.close()
            turns = [f["text"] for _, n, f in emitted if n == "caller.utterance"]
            total += 1
            if len(turns) > 1:
                premature += 1
                notes.append(f"{name} @{gap} ms -> {turns}")
    return premature, total, notes


FINISHED = ["Are you open on Saturday?", "Hi, what time do you close on Thursday?",
            "I'd like to book a cleaning next week.", "Yes, please.",
            "Can I speak to someone about my bill?"]


async def end_to_transcript(tts: LocalPiperTts, rounds: int = 2) -> list[float]:
    """Finished turns fed in real time: end of the caller's sound -> `caller.utterance`."""
    stt = LocalWhisperStt()
    spoken = [await speak(tts, t) for t in FINISHED]
    delays: list[float] = []
    for index in range(rounds * len(spoken)):
        audio = spoken[index % len(spoken)]
        emitted = Recorder()
        session = stt.open(f"end-{index}", emitted)
        lead = silence(300)
        end_frame = (len(lead) + len(audio) - sound_onset(audio[::-1])) // 160
        ended: list[float] = []

        def at_end(i: int, n: int = end_frame, ended: list[float] = ended) -> None:
            if i == n:
                ended.append(time.perf_counter())

        await paced(session, lead + audio + silence(2500), hook=at_end)
        await session.close()
        done = [t for t, n, _ in emitted if n == "caller.utterance"]
        if done and ended:
            delays.append(done[0] - ended[0])
    return delays


# -- barge-in: sounds over the agent ----------------------------------------------------------
def cough(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    n = 8 * 220
    env = np.exp(-np.arange(n) / (8 * 60)) * np.minimum(1, np.arange(n) / 40)
    burst = np.convolve(rng.normal(0, 9000, n), np.ones(6) / 6, mode="same") * env
    return lin2ulaw(np.clip(burst, -32768, 32767).astype(np.int16))


def clicks() -> bytes:
    one = np.where(np.arange(80) < 40, 28000, -28000).astype(np.int16)
    return lin2ulaw(np.concatenate([one, np.zeros(8 * 150, np.int16), one]))


def line_noise(reference: bytes, ms_: int = 1500, snr_db: float = 20.0) -> bytes:
    rms = float(np.sqrt(np.mean(ulaw2lin(reference).astype(np.float64) ** 2)))
    noise = np.random.default_rng(7).normal(0, rms / 10 ** (snr_db / 20), 8 * ms_)
    return lin2ulaw(np.clip(noise, -32768, 32767).astype(np.int16))


def sound_onset(audio: bytes) -> int:
    """Samples before the sound really starts (piper pads its speech with a little silence)."""
    pcm = ulaw2lin(audio).astype(np.float64)
    for at in range(0, len(pcm) - 80, 80):
        if np.sqrt(np.mean(pcm[at:at + 80] ** 2)) > 300:
            return at
    return 0


class _Playback:
    playing = True


class _Pauses:
    def __init__(self) -> None:
        self.events: list[tuple[float, str]] = []

    def pause(self) -> None:
        self.events.append((time.perf_counter(), "pause"))

    def resume(self) -> None:
        self.events.append((time.perf_counter(), "resume"))

    def rewind(self) -> None:  # the gate sent Twilio's clear before confirming
        self.events.append((time.perf_counter(), "clear"))


async def one_sound(stt: Any, audio: bytes, flow: Any, state: str) -> dict[str, Any]:
    """Feed one sound as if the agent were speaking in `state`; what happened."""
    try:
        from engine.turns.barge_in import BargeInGate
    except ImportError:
        BargeInGate = None  # the old code: no gate
    call = type("Call", (), {})()
    call.flow, call.state, call.playback, call.call_id = flow, state, _Playback(), "barge"
    audio_out = _Pauses()
    old = not hasattr(flow.settings, "turn")  # a checkout before two-step turns
    gate = BargeInGate(call, audio_out) if BargeInGate and not old else None
    reached: list[tuple[float, str]] = []
    onset: list[float] = []

    def emit(name: str, **fields: Any) -> None:
        if gate is not None and not gate.admit(name, fields):
            return
        if name == "caller.speech_started":  # the flow's long_enough -> barge_in
            cuts = (fields.get("duration_ms", 0) >= flow.settings.min_speech_ms
                    if gate is None else not gate.paused)
        else:  # speaking: `caller.utterance: {if: understood, ...}` cuts the reply too
            cuts = name == "caller.utterance" and bool(str(fields.get("text") or "").strip())
        if cuts:
            reached.append((time.perf_counter(), name))

    session = stt.open("barge", emit)
    if gate is not None and hasattr(session, "on_voice"):
        session.on_voice = gate.voice
        session.turn_policy = lambda: __import__(
            "engine.turns.current", fromlist=["x"]).current_policy(call)
    lead = silence(200)
    start = time.perf_counter()
    await paced(session, lead + audio + silence(2500))
    await session.close()
    if gate is not None:
        gate.close()
    onset.append(start + (len(lead) + sound_onset(audio)) / 8000)
    pauses = [t for t, what in audio_out.events if what == "pause"]
    resumes = [t for t, what in audio_out.events if what == "resume"]
    clears = [t for t, what in audio_out.events if what == "clear"]
    if reached:  # a confirmed barge-in clears (the flow's stop_speaking) if not cleared yet
        clears.append(reached[0][0])
    return {"interrupted": bool(reached), "at": reached[0][0] - onset[0] if reached else None,
            "paused": pauses[0] - onset[0] if pauses else None, "resumed": bool(resumes),
            "clear": min(clears) - onset[0] if clears else None,
            "cleared": bool(clears)}


async def barge_in(tts: LocalPiperTts) -> dict[str, Any]:
    from flows.loader import load_flow

    flow = load_flow(str(ROOT / "flows.yaml"))
    stt = LocalWhisperStt()
    words = ["Wait, can I come on Thursday instead?", "No, I meant the afternoon.",
             "Sorry, one more question about insurance."]
    backchannels = ["Mm-hm.", "Uh-huh.", "Okay.", "Mm-hm.", "Uh-huh.", "Okay."]
    spoken_words = [await speak(tts, w) for w in words]
    non_words: list[tuple[str, bytes]] = [(b, await speak(tts, b)) for b in backchannels]
    non_words += [(f"cough {i}", cough(i)) for i in range(4)]
    non_words += [("clicks", clicks()), ("clicks", clicks())]
    non_words += [("line noise 20 dB SNR", line_noise(spoken_words[0]))] * 2
    out: dict[str, Any] = {"real": {}, "non": {}}
    for state in ("speaking", "greeting"):
        real = [await one_sound(stt, a, flow, state) for a in spoken_words]
        non = [(name, await one_sound(stt, a, flow, state)) for name, a in non_words]
        out["real"][state] = real
        out["non"][state] = non
    return out


def pause_ms() -> int | None:
    """The flow's end-of-turn pause (None on a checkout without two-step turns)."""
    from flows.loader import load_flow

    turn = getattr(load_flow(str(ROOT / "flows.yaml")).settings, "turn", None)
    return getattr(turn, "pause_ms", None)


async def main(calls: list[int], only: set[str]) -> None:
    print(f"turn_bench on {ROOT} ({os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f} at the start)")
    from adapters.local import models, workers
    from adapters.local.turn.speculation import warm_turn_model
    from bench.thread_cpu import claim

    claim("numpy's OpenBLAS, etc. (native threads)")  # started at import, before any model
    loop = asyncio.get_running_loop()
    tts = LocalPiperTts(steady=True)
    await tts.warm()
    claim("piper (onnxruntime threads)")
    await loop.run_in_executor(workers.stt_executor(), models.warm_whisper)
    claim("whisper (CTranslate2 OpenMP threads)")
    await loop.run_in_executor(workers.turn_executor(), warm_turn_model)
    claim("smart turn (onnxruntime threads)")
    await LocalWhisperStt().warm()
    if "endpoint" in only:
        print(f"finished turns, end of the caller's sound -> caller.utterance (STT session): "
              f"{ms(await end_to_transcript(tts))}")
    if "eot" in only:
        premature, total, notes = await end_of_turn(tts)
        print(f"premature end of turn, mid-pause set: {premature}/{total} "
              f"({100 * premature / total:.0f} %), gaps {GAPS_MS} ms")
        for note in notes:
            print(f"    {note}")
    if "barge" in only:
        result = await barge_in(tts)
        for state in result["real"]:
            real, non = result["real"][state], result["non"][state]
            paused = [r["paused"] for r in real if r["paused"] is not None]
            reached = [r["at"] for r in real if r["at"] is not None]
            cleared = [r["clear"] for r in real if r.get("clear") is not None]
            false = [(n, r) for n, r in non if r["interrupted"]]
            held = [n for n, r in non if r["paused"] is not None]
            resumed = [n for n, r in non if r["resumed"] and not r["interrupted"]]
            after_clear = [n for n, r in non
                           if r["resumed"] and not r["interrupted"] and r.get("cleared")]
            print(f"barge-in in state {state!r} (its policy):")
            print(f"  real interruptions: onset -> outbound stopped  {ms(paused)}")
            print(f"  real interruptions: onset -> clear sent        {ms(cleared)}")
            print(f"  real interruptions: onset -> flow interrupted  {ms(reached)}"
                  f"  missed {len(real) - len(reached)}/{len(real)}")
            print(f"  false interruptions on non-words: {len(false)}/{len(non)} "
                  f"({100 * len(false) / len(non):.0f} %) {[n for n, _ in false]}; "
                  f"paused {len(held)}, of which resumed {len(resumed)} "
                  f"({len(after_clear)} after a clear)")
    if "split" in only:
        from bench.turn_split import split_answers

        for line in await split_answers(tts):
            print(line)
    if "speculate" in only:
        from bench.turn_speculation import compare

        for line in await compare(latency):
            print(line)
    if "latency" in only:
        from bench.thread_cpu import lines as thread_lines
        from bench.turn_overlap import Overlap
        from bench.turn_stages import breakdown, time_workers

        for n in calls:
            jobs = time_workers()
            cpu: list[float] = []
            threads: list[dict[str, float]] = []
            with Overlap() as overlap:
                stages = await latency(n, jobs, cpu=cpu, threads=threads)
            turns = len(stages.get("first_frame", []))
            print(f"turn latency, {n} concurrent call(s), end of caller speech -> "
                  f"(load average {os.getloadavg()[0]:.1f} after; process CPU "
                  f"{cpu[0]:.1f} s, {cpu[0] / max(turns, 1):.2f} s per turn)")
            for name in ("first_frame", "first_mark"):
                print(f"  {name:<12} {ms(stages.get(name, []))}")
            for line in breakdown(stages, jobs, pause_ms()):
                print(line)
            for line in thread_lines(threads[0], turns, {k: len(v) for k, v in jobs.items()}):
                print(line)
            import adapters.local.tts as local_tts

            cache = getattr(local_tts, "CLAUSES", None)
            if cache is not None:  # process-wide: the counts include the runs before
                print(f"  clause cache: {cache.hits} hits, {cache.misses} misses so far, "
                      f"{len(cache)} clauses, {cache.bytes // 1024} KiB held")
            for line in overlap.lines():
                print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", default="1,10")
    parser.add_argument("--only", default="endpoint,latency,eot,barge,speculate")
    parser.add_argument("--no-clause-cache", action="store_true",
                        help="render every clause (the bench's callers all say the same lines, "
                        "so the agent's replies repeat more than across real calls)")
    args = parser.parse_args()
    if args.no_clause_cache:
        import adapters.local.tts as local_tts

        if hasattr(local_tts, "CLAUSES"):
            local_tts.CLAUSES.max_bytes = 0
    asyncio.run(main([int(c) for c in args.calls.split(",")], set(args.only.split(","))))
