"""Checks that each held-out paraphrase is new: it shares at most half of its content words
(knowledge.lexical's stems, synonyms mapped) with any single tune question.

    python -m bench.paraphrase_overlap        # lists offenders, exit 1 when there are any

Reads tests/conversations/paraphrases.yaml; touches nothing else.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from knowledge.lexical import content_stems  # noqa: E402

PARAPHRASES = ROOT / "tests" / "conversations" / "paraphrases.yaml"


def worst_overlap(question: str, tune: list[str]) -> tuple[float, str]:
    """The largest share of `question`'s content words found in one tune question."""
    words = set(content_stems(question))
    if not words:
        return 1.0, "(no content words)"
    best = max(((len(words & set(content_stems(t))) / len(words), t) for t in tune),
               default=(0.0, ""))
    return best


def main() -> int:
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


if __name__ == "__main__":
    raise SystemExit(main())
