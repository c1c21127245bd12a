"""Real concurrency and crashes: 50 racing bookings make one appointment; kill -9 loses nothing
that was committed."""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import tools_testkit
from tools_testkit import book_from_threads, process_worker

from tools.storage import Storage

SLOT_DATE, SLOT_TIME = "2026-12-02", "10:00"


def _check_one_winner(results: list[dict], storage: Storage) -> None:
    winners = [r for r in results if r["ok"]]
    losers = [r for r in results if not r["ok"]]
    assert len(results) == 50
    assert len(winners) == 1, winners
    assert {(r["error"]["code"], r["error"]["reason"]) for r in losers} == {
        ("slot_unavailable", "taken")
    }
    booked = storage.list_appointments(status="booked")
    assert len(booked) == 1
    assert booked[0].id == winners[0]["data"]["appointment_id"]


def test_fifty_threads_race_for_one_slot(storage: Storage) -> None:
    phones = [f"+1555100{i:04d}" for i in range(50)]
    results = book_from_threads(storage, phones, SLOT_DATE, SLOT_TIME)
    _check_one_winner(results, storage)


def test_fifty_attempts_from_five_processes_race_for_one_slot(db_url: str) -> None:
    spawn = multiprocessing.get_context("spawn")
    barrier, queue = spawn.Barrier(5), spawn.Queue()
    procs = [
        spawn.Process(
            target=process_worker,
            args=(db_url, [f"+1555{p}00{i:04d}" for i in range(10)], SLOT_DATE, SLOT_TIME,
                  barrier, queue),
        )
        for p in range(5)
    ]
    for proc in procs:
        proc.start()
    try:
        results = [r for _ in procs for r in queue.get(timeout=120)]
    finally:
        for proc in procs:
            proc.join(30)
    assert [proc.exitcode for proc in procs] == [0] * 5
    storage = Storage(db_url)
    try:
        _check_one_winner(results, storage)
    finally:
        storage.close()


def test_committed_appointments_survive_kill_9(tmp_path: Path) -> None:
    db_file = tmp_path / "crash.db"
    env = {**os.environ, "PYTHONPATH": str(tools_testkit.ROOT)}
    proc = subprocess.Popen(
        [sys.executable, tools_testkit.__file__, "book-forever", f"sqlite:///{db_file}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    seen: list[int] = []
    try:
        assert proc.stdout is not None
        while len(seen) < 40:
            line = proc.stdout.readline()
            assert line, f"the booking process stopped early: {proc.stderr.read()}"  # type: ignore[union-attr]
            assert not line.startswith("ERROR"), line
            seen.append(int(line))
        os.kill(proc.pid, signal.SIGKILL)  # mid-way: it is still booking
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    seen += [int(line) for line in rest.split() if line.isdigit()]
    assert len(seen) >= 40

    conn = sqlite3.connect(db_file)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = {row[0] for row in conn.execute("SELECT id FROM appointments")}
    finally:
        conn.close()
    missing = set(seen) - stored
    assert not missing, f"committed appointments lost after kill -9: {sorted(missing)}"
