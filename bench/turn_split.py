"""Turns a breath splits in two, and whether the call's continuation rule joins them again.

    python -m bench.turn_split        (or: python -m bench.turn_bench --only split)

Short answers with a pause inside ("Yes, ... please.", "No, ... that's all.") are spoken by
piper and fed in real time to the local STT session, as `turn_bench`'s eot set is, at
several pause lengths. A finished first part ("Yes.") may end the turn at the pause, which
is right for the end-of-turn rules; what the caller meant is the whole answer. For each
split this prints the `gap_ms` the STT measured and whether it is within the default
flow's `turn.continue_ms` (`engine/turns/continuation.py` then answers both parts as one
turn, provided nothing of the reply was heard and no tool ran in between). Two separate
answers with a long silence between them are the control: they must not be joined.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.local.stt import LocalWhisperStt  # noqa: E402
from adapters.local.tts import LocalPiperTts  # noqa: E402
from bench.turn_bench import Recorder, paced, silence, speak  # noqa: E402
from flows.loader import load_flow  # noqa: E402

ANSWERS = [
    ("Yes,", "please."),
    ("No,", "that's all, thank you."),
    ("Okay.", "Tuesday then."),
    ("Yeah,", "that works."),
    ("Sure.", "Ten o'clock is fine."),
    ("Mm, no.", "Make it Friday."),
]
GAPS_MS = (250, 400, 600)
APART_MS = 2500  # the control: a caller who waited this long meant a new turn


async def split_answers(tts: LocalPiperTts) -> list[str]:
    continue_ms = load_flow(str(ROOT / "flows.yaml")).settings.turn.continue_ms
    stt = LocalWhisperStt()
    splits = joined = total = 0
    notes: list[str] = []
    control_joined = 0
    for first, rest in ANSWERS:
        spoken = [await speak(tts, first), await speak(tts, rest)]
        for gap in (*GAPS_MS, APART_MS):
            emitted = Recorder()
            session = stt.open(f"split-{total}", emitted)
            await paced(session, silence(300) + silence(gap).join(spoken) + silence(2500))
            await session.close()
            turns = [f for _, n, f in emitted if n == "caller.utterance"]
            gaps = [f.get("gap_ms") for f in turns[1:]]
            within = [g for g in gaps if isinstance(g, int) and g <= continue_ms]
            if gap == APART_MS:
                control_joined += bool(within)
                continue
            total += 1
            if len(turns) > 1:
                splits += 1
                joined += len(within) == len(gaps)
                notes.append(f"    {first} {rest} @{gap} ms -> "
                             f"{[f['text'] for f in turns]}, gap_ms {gaps}")
    return [
        f"turns split by a breath (short answers, pauses {GAPS_MS} ms): {splits}/{total}; "
        f"of the splits, within turn.continue_ms ({continue_ms} ms) and so joined: "
        f"{joined}/{splits}",
        *notes,
        f"control, the same answers {APART_MS} ms apart: joined {control_joined}/{len(ANSWERS)}"
        " (should be 0)",
    ]


async def main() -> None:
    print(f"(load average {os.getloadavg()[0]:.1f} at the start)")
    tts = LocalPiperTts(steady=True)
    await tts.warm()
    await LocalWhisperStt().warm()
    for line in await split_answers(tts):
        print(line)


if __name__ == "__main__":
    asyncio.run(main())
