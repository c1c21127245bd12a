"""Soak with abrupt disconnects: do calls that vanish mid-sentence leave anything behind?

    python -m bench.soak_bench --calls 1000 --concurrency 100

Starts a server process with the offline-fast fakes (tone TTS, energy STT, a brain that
answers, then asks for a tool; a tool and a transfer that take a moment, so there is a
"mid-tool" and a "mid-transfer" to drop in), and runs N simulated Twilio calls over real
WebSockets, at most `--concurrency` at once. Two thirds complete the whole path (greeting,
a reply, a tool turn, a transfer that fails into a message and a goodbye); one third drop
their TCP connection, without a WebSocket close, at a random moment: mid-greeting,
mid-reply, mid-tool or mid-transfer. Prints the phantom calls left in `/health` once every
socket is gone (budget 0), and the server's file descriptors, asyncio tasks, live Python
objects and RSS before (the server after start-up and a warm-up of one call of each
kind, a completed one and one dropped at each moment, so every path has run once but no
burst has: a burst's high-water mark is what the budget is about; the cold figures and the
warm-up's own growth are printed too), at peak and after each round (budget: back within
5 % of the baseline). `--diagnose` asks the server where its memory is: the objects
born during a round and alive after it, and what the new, sparsely used pymalloc arenas
hold (`bench/arena_walk.py`); its figures are read before the probe runs. The frozen
start-up heap is unfrozen for it, or the scans would not see what it holds.
`--new-blocks` says which pymalloc blocks are in use after the first round that were not at
the baseline, and which sit in arenas mapped since (`bench/new_blocks.py`), objects or not.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.twilio.caller import SimulatedCaller  # noqa: E402
from bench.memory_probe import rss_by_mapping  # noqa: E402
from bench.server_bench import free_port, quiet, rss_kib  # noqa: E402
from tests.fakes.providers import silence, tone  # noqa: E402
from tests.server.raw_stream import drop_tcp  # noqa: E402

AUTH_TOKEN = "soak-token"
MOMENTS = ("greeting", "reply", "tool", "transfer")
TOOL_SECONDS = 0.5
TRANSFER_SECONDS = 1.0


# -- the server process ------------------------------------------------------------------------
class SoakBrain:
    """Turn 1 of a call: a reply. Turn 2: a tool call, then a reply with its result."""

    name = "fake-soak"

    def __init__(self) -> None:
        self.turns: Counter[str] = Counter()
        self.tool_answered: set[str] = set()

    async def respond(self, turn: Any) -> Any:
        from engine.ports import Sentence, ToolCall

        self.turns[turn.call_id] += 1
        if self.turns[turn.call_id] == 2 and turn.call_id not in self.tool_answered:
            yield ToolCall("check_appointment", {}, f"{turn.call_id}-tool")
            return
        for sentence in ("Sure.", "We are open until seven tonight."):
            yield Sentence(sentence)

    def tool_result(self, call_id: str, tool: Any, outcome: Any) -> None:
        self.tool_answered.add(call_id)

    def forget(self, call_id: str) -> None:
        self.turns.pop(call_id, None)
        self.tool_answered.discard(call_id)


class SlowTools:
    def __init__(self, tools: Any):
        self.tools = tools
        self.context = tools.context

    async def run(self, name: str, args: dict[str, Any], call_id: str) -> Any:
        await asyncio.sleep(TOOL_SECONDS)
        return await self.tools.run(name, args, call_id)


class SlowFailingTransfer:
    """A transfer that rings for a moment and fails, as local calls do; hang-up closes."""

    def __init__(self, stream: Any):
        self.stream = stream

    async def transfer(self, number: str, warm: Any = None) -> None:
        await asyncio.sleep(TRANSFER_SECONDS)
        raise ConnectionError("soak: nobody picks up")

    async def hang_up(self) -> None:
        await self.stream.close()


def soak_stt() -> Any:
    """The energy STT without its test bookkeeping: the test fake keeps every session it
    opened (tests inspect them), which over a soak was the one thing that grew (every
    call's stream, call and trace stayed reachable through it)."""
    from tests.fakes.providers import EnergyStt, _EnergySession

    class Endless:  # the same words for ever (a million-entry deque was 8 MiB of baseline)
        def __bool__(self) -> bool:
            return True

        def popleft(self) -> str:
            return "Do you have anything for me?"

    class SoakStt(EnergyStt):
        def open(self, call_id: str, emit: Any) -> Any:
            return _EnergySession(self, emit)

    stt = SoakStt()
    stt.transcripts = Endless()  # type: ignore[assignment]
    return stt


def soak_tts() -> Any:
    """The tone TTS without its test bookkeeping: the test fake keeps every text it spoke
    (tests read them), which over a soak kept every call's rendered greeting and replies
    alive: the creep of 0.4-1.8 MiB a round, and hundreds of prompt strings from each burst
    pinning its pymalloc arenas."""
    from collections import deque

    from tests.fakes.providers import ToneTts

    tts = ToneTts()
    tts.spoken = deque(maxlen=8)  # type: ignore[assignment]
    return tts


def serve(port: int) -> None:
    import os
    import tempfile
    import tracemalloc

    import uvicorn

    from adapters.twilio.signature import SignatureChecker, SignatureSettings
    from engine.app.commands.serve import freeze_startup_heap, run_fast
    from engine.app.server.app import create_app
    from engine.app.server.flow_source import FlowSource
    from engine.app.server.services import Services
    from engine.transcripts import TranscriptStore
    from tools.builtin import build_registry
    from tools.storage import Storage

    if os.environ.get("SOAK_TRACEMALLOC"):  # where memory grows (slow: diagnosis only)
        tracemalloc.start(int(os.environ["SOAK_TRACEMALLOC"]))
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    services = Services(
        flows=FlowSource(ROOT / "flows.yaml"),
        stt=soak_stt(), tts=soak_tts(),
        brain=SoakBrain(), registry=build_registry(),
        storage=Storage(f"sqlite:///{work / 'soak.db'}"),
        transcripts=TranscriptStore(work / "transcripts"),
        signatures=SignatureChecker(SignatureSettings(auth_token=AUTH_TOKEN)))
    tools_for = services.tools_for
    services.tools_for = lambda call_id, caller: SlowTools(  # type: ignore[method-assign]
        tools_for(call_id, caller))
    services.telephony_for = (  # type: ignore[method-assign]
        lambda call_sid, call_id, stream: SlowFailingTransfer(stream))
    app = create_app(services)

    @app.get("/bench/tasks")
    async def tasks(collect: bool = False) -> dict[str, int]:
        import gc

        if collect:  # the before/after figures count live objects, not garbage
            gc.collect()
        return {"tasks": len(asyncio.all_tasks()), "blocks": sys.getallocatedblocks()}

    @app.get("/bench/memory")
    async def memory(snapshot: str = "", since: str = "", diagnose: bool = False
                     ) -> dict[str, Any]:
        import gc

        from bench import arena_walk, memory_probe

        if diagnose and gc.get_freeze_count():  # the probes walk what the collector
            gc.unfreeze()  # sees: the frozen start-up heap is outside it, and it holds
        gc.collect()       # what a burst left (its dicts' tables, its lists' items)
        if not diagnose:  # the figures only: allocates next to nothing
            return {**memory_probe.report(), "grown": [], "types_grown": [], "pinning": [],
                    "weakref_holders": []}
        if snapshot:
            memory_probe.snapshot(snapshot)
        if tracemalloc.is_tracing():  # the origins name every pinning block: enough, and
            return {**memory_probe.report(),  # the object scans are too slow traced
                    "grown": memory_probe.grown(since) if since else [],
                    "types_grown": [], "pinning": [], "weakref_holders": [],
                    "sparse": arena_walk.sparse_arenas(snapshot, since)}
        return {**memory_probe.report(), "grown": memory_probe.grown(since) if since else [],
                "types_grown": memory_probe.types_grown(snapshot, since) if snapshot else [],
                "pinning": memory_probe.born_since(snapshot, since) if snapshot else [],
                "weakref_holders": memory_probe.dead_weakref_holders(),
                "sparse": arena_walk.sparse_arenas(snapshot, since)}

    @app.get("/bench/newblocks")
    async def newblocks(mark: bool = False) -> list[str]:
        """`--new-blocks`: mark the blocks in use now, or say which are in use since the
        mark (`bench/new_blocks.py`): what holds a burst's arenas, objects or not."""
        import gc

        from bench import new_blocks

        gc.collect()
        if mark:
            return [str(new_blocks.mark())]
        return new_blocks.report()

    @app.post("/bench/trace")
    async def trace(frames: int = 25) -> dict[str, bool]:
        """Start tracemalloc now (after the warm-up): every block allocated from here on
        has its allocation traceback, so the survivors of a burst name their owner."""
        if not tracemalloc.is_tracing():
            tracemalloc.start(frames)
        return {"tracing": True}

    @app.get("/bench/walk")
    async def walk(limit: int = 30) -> list[str]:
        """What every pymalloc arena holds now, by type (objects) or size (other blocks):
        asked at peak, what a burst fills the arenas with."""
        from bench import arena_walk

        return arena_walk.sparse_arenas(most_blocks=1 << 30, limit=limit)

    @app.get("/bench/top")
    async def top(limit: int = 25) -> list[str]:
        """With SOAK_TRACEMALLOC: the source lines holding the most live memory now (asked
        at peak, this says what a burst fills pymalloc's arenas with)."""
        if not tracemalloc.is_tracing():
            return []
        stats = tracemalloc.take_snapshot().statistics("lineno")
        return [f"{s.size / 1024:.0f} KiB in {s.count} blocks at "
                f"{s.traceback[0].filename.rsplit('/', 2)[-1]}:{s.traceback[0].lineno}"
                for s in stats[:limit]]

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                           lifespan="on", ws_per_message_deflate=False))
    freeze_startup_heap()
    run_fast(server.serve())


