"""`dialflow replay CALL [--flow OTHER.yaml]` and `dialflow replay --all DIR [--flow …]`:
re-run recorded calls on virtual time with their recorded answers as fakes.

Without `--flow` a call replays against the flow version it ran on and must give the same
trace (exit 0), else the first divergence is printed side by side (exit 1). With `--flow`
it is the review of a flow edit: which calls would go differently, and where (state, event
and the line of the new flow responsible). Exit 2 when a log or flow cannot be read.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.app.commands.quiet_logs import quiet_logs
from engine.records.compare import first_divergence, side_by_side
from engine.records.log import LogInvalid, read_log
from engine.records.privacy import DataDirs
from engine.records.replay import ReplayError, ReplayResult, replay
from engine.records.summary import find_log, logs_in
from flows import Flow, FlowInvalid, load_flow


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("replay", help="replay recorded calls on virtual time",
                                   description=__doc__,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("call", nargs="?", help="an event-log file, or a call id under "
                        "the data directory")
    parser.add_argument("--all", metavar="DIR", help="replay every log in DIR and summarise")
    parser.add_argument("--flow", help="replay against this flow file instead of the "
                        "recorded version")
    parser.add_argument("--data", help="the data directory (default $DIALFLOW_DATA or data)")
    parser.add_argument("--trace", action="store_true", help="print the replayed trace")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with quiet_logs(args.verbose):  # recorded failures are in the trace already
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    if bool(args.call) == bool(args.all):
        print("dialflow replay: give one CALL (a log file or a call id) or --all DIR")
        return 2
    try:
        flow = load_flow(args.flow) if args.flow else None
    except FlowInvalid as exc:
        print(f"dialflow replay: {exc}")
        return 2
    if args.all:
        return _batch(Path(args.all), flow)
    calls = DataDirs.from_env(root=args.data).calls
    try:
        result = replay(read_log(find_log(args.call, calls)), flow)
    except (LogInvalid, ReplayError, FlowInvalid) as exc:
        print(f"dialflow replay: {exc}")
        return 2
    print(report(result, show_trace=args.trace))
    return 0 if _same(result) else 1


def _same(result: ReplayResult) -> bool:
    return first_divergence(result) is None and not result.stopped


def report(result: ReplayResult, show_trace: bool = False) -> str:
    log = result.log
    against = f"flow {result.flow.path}" if result.flow.path else "the recorded flow"
    divergence = first_divergence(result)
    lines = []
    if divergence is None and not result.stopped:
        lines.append(f"SAME     {log.call_id}: {len(log.entries)} events replayed to an "
                     f"identical trace on {against}")
    else:
        lines.append(f"CHANGED  {log.call_id} on {against}")
        if divergence is not None:
            lines.append(f"  first divergence: {divergence.summary(result.flow.path)}")
            lines.append(side_by_side(result, divergence))
        if result.stopped:
            lines.append(f"  replay stopped at {result.stopped_at:.3f}s: {result.stopped}")
    if log.full:
        lines.append("  note: the log reached its size cap; the rest of the call is missing")
    if log.torn:
        lines.append(f"  note: {log.torn} torn line(s) skipped (the process died mid-write)")
    if show_trace:
        lines.append("  replayed trace:")
        lines += [f"    {e.format()}" for e in result.trace.entries]
    return "\n".join(lines)


def _batch(directory: Path, flow: Flow | None) -> int:
    paths = logs_in(directory)
    if not paths:
        print(f"dialflow replay: no event logs (*.jsonl.gz) in {directory}")
        return 2
    same, changed, failed = 0, [], []
    for path in paths:
        try:
            result = replay(read_log(path), flow)
        except (LogInvalid, ReplayError, FlowInvalid) as exc:
            failed.append(str(exc))
            continue
        if _same(result):
            same += 1
            continue
        divergence = first_divergence(result)
        where = divergence.summary(result.flow.path) if divergence else "same trace"
        stop = f"\n      stopped: {result.stopped}" if result.stopped else ""
        changed.append(f"  {result.log.call_id}: {where}{stop}")
    target = f"on {flow.path}" if flow else "on their recorded flows"
    print(f"{len(paths)} call(s) replayed {target}: {same} same, {len(changed)} changed"
          + (f", {len(failed)} could not be replayed" if failed else ""))
    for line in changed:
        print(line)
    for line in failed:
        print(f"  cannot replay: {line}")
    return 2 if failed else 1 if changed else 0
