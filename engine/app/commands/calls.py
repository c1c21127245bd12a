"""`dialflow calls list|show|audio|new-key`: the recorded calls in the terminal.

`list` prints recent calls (start, call id, caller redacted, duration, end state, turns,
tools used, transfer, p50 of the first agent frame after the caller's turn); `show CALL`
prints the call's timeline (states, caller and agent lines, per-turn latency stages);
`audio CALL -o out.wav` decrypts the call's recording with the key from the environment;
`new-key` prints a fresh recording key for `DIALFLOW_RECORDING_KEY`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from engine.records.log import LogInvalid, read_log, stem_of
from engine.records.privacy import KEY_ENV, DataDirs
from engine.records.summary import HEADERS, find_log, load_all, logs_in, summarise, table
from engine.records.summary import timeline as call_timeline
from engine.redaction import redact_number, redact_text


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("calls", help="list and show recorded calls",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", help="the data directory (default $DIALFLOW_DATA or data)")
    sub = parser.add_subparsers(dest="calls_command", metavar="ACTION")
    listing = sub.add_parser("list", help="recent calls, newest last")
    listing.add_argument("-n", "--last", type=int, default=20, help="how many (default 20)")
    show = sub.add_parser("show", help="one call's timeline")
    show.add_argument("call", help="an event-log file or a call id")
    audio = sub.add_parser("audio", help="decrypt a call's recording to a WAV file")
    audio.add_argument("call", help="an event-log file or a call id")
    audio.add_argument("-o", "--output", required=True, help="the WAV file to write")
    sub.add_parser("new-key", help=f"print a new key for {KEY_ENV}")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dirs = DataDirs.from_env(root=args.data)
    command = getattr(args, "calls_command", None)
    try:
        if command == "list":
            return _list(dirs, args.last)
        if command == "show":
            print(call_timeline(read_log(find_log(args.call, dirs.calls)), redact_text))
            return 0
        if command == "audio":
            return _audio(dirs, args.call, Path(args.output))
        if command == "new-key":
            from engine.records.audio import new_key

            print(new_key())
            return 0
    except LogInvalid as exc:
        print(f"dialflow calls: {exc}", file=sys.stderr)
        return 2
    print("dialflow calls: say list, show CALL, audio CALL -o FILE or new-key",
          file=sys.stderr)
    return 2


def _list(dirs: DataDirs, last: int) -> int:
    paths = logs_in(dirs.calls)[-max(last, 1):]
    logs, errors = load_all(paths)
    if not logs and not errors:
        print(f"no recorded calls in {dirs.calls}")
        return 0
    print(table([summarise(log, redact_number).row() for log in logs], HEADERS))
    for error in errors:
        print(f"  unreadable: {error}", file=sys.stderr)
    return 0


def _audio(dirs: DataDirs, ref: str, output: Path) -> int:
    from engine.records.audio import (
        RecordingKeyError,
        RecordingUnreadable,
        decrypt,
        load_key,
    )

    log_path = find_log(ref, dirs.calls)
    recording = dirs.recordings / f"{stem_of(log_path)}.wav.enc"
    if not recording.exists():
        print(f"dialflow calls: no recording for this call ({recording} does not exist; "
              "recording is off unless settings.privacy.record_audio is true)", file=sys.stderr)
        return 2
    try:
        wav, complete = decrypt(recording, load_key(os.environ.get(KEY_ENV, "")))
    except (RecordingKeyError, RecordingUnreadable) as exc:
        print(f"dialflow calls: {recording}: {exc}", file=sys.stderr)
        return 2
    output.write_bytes(wav)
    note = "" if complete else " (the recording was cut off: the call did not end cleanly)"
    print(f"wrote {output}: {(len(wav) - 58) / 16000:.1f}s of stereo audio{note}")
    return 0