# -- the callers -------------------------------------------------------------------------------
def media_count(caller: SimulatedCaller) -> int:
    return len(caller.received)


async def wait_for(predicate: Any, limit: float = 20.0) -> None:
    start = time.perf_counter()
    while not predicate() and time.perf_counter() - start < limit:
        await asyncio.sleep(0.01)


async def one_call(url: str, index: int, moment: str | None) -> str:
    """Run one call; drop it at `moment` (None: complete it). Returns how it ended."""
    rng = random.Random(index)
    async with SimulatedCaller(url, auth_token=AUTH_TOKEN, call_sid=f"CA{index:08d}") as caller:
        if moment == "greeting":
            frames = rng.randint(1, 40)
            await wait_for(lambda: media_count(caller) >= frames)
            drop_tcp(caller)
            return "dropped"
        await quiet(caller, 0.3)
        if moment == "transfer":
            await caller.press("0")
            await asyncio.sleep(rng.uniform(0.1, 2.5))  # the hold message, then the transfer
            drop_tcp(caller)
            return "dropped"
        before = media_count(caller)
        await caller.say(tone(0.5) + silence(0.1))
        if moment == "reply":
            frames = rng.randint(1, 20)
            await wait_for(lambda: media_count(caller) >= before + frames)
            drop_tcp(caller)
            return "dropped"
        await quiet(caller, 0.3)
        await caller.say(tone(0.5) + silence(0.1))
        if moment == "tool":
            await asyncio.sleep(rng.uniform(0.05, 0.3 + TOOL_SECONDS))
            drop_tcp(caller)
            return "dropped"
        await quiet(caller, 0.3)
        await caller.press("0")
        await wait_for(lambda: caller.closed, limit=30)  # the server says goodbye, hangs up
        return "completed" if caller.closed else "still open"


