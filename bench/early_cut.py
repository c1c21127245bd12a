"""Does transcribing early in a silence lose the caller's last word?

The local STT may start whisper `early_ms` into a silence (one VAD window, 32 ms) instead of
at the pause (200 ms), and the pause then transcribes that same early audio. This bench
measures what that costs in hearing: every caller line of the conversation set
(tests/conversations/calls.yaml) is spoken by piper, end-pointed by the real VAD with the
shipped turn settings, and the last pause's audio is cut at each silence in `--cuts` and
transcribed by the primed whisper tiny.en with the sound-alike fixer, as in a call. Printed
per cut: lines heard exactly as at the pause cut, word error rate against the written line,
and last words heard (the written line's last word is the transcript's last word), with the
lines where a cut loses or changes the last word against the longest cut.

    python -m bench.early_cut [--lines 200] [--cuts 32,64,96,200]

Counts, not timings: the figures do not depend on the machine's load. Touches nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.local import models  # noqa: E402
from adapters.local.embeddings import tokenizer_words  # noqa: E402
from adapters.local.transcribe import transcribe  # noqa: E402
from adapters.local.tts import LocalPiperTts  # noqa: E402
from adapters.local.vad import EndPointer, Paused, VadParams  # noqa: E402
from engine.audio_format import SILENCE  # noqa: E402
from flows.turns import TurnPolicy  # noqa: E402
from knowledge.soundalike import SoundalikeFixer  # noqa: E402
from knowledge.vocabulary import WEEKDAYS, load_vocabulary, whisper_prompt  # noqa: E402

_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> list[str]:
    """Lower-case words, punctuation dropped ("3:30" -> "3", "30"), the same for every cut."""
    return _WORD.findall(text.lower().replace("-", " "))


def errors(ref: list[str], hyp: list[str]) -> int:
    """Word edit distance."""
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def caller_lines(limit: int) -> list[str]:
    raw = yaml.safe_load((ROOT / "tests" / "conversations" / "calls.yaml").read_text())
    seen: dict[str, None] = {}
    for call in raw["calls"]:
        for line in call["lines"]:
            seen.setdefault(line["say"], None)
    lines = list(seen)
    step = max(1, len(lines) // limit) if limit else 1
    return lines[::step][:limit or None]


def last_pause(ulaw: bytes, early_ms: int | None) -> Paused | None:
    """The last `Paused` of the utterance (the one a finished turn is committed on)."""
    vad = models.take_vad()
    try:
        pointer = EndPointer(vad, VadParams(pause_ms=TurnPolicy().pause_ms, report_onset=True))
        pointer.early_ms = early_ms
        found: Paused | None = None
        for event in pointer.push(ulaw + bytes([SILENCE]) * 8 * 1500):
            if isinstance(event, Paused):
                found = event
        return found
    finally:
        models.give_back_vad(vad)


async def spoken(lines: list[str]) -> list[bytes]:
    voice = LocalPiperTts(steady=True)
    out = []
    for line in lines:
        out.append(b"".join([chunk async for chunk in voice.synthesize(line)]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=200, help="caller lines (0: all)")
    parser.add_argument("--cuts", default="32,64,96,200",
                        help="ms of silence at which the audio is cut (200: the pause itself)")
    args = parser.parse_args()
    cuts = [int(c) for c in args.cuts.split(",")]
    lines = caller_lines(args.lines)
    models.warm_whisper()
    audio = asyncio.run(spoken(lines))
    terms = load_vocabulary(ROOT / "data" / "knowledge.json", {"name": "Bright Smile Dental"})
    prompt = whisper_prompt(terms)
    fixer = SoundalikeFixer([*WEEKDAYS, *terms], tokenizer_words())
    heard: dict[int, list[list[str]]] = {c: [] for c in cuts}
    kept = 0
    for ulaw in audio:
        pauses = {c: last_pause(ulaw, c if c < TurnPolicy().pause_ms else None) for c in cuts}
        if any(p is None for p in pauses.values()):
            for c in cuts:
                heard[c].append([])
            continue
        kept += 1
        for c, pause in pauses.items():
            assert pause is not None
            heard[c].append(words(fixer.fix(transcribe(pause.words, prompt).text)))
    refs = [words(line) for line in lines]
    longest = max(cuts)
    print(f"{len(lines)} caller lines, {kept} with a pause; whisper tiny.en primed + fixer")
    print(f"{'cut':>6} {'same as ' + str(longest) + ' ms':>16} {'WER':>7} {'last word':>11}")
    rows: list[Any] = []
    for c in cuts:
        same = sum(1 for a, b in zip(heard[c], heard[longest], strict=True) if a == b and a)
        wer = sum(errors(r, h) for r, h in zip(refs, heard[c], strict=True) if h) / max(
            1, sum(len(r) for r, h in zip(refs, heard[c], strict=True) if h))
        last = sum(1 for r, h in zip(refs, heard[c], strict=True) if h and r and h[-1] == r[-1])
        rows.append((c, same, wer, last))
        print(f"{c:>4} ms {same:>9}/{kept:<6} {100 * wer:>6.1f}% {last:>5}/{kept:<5}")
    for c in cuts:
        if c == longest:
            continue
        for line, r, a, b in zip(lines, refs, heard[c], heard[longest], strict=True):
            if a and b and a[-1:] != b[-1:]:
                mark = "lost" if b[-1:] == r[-1:] else ("won" if a[-1:] == r[-1:] else "both off")
                print(f"  {c} ms {mark}: {line!r}: {' '.join(a)!r} vs {' '.join(b)!r}")


if __name__ == "__main__":
    main()
