"""The event-log writer's costs and its encoding: the logs of one loop iteration are written by
one callback for all of them, each log's lines are in the OS once that iteration is over (a
long batch in slices, the loop running between them), and values orjson refuses are still
written (through the standard encoder)."""

from __future__ import annotations

import asyncio
import json
import zlib
from pathlib import Path

import pytest

from engine.records.log import EventLogWriter, encode_line, read_log
from engine.transcripts import SYNCER


def _lines_on_disk(path: Path) -> list[dict]:
    """What a reader sees of a live log now (the stream is not closed)."""
    text = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(path.read_bytes())
    return [json.loads(line) for line in text.splitlines()]


def test_one_callback_drains_every_log_written_in_an_iteration(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.records.log as log_module

    monkeypatch.setattr(log_module, "PUMP_SLICE", 60.0)  # no slicing (tested below)

    async def main() -> tuple[int, list[int]]:
        loop = asyncio.get_running_loop()
        writers = [EventLogWriter(tmp_path / f"CA{n}.jsonl.gz") for n in range(50)]
        scheduled = 0
        original = loop.call_soon

        def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal scheduled
            scheduled += 1
            return original(*args, **kwargs)

        loop.call_soon = counting  # type: ignore[method-assign]
        try:
            for n, writer in enumerate(writers):
                writer.write({"v": 1, "k": "call", "id": f"CA{n}"})
                writer.write({"k": "ev", "t": 0.1, "e": "call.started", "b": "greeting"})
        finally:
            loop.call_soon = original  # type: ignore[method-assign]
        await asyncio.sleep(0)  # the iteration is over: its lines are in the OS
        seen = [len(_lines_on_disk(w.path)) for w in writers]
        for writer in writers:
            writer.close()
        return scheduled, seen

    scheduled, seen = asyncio.run(main())
    SYNCER.wait_idle()
    assert scheduled == 1
    assert seen == [2] * 50


def test_a_log_written_again_in_a_later_iteration_is_drained_again(tmp_path: Path) -> None:
    async def main() -> list[int]:
        writer = EventLogWriter(tmp_path / "CA1.jsonl.gz")
        seen = []
        for n in range(3):
            writer.write({"k": "ev", "t": n, "e": "caller.dtmf", "d": {"digit": "1"}})
            await asyncio.sleep(0)
            seen.append(len(_lines_on_disk(writer.path)))
        writer.close()
        return seen

    assert asyncio.run(main()) == [1, 2, 3]
    SYNCER.wait_idle()


def test_values_orjson_refuses_are_still_written(tmp_path: Path) -> None:
    writer = EventLogWriter(tmp_path / "odd.jsonl.gz")
    writer.write({"v": 1, "k": "call", "id": "CA-odd"})
    writer.write({"k": "ev", "t": 1, "e": "caller.utterance", "b": "x",
                  "d": {"text": "broken \udc80 text", "big": 2 ** 70, "when": {1, 2}}})
    writer.write({"k": "ev", "t": 2, "e": "caller.utterance", "b": "x", "d": {"text": "é ☎"}})
    writer.close()
    SYNCER.wait_idle()
    log = read_log(writer.path)
    assert log.torn == 0 and len(log.entries) == 2
    first, second = log.entries
    assert first.data == {"text": "broken \udc80 text", "big": 2 ** 70, "when": "{1, 2}"}
    assert second.data == {"text": "é ☎"}


def test_lines_are_the_compact_json_the_standard_encoder_wrote() -> None:
    record = {"k": "tool", "t": 1.5, "args": {"n": 3, "ok": True, "none": None},
              "text": "Café ☎ \"quoted\"", "tuple": (1, 2), 7: "int key"}
    expected = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
    assert encode_line(record) == (expected + "\n").encode("utf-8")


def test_logs_older_writers_wrote_with_nan_still_read(tmp_path: Path) -> None:
    """The standard encoder wrote NaN as `NaN` (not JSON); the reader still takes it."""
    import gzip

    path = tmp_path / "old.jsonl.gz"
    path.write_bytes(gzip.compress(
        b'{"v":1,"k":"call","id":"CA-old"}\n'
        b'{"k":"ev","t":1,"e":"caller.utterance","d":{"confidence":NaN},"b":"x"}\n'))
    log = read_log(path)
    assert log.torn == 0 and len(log.entries) == 1
    assert log.entries[0].data["confidence"] != log.entries[0].data["confidence"]  # NaN


def test_a_long_batch_is_written_in_slices_with_the_loop_running_between(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.records.log as log_module

    monkeypatch.setattr(log_module, "PUMP_SLICE", 0.0)  # one log per slice

    async def main() -> list[list[int]]:
        writers = [EventLogWriter(tmp_path / f"CA{n}.jsonl.gz") for n in range(3)]
        for writer in writers:
            writer.write({"k": "ev", "t": 0.1, "e": "call.started", "b": "greeting"})
        seen = []
        for _ in range(3):
            await asyncio.sleep(0)  # a pass of the loop: its sockets, then the next slice
            seen.append([len(_lines_on_disk(w.path)) for w in writers])
        for writer in writers:
            writer.close()
        return seen

    assert asyncio.run(main()) == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    SYNCER.wait_idle()