async def guarded(url: str, index: int, moment: str | None, gate: asyncio.Semaphore) -> str:
    async with gate:
        try:
            return await one_call(url, index, moment)
        except Exception as exc:  # a client-side failure is counted, not fatal
            return f"client error {type(exc).__name__}"


def fd_kinds(pid: int) -> Counter[str]:
    """What the process's descriptors point at: `socket`, `pipe`, or a file's name."""
    kinds: Counter[str] = Counter()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = str(fd.readlink())
            kinds[target.split(":")[0] if ":[" in target else Path(target).name] += 1
    return kinds


def server_figures(pid: int, http: httpx.Client, base: str, label: str,
                   since: str = "", diagnose: bool = False) -> dict[str, Any]:
    """The server's figures; RSS and mappings are read before the memory probe runs, so
    the probe's own allocations (`--diagnose`: type counts, an object scan) never count."""
    kinds = fd_kinds(pid)
    if os.environ.get("SOAK_SMAPS_DIR"):  # every mapping, to compare by address
        Path(os.environ["SOAK_SMAPS_DIR"], f"smaps-{label}.txt").write_text(
            Path(f"/proc/{pid}/smaps").read_text())
    inside = http.get(f"{base}/bench/tasks", params={"collect": "1"}).json()
    rss, mappings = rss_kib(pid) / 1024, rss_by_mapping(pid)
    memory = http.get(f"{base}/bench/memory", params={
        "snapshot": label, "since": since, "diagnose": "1" if diagnose else "0"},
        timeout=600).json()
    return {"fds": float(sum(kinds.values())), "tasks": float(inside["tasks"]),
            "blocks_k": inside["blocks"] / 1000, "rss_mib": rss,
            "fd_kinds": kinds, "memory": memory, "mappings": mappings,
            "threads": float(len(list(Path(f"/proc/{pid}/task").iterdir())))}


