"""Memory the silero VAD pool keeps after a burst of concurrent calls.

Takes one VAD per call for a burst of `--calls` concurrent calls (each runs one window),
gives them all back, then lets the pool trim as its idle timer would. Prints the process's
resident memory before, at the peak and after the trim, and the pool's size.
Run: `.venv/bin/python -m bench.vad_pool_bench --calls 100`.
"""

from __future__ import annotations

import argparse
import gc
import os
import time

import numpy as np

from adapters.local import models


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    models.warm_vad()
    gc.collect()
    before = rss_mb()
    vads = [models.take_vad() for _ in range(args.calls)]
    window = np.zeros(vads[0].window_size_samples, np.float32)
    for vad in vads:
        vad.process(memoryview(window.data))
    peak = rss_mb()
    for vad in vads:
        models.give_back_vad(vad)
    del vads, vad
    held = models.vad_pool.idle
    released = models.vad_pool.trim(now=time.monotonic() + models.VAD_IDLE_SECONDS)
    gc.collect()
    after = rss_mb()
    print(f"burst of {args.calls} calls: RSS before {before:.0f} MB, peak {peak:.0f} MB "
          f"(+{(peak - before) / args.calls:.1f} MB per call), after the idle trim "
          f"{after:.0f} MB (+{after - before:.0f} MB); pool {held} -> {models.vad_pool.idle} "
          f"VADs ({released} released after {models.VAD_IDLE_SECONDS:.0f} s idle)")


if __name__ == "__main__":
    main()
