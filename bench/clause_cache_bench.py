"""How often the clause cache would spare piper on the conversation set (text level).

    python -m bench.clause_cache_bench [--split tune|heldout] [--max-kib 4096]

Plays every call of tests/conversations/calls.yaml against the rules brain and the real
tools (as `conversation_bench --text` does), in file order as one process would serve them,
and feeds each sentence the agent says through the clause splitting `LocalPiperTts` uses
into a `ClauseCache` of the given size. Sentences that are the flow's static prompts are
left out (the prompt cache serves those whole). No audio is rendered: a clause counts
`BYTES_PER_CHAR` bytes (measured on piper's joe voice at 8 kHz: 380-450 bytes a character
for clauses of 40-80 characters, more for short ones). Prints the hit rate over all clauses
and over the first clause of each reply (the one the caller waits for in silence).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "conversations"))
sys.path.insert(0, str(ROOT / "tests" / "local_brain"))

BYTES_PER_CHAR = 450


def main(split: str | None, max_kib: int) -> None:
    from brain_testkit import build_retriever, make_brain
    from callset import Dialogue, load_calls, seed

    from adapters.local import models
    from adapters.local.clause_cache import ClauseCache, ClauseKey
    from adapters.local.clauses import split_clauses
    from adapters.local.embeddings import LocalMiniLMEmbedder
    from adapters.local.tts import VOLUME
    from engine.audio_format import SAMPLE_RATE
    from flows.loader import load_flow
    from flows.templates import static_texts
    from tools.storage import Storage

    flow = load_flow(str(ROOT / "flows.yaml"))
    static = {" ".join(t.split()) for t in static_texts(flow.prompts, flow.settings.business)}
    cache = ClauseCache(max_bytes=max_kib * 1024)
    clauses = first_hits = replies = calls = 0
    embedder = LocalMiniLMEmbedder()
    embedder.load()
    with tempfile.TemporaryDirectory() as tmp:
        brain = make_brain(build_retriever(Path(tmp) / "chroma", embedder), embedder,
                           check_slots=True)
        for call in load_calls():
            if split and call.split != split:
                continue
            calls += 1
            storage = Storage(f"sqlite:///{Path(tmp) / (call.id + '.db')}")
            seed(storage, call)
            dialogue = Dialogue(brain, storage, call_id=f"CA-{call.id}", caller=call.caller)
            try:
                for line in call.lines:
                    reply = dialogue.say(line["say"])
                    first = True
                    for sentence in reply.sentences:
                        if " ".join(sentence.split()) in static:
                            continue
                        for piece in split_clauses(sentence):
                            key = ClauseKey(models.PIPER_VOICE, piece, VOLUME, False,
                                            SAMPLE_RATE)
                            hit = cache.get(key) is not None
                            if not hit:
                                cache.put(key, bytes(BYTES_PER_CHAR * len(piece)))
                            clauses += 1
                            if first:
                                replies += 1
                                first_hits += hit
                                first = False
            finally:
                brain.forget(f"CA-{call.id}")
                storage.close()
    print(f"clause cache of {max_kib} KiB on {calls} calls ({split or 'all splits'}), text "
          f"level, static prompts left out:")
    print(f"  clauses: {cache.hits}/{clauses} hits ({100 * cache.hits / max(clauses, 1):.1f} %)")
    print(f"  first clause of a reply: {first_hits}/{replies} hits "
          f"({100 * first_hits / max(replies, 1):.1f} %)")
    print(f"  held at the end: {len(cache)} clauses, {cache.bytes / 1024:.0f} KiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", choices=("tune", "heldout"))
    parser.add_argument("--max-kib", type=int, default=4096)
    args = parser.parse_args()
    main(args.split, args.max_kib)