def memory_line(label: str, figures: dict[str, Any]) -> str:
    memory = figures["memory"]
    malloc, smaps = memory["malloc"], memory["smaps"]
    traced = memory.get("traced_mib")
    return (f"  {label}: RSS {figures['rss_mib']:.1f} MiB (anonymous "
            f"{smaps.get('Anonymous', 0):.1f}); pymalloc arenas "
            f"{memory['pymalloc_arenas_mib']:.1f}; malloc heap {malloc.get('heap', 0):.1f} "
            f"(in use {malloc.get('in_use', 0):.1f}, freed but kept "
            f"{malloc.get('free_kept', 0):.1f}), mmapped {malloc.get('mmapped', 0):.1f}"
            + (f"; traced {traced:.1f}" if traced is not None else ""))


async def sample_peak(pid: int, base: str, peak: dict[str, float], done: asyncio.Event) -> None:
    async with httpx.AsyncClient() as http:
        while not done.is_set():
            with contextlib.suppress(httpx.HTTPError):
                fds = len(list(Path(f"/proc/{pid}/fd").iterdir()))
                inside = (await http.get(f"{base}/bench/tasks", timeout=5)).json()
                for key, value in (("fds", fds), ("tasks", inside["tasks"]),
                                   ("blocks_k", inside["blocks"] / 1000),
                                   ("rss_mib", rss_kib(pid) / 1024)):
                    peak[key] = max(peak.get(key, 0.0), float(value))
            await asyncio.sleep(0.5)


async def soak(url: str, base: str, pid: int, calls: int, concurrency: int, offset: int,
               moments: list[str | None] | None = None
               ) -> tuple[Counter[str], Counter[str], dict[str, float]]:
    """`calls` calls, a third dropped at a random moment (or exactly `moments`)."""
    gate = asyncio.Semaphore(concurrency)
    rng = random.Random(11)
    if moments is None:
        moments = [rng.choice(MOMENTS) if i % 3 == 0 else None for i in range(calls)]
    peak: dict[str, float] = {}
    done = asyncio.Event()
    sampler = asyncio.create_task(sample_peak(pid, base, peak, done))
    outcomes = await asyncio.gather(*[guarded(url, offset + i, moment, gate)
                                      for i, moment in enumerate(moments)])
    done.set()
    await sampler
    return Counter(outcomes), Counter(m for m in moments if m), peak


