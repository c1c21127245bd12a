"""The first piece piper renders: knowledge answers against the rules brain's other lines.

    python -m bench.first_clause_bench [-v]

Nothing is heard until piper has rendered a reply's first piece (`adapters.local.clauses`),
so its length sets the start of speech. Knowledge answers are `spoken_answer` of every entry
of data/knowledge.json (asked by its title); the other lines are the sentence-like string
constants of the rules brain's dialogue modules (prompts, confirmations; a rough sample).
Printed per group: the first piece's length (chars, p50 and max) and piper's CPU time to
render it (process CPU, p50 and p90: the figure load affects least; piper runs one
onnxruntime thread). `-v` lists the slowest first pieces. Loads piper; touches nothing else.
"""

from __future__ import annotations

import ast
import json
import re
import statistics
import sys
import time
from pathlib import Path

from adapters.local import models
from adapters.local.brain.answers import spoken_answer
from adapters.local.clauses import split_clauses

ROOT = Path(__file__).resolve().parents[1]
DIALOGUE = ("replies", "booking", "handoff", "check_cancel", "reschedule")
_SENTENCE = re.compile(r"^[A-Z][^\n`]*[.?!]$")


def knowledge_answers() -> list[str]:
    data = json.loads((ROOT / "data" / "knowledge.json").read_text())
    entries = data if isinstance(data, list) else data["entries"]
    return [" ".join(spoken_answer(e["text"], e["title"])) for e in entries]


def other_lines() -> list[str]:
    lines: set[str] = set()
    for name in DIALOGUE:
        tree = ast.parse((ROOT / "adapters" / "local" / "brain" / f"{name}.py").read_text())
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef) and n.body
                      and isinstance(n.body[0], ast.Expr)}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                    and id(node) not in docstrings):
                text = node.value.strip()
                if _SENTENCE.match(text) and " " in text and len(text) > 12:
                    lines.add(text)
    return sorted(lines)


def main(verbose: bool = False) -> None:
    from piper import SynthesisConfig

    voice = models.piper_voice()
    config = SynthesisConfig(volume=0.9)

    def render_cpu(text: str) -> float:
        start = time.process_time()
        for _ in voice.synthesize(text, syn_config=config):
            pass
        return time.process_time() - start

    render_cpu("Warm up.")
    groups = (("knowledge answers", knowledge_answers()), ("other lines", other_lines()))
    for group, texts in groups:
        firsts = [pieces[0] for pieces in map(split_clauses, texts) if pieces]
        lengths = [len(f) for f in firsts]
        cpu = sorted(render_cpu(f) for f in firsts)
        print(f"{group}: n={len(firsts)}, first piece {statistics.median(lengths):.0f} chars "
              f"p50 (max {max(lengths)}), piper CPU p50 {statistics.median(cpu) * 1000:.0f} ms, "
              f"p90 {cpu[int(0.9 * (len(cpu) - 1))] * 1000:.0f} ms")
        if verbose:
            for first in sorted(firsts, key=len, reverse=True)[:5]:
                print(f"    {first!r}")


if __name__ == "__main__":
    main("-v" in sys.argv[1:])
