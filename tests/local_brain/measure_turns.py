"""How long the rules brain takes per turn: `python tests/local_brain/measure_turns.py [N]`.

Plays N short calls (default 20) on one brain — a question, a booking over four turns, a
check — with the real MiniLM, a retriever over data/knowledge.json in a temporary chroma
directory and the real tools on a temporary SQLite file. Prints the start-up costs, then per
kind of turn the median and 95th percentile of the time to the first sentence and to the
end of the reply (tool time excluded: only the brain's own work is timed).
Touches only the temporary directory it creates.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from brain_testkit import (
    CALLER,
    build_retriever,
    make_brain,
    make_storage,
    make_tools,
)

from adapters.local.embeddings import LocalMiniLMEmbedder
from engine.ports import Sentence, ToolCall, Turn

SCRIPT = [
    ("question", "When do you close on Friday?"),
    ("question", "Do you take Delta Dental?"),
    ("booking", "I'd like to book a cleaning"),
    ("booking", "next Thursday at 5:30 in the evening"),
    ("booking", "my name is Ana Lopez"),
    ("booking + tool", "yes please"),
    ("check + tool", "when is my appointment?"),
    ("goodbye", "no, that's all, bye"),
]


async def play(brain, storage, call_id: str, stats: dict[str, list[tuple[float, float]]]
               ) -> None:
    tools = make_tools(storage, call_id, CALLER)
    heard: list[str] = []
    for kind, text in SCRIPT:
        first = total = 0.0
        for _ in range(3):  # at most a couple of tool round trips per turn
            start = time.perf_counter()
            call = None
            async for item in brain.respond(Turn(call_id, CALLER, text, tuple(heard))):
                if not first:
                    first = total + time.perf_counter() - start
                if isinstance(item, Sentence):
                    heard.append(item.text)
                else:
                    assert isinstance(item, ToolCall)
                    call = item
            total += time.perf_counter() - start
            if call is None or call.name in ("end_call", "transfer_to_human"):
                break
            brain.tool_result(call_id, call, await tools.run(call.name, call.args, call_id))
        stats[kind].append((first, total))
    brain.forget(call_id)


def main(calls: int = 20) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        embedder = LocalMiniLMEmbedder()
        embedder.load()
        t1 = time.perf_counter()
        retriever = build_retriever(Path(tmp) / "chroma", embedder)
        t2 = time.perf_counter()
        brain = make_brain(retriever, embedder)
        brain.warm_up()
        t3 = time.perf_counter()
        print(f"model load {1000 * (t1 - t0):.0f} ms, knowledge ingest {1000 * (t2 - t1):.0f} ms,"
              f" intent examples {1000 * (t3 - t2):.0f} ms")
        storage = make_storage(Path(tmp) / "db.sqlite")
        stats: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for n in range(calls):
            with storage.engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM appointments")
            asyncio.run(play(brain, storage, f"CA-{n}", stats))
        storage.close()
    print(f"{calls} calls; per turn, milliseconds (first sentence / whole reply):")
    for kind, values in stats.items():
        firsts = sorted(v[0] * 1000 for v in values)
        totals = sorted(v[1] * 1000 for v in values)
        p95 = max(0, round(0.95 * len(values)) - 1)
        print(f"  {kind:15} median {statistics.median(firsts):6.1f} / "
              f"{statistics.median(totals):6.1f}   p95 {firsts[p95]:6.1f} / {totals[p95]:6.1f}"
              f"   (n={len(values)})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