def settle(http: httpx.Client, base: str, limit: float = 30.0) -> int:
    """Wait for the server's active calls to reach 0, then for the server's own memory
    release after the burst (`engine/app/server/memory_release.py`, checked every 10 s); the
    phantom calls left after `limit`."""
    start = time.perf_counter()
    while True:
        health = http.get(f"{base}/health").json()
        active = int(health["active_calls"])
        if active == 0 or time.perf_counter() - start > limit:
            break
        time.sleep(0.2)
    releases = health["memory"]["releases_after_bursts"]
    while time.perf_counter() - start < limit + 15 and (
            http.get(f"{base}/health").json()["memory"]["releases_after_bursts"] == releases):
        time.sleep(0.5)
    return active


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=0,
                        help="calls before the baseline, the same mix of completed and "
                        "dropped calls at the same concurrency (default 0: one call of each "
                        "kind, a completed one and one dropped at each moment, so every path "
                        "has run once; a warm-up of 3 x --concurrency, as this bench once "
                        "took, puts a burst's high-water mark into the baseline)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="soak rounds; the figures after the last are printed too")
    parser.add_argument("--allocator", nargs="+", choices=("malloc", "pymalloc"),
                        default=["malloc", "pymalloc"],
                        help="the server's Python allocator; each runs the whole soak")
    parser.add_argument("--diagnose", action="store_true",
                        help="also ask the server where its memory is (type counts, the "
                        "objects living in arenas mapped since the last figures; slow)")
    parser.add_argument("--trace", type=int, default=0, metavar="FRAMES",
                        help="with --diagnose: start tracemalloc in the server after the "
                        "warm-up, keeping FRAMES frames (25 names the owner), so every block "
                        "that pins a burst's arena is shown with where it was allocated, "
                        "and each round's growth by allocation site (slow)")
    parser.add_argument("--new-blocks", action="store_true",
                        help="also say which pymalloc blocks are in use after the first "
                        "round that were not at the baseline, by kind, and which of them "
                        "sit in the arenas mapped since (objects or not: free lists of C "
                        "code, caches); reads the heap in place, a few seconds")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    for allocator in args.allocator:
        print(f"== server allocator: {allocator} "
              + ("(PYTHONMALLOC=malloc: glibc's heap, trimmed after bursts)"
                 if allocator == "malloc" else "(CPython's default pymalloc)"), flush=True)
        run(args, allocator)


