"""Checks that a held-out set is new: each held-out paraphrase shares at most half of its
content words (knowledge.lexical's stems, synonyms mapped) with any single tune question, and
(--calls) each caller line of a held-out call set at most half with any line of the other
calls.

    python -m bench.paraphrase_overlap              # paraphrases; exit 1 on any offender
    python -m bench.paraphrase_overlap --calls h11- # the calls whose id starts with h11-

In call lines the closing words (`GLUE`: thanks, bye, goodbye) do not count, and a line with
fewer than `MIN_WORDS` content words left ("Yes.", "Monday.", "Great, thanks, bye.") is
conversation glue that every call shares: it is counted apart, not judged.
Reads tests/conversations/paraphrases.yaml and calls.yaml; touches nothing else.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.lexical import content_stems  # noqa: E402

PARAPHRASES = ROOT / "tests" / "conversations" / "paraphrases.yaml"
CALLS = ROOT / "tests" / "conversations" / "calls.yaml"
#: Call lines with fewer content words than this are not judged (see the docstring).
MIN_WORDS = 3
#: Stems of the words every call ends with.
GLUE = frozenset({"thank", "bye", "goodb"})


def worst_overlap(question: str, tune: list[str],
                  glue: frozenset[str] = frozenset()) -> tuple[float, str]:
    """The largest share of `question`'s content words (less `glue`) found in one tune
    question."""
    words = set(content_stems(question)) - glue
    if not words:
        return 1.0, "(no content words)"
    best = max(((len(words & set(content_stems(t))) / len(words), t) for t in tune),
               default=(0.0, ""))
    return best


def paraphrases() -> int:
    raw = yaml.safe_load(PARAPHRASES.read_text(encoding="utf-8"))
    tune = [q for q, _ in raw["tune"]]
    held = raw.get("heldout") or []
    bad = 0
    for question, _ in held:
        share, near = worst_overlap(question, tune)
        if share > 0.5:
            bad += 1
            print(f"{share:.2f}  {question!r}  ~ {near!r}")
    seen = [q for q, _ in held]
    dupes = {q for q in seen if seen.count(q) > 1}
    print(f"{len(held)} held-out questions ({sum(d is None for _, d in held)} unanswerable), "
          f"{bad} share more than half their content words with a tune question, "
          f"{len(dupes)} repeated")
    return 1 if bad or dupes else 0


def calls(prefix: str) -> int:
    raw = yaml.safe_load(CALLS.read_text(encoding="utf-8"))["calls"]
    held = [line["say"] for c in raw if c["id"].startswith(prefix) for line in c["lines"]]
    others = [line["say"] for c in raw if not c["id"].startswith(prefix)
              for line in c["lines"]]
    bad = short = 0
    for line in held:
        if len(set(content_stems(line)) - GLUE) < MIN_WORDS:
            short += 1
            continue
        share, near = worst_overlap(line, others, GLUE)
        if share > 0.5:
            bad += 1
            print(f"{share:.2f}  {line!r}  ~ {near!r}")
    print(f"{len(held)} caller lines in calls {prefix}*, {short} with fewer than {MIN_WORDS} "
          f"content words (not judged), {bad} share more than half their content words with "
          "a line of another call")
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", metavar="PREFIX", help="check the calls with this id prefix")
    args = parser.parse_args()
    raise SystemExit(calls(args.calls) if args.calls else paraphrases())
