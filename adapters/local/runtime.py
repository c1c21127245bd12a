"""How the local models' onnxruntime sessions use threads (piper, Smart Turn, embeddings).

Every local model shares two cores with the event loop and with each other. onnxruntime's
intra-op pool threads spin by default between the operators of a run (and a little after
it), burning a core that whisper or another call's piper needs; `session_options(threads)`
gives a session `threads` intra-op threads, sequential execution and no spinning
(`session.intra_op.allow_spinning` / `session.inter_op.allow_spinning` = "0").
Measured with bench/spin_bench.py (shared machine, load 10): piper's own loader (default
options: one spinning thread per core) used 623 ms of CPU per clause, one thread without
spinning 263 ms. Whisper (CTranslate2 on OpenMP) is not set here: `OMP_WAIT_POLICY=PASSIVE`
and one thread instead of two changed its CPU per job by less than the run-to-run spread.
Touches onnxruntime's options only.
"""

from __future__ import annotations

from typing import Any

SPINNING = False  # bench/spin_bench.py: spinning costs CPU another job needs, and no latency
SPIN_ENTRIES = ("session.intra_op.allow_spinning", "session.inter_op.allow_spinning")


def session_options(threads: int = 1, spinning: bool | None = None) -> Any:
    """onnxruntime `SessionOptions` for one shared local model."""
    import onnxruntime as ort

    if threads < 1:
        raise ValueError(f"a session needs at least one thread, got {threads}")
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    spin = SPINNING if spinning is None else spinning
    for entry in SPIN_ENTRIES:
        options.add_session_config_entry(entry, "1" if spin else "0")
    return options
