"""Human-readable results of event scripts: a pass line, or expected vs actual with the trace.

On failure the trace is printed with each step's line from the script in front of the
entries it produced, so the mismatch can be read next to what really happened.
"""

from __future__ import annotations

from engine.scripts.runner import ScriptResult


def format_result(result: ScriptResult, show_trace: bool = False) -> str:
    script = result.script
    if result.passed and not show_trace:
        return f"PASS  {script.path}  {script.name}"
    head = "PASS" if result.passed else "FAIL"
    lines = [f"{head}  {script.path}  {script.name}", f"  flow: {script.flow_path}"]
    lines += [f"  {failure}" for failure in result.failures]
    lines.append("  trace (time, event, state, effects):")
    marks = list(result.marks)
    for index, entry in enumerate(result.trace.entries):
        while marks and marks[0][0] <= index:
            step = marks.pop(0)[1]
            lines.append(f"    -- line {step.line}: {step.label()}")
        lines.append(f"    {entry.format()}")
    lines += [f"    -- line {step.line}: {step.label()}" for _, step in marks]
    return "\n".join(lines)