def run(args: argparse.Namespace, allocator: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONMALLOC"}
    if allocator == "malloc":
        env["PYTHONMALLOC"] = "malloc"
    if args.trace:  # a traced server is several times slower: give starts time to come
        env.setdefault("DIALFLOW_START_DEADLINE", "120")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "bench.soak_bench", "--serve", str(port)],
                              cwd=ROOT, env=env)
    base, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws/media"
    started = time.perf_counter()
    warmup = args.warmup or 1 + len(MOMENTS)
    warmup_mix = None if args.warmup else [None, *MOMENTS]
    round_rss: list[float] = []
    rounds: list[tuple[str, dict[str, Any]]] = []  # --diagnose: the figures of each round
    try:
        with httpx.Client(timeout=120 if args.trace else 10) as http:
            for _ in range(300):
                with contextlib.suppress(httpx.HTTPError):
                    http.get(f"{base}/health")
                    break
                time.sleep(0.1)
            cold = server_figures(server.pid, http, base, "cold", diagnose=args.diagnose)
            asyncio.run(soak(url, base, server.pid, warmup, args.concurrency, 10**7,
                             warmup_mix))
            settle(http, base)
            if args.trace:
                http.post(f"{base}/bench/trace", params={"frames": args.trace})
            time.sleep(2.0)
            before = server_figures(server.pid, http, base, "before", "cold",
                                    diagnose=args.diagnose)
            if args.new_blocks:
                http.get(f"{base}/bench/newblocks", params={"mark": "1"}, timeout=600)
            outcomes, drops, peak = asyncio.run(
                soak(url, base, server.pid, args.calls, args.concurrency, 0))
            phantom = settle(http, base)
            time.sleep(2.0)
            after = server_figures(server.pid, http, base, "after", "before",
                                   diagnose=args.diagnose)
            round_rss.append(after["rss_mib"])
            new_blocks = (http.get(f"{base}/bench/newblocks", timeout=600).json()
                          if args.new_blocks else [])
            if args.rounds > 1:  # does what stays after the first round keep growing?
                for round_index in range(1, args.rounds):
                    asyncio.run(soak(url, base, server.pid, args.calls, args.concurrency,
                                     round_index * 10**6))
                    phantom += settle(http, base)
                    time.sleep(2.0)
                    http.get(f"{base}/bench/tasks", params={"collect": "1"})
                    round_rss.append(rss_kib(server.pid) / 1024)
                    if args.diagnose and round_index < args.rounds - 1:
                        label = f"round {round_index + 1}"
                        rounds.append((label, server_figures(
                            server.pid, http, base, label,
                            rounds[-1][0] if rounds else "after", diagnose=True)))
                again = server_figures(server.pid, http, base, "again",
                                       rounds[-1][0] if rounds else "after",
                                       diagnose=args.diagnose)
            final_health = http.get(f"{base}/health").json()
            sockets = final_health["media_sockets"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    print(f"calls: {args.calls} at up to {args.concurrency} at once, "
          f"{time.perf_counter() - started:.0f} s in all; outcomes: "
          + ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())))
    print("dropped TCP mid-" + ", mid-".join(f"{m} {drops[m]}" for m in MOMENTS))
    print(f"phantom calls after every socket closed: {phantom} (budget 0); "
          f"media sockets still open: {sockets}")
    print(f"cold, before the warm-up of {warmup} calls ("
          + ("one of each kind: completed, dropped mid-" + ", mid-".join(MOMENTS)
             if warmup_mix else f"the soak's mix, at up to {args.concurrency} at once")
          + "): "
          f"{cold['fds']:.0f} file descriptors, {cold['tasks']:.0f} tasks, "
          f"{cold['blocks_k']:.0f}k Python blocks, RSS {cold['rss_mib']:.0f} MiB; "
          "the baseline below is after it")
    released = final_health["memory"]
    print(f"the server's own memory releases after bursts: "
          f"{released['releases_after_bursts']}, {released['released_mib']} MiB handed back")
    print("where the memory is (MiB):")
    for label, figures in (("cold", cold), ("before", before), ("after", after), *rounds) + (
            (("after all rounds", again),) if args.rounds > 1 else ()):
        print(memory_line(label, figures))
        for site in figures["memory"]["grown"][:12]:
            print("      " + site)
        for pin in figures["memory"]["pinning"][:16]:
            print("      born since the last figures, alive: " + pin)
        for line in figures["memory"].get("sparse", [])[:60]:
            print("      sparse arenas: " + line)
        for chain in figures["memory"]["weakref_holders"][:1]:
            print("      dead weakrefs held: " + chain)
        if figures["memory"]["types_grown"]:
            print("      live objects that grew, by type: "
                  + ", ".join(figures["memory"]["types_grown"]))
    mappings = {kind: after["mappings"].get(kind, 0) - mib
                for kind, mib in before["mappings"].items()}
    print("resident memory that grew from before to after, by mapping (MiB): " + ", ".join(
        f"{kind} {mib:+.1f}" for kind, mib in sorted(mappings.items(), key=lambda x: -x[1])
        if abs(mib) >= 0.3))
    for line in new_blocks:  # --new-blocks
        print("blocks since the baseline: " + line)
    grown = after["fd_kinds"] - before["fd_kinds"]
    if grown:
        print("descriptors added since the baseline: " + ", ".join(
            f"{n} {what}" for what, n in grown.most_common()))
    for key, label in (("fds", "file descriptors"), ("tasks", "asyncio tasks"),
                       ("blocks_k", "Python objects alive, thousands of blocks"),
                       ("threads", "threads"), ("rss_mib", "RSS MiB")):
        if not before[key]:  # pymalloc's block count is 0 under PYTHONMALLOC=malloc
            print(f"{label}: not counted with this allocator")
            continue
        change = (after[key] - before[key]) / before[key] * 100
        top = f"{peak[key]:.0f}" if key in peak else "not sampled"
        print(f"{label}: before {before[key]:.0f}, peak {top}, "
              f"after {after[key]:.0f} ({change:+.1f} % of the baseline; budget within 5 %)"
              + (f"; after {args.rounds} rounds {again[key]:.0f}" if args.rounds > 1 else "")
              + (f"; cold (before any call) {cold[key]:.0f}" if key == "rss_mib" else ""))
    if args.rounds > 1:  # the first round raised the allocator's high-water; the next?
        change = (again["rss_mib"] - after["rss_mib"]) / after["rss_mib"] * 100
        print(f"RSS after {args.rounds} rounds vs after the first: {change:+.1f} % (the "
              "baseline once this concurrency's high-water mark is reached)")
    print(f"RSS after each round of {args.calls} calls (MiB, vs the baseline "
          f"{before['rss_mib']:.1f} after the warm-up): " + ", ".join(
              f"{mib:.1f} ({(mib - before['rss_mib']) / before['rss_mib'] * 100:+.1f} %)"
              for mib in round_rss)
          + f"; the warm-up itself took RSS from {cold['rss_mib']:.1f} (cold) to "
          f"{before['rss_mib']:.1f}")


if __name__ == "__main__":
    main()
