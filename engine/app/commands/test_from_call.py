"""`dialflow test --from-call CALL -o tests/scripts/NAME.yaml [--flow FILE]`: turn a recorded
call into an event script, run it at once, and say whether it passes as generated.

CALL is an event-log file or a call id under the data directory. The script runs against
`--flow` if given (written into the script as `flow:`), else the nearest flows.yaml above it,
like any other script. Exit 0 when the new script passes, 1 when it does not (its report says
why: usually the flow it runs on is not the one the call ran on), 2 on bad input.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from engine.records.from_call import write_script
from engine.records.log import LogInvalid, read_log
from engine.records.privacy import DataDirs
from engine.records.summary import find_log
from engine.scripts import ScriptInvalid
from engine.scripts.report import format_result
from flows import FlowInvalid


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from-call", metavar="CALL", help="write an event script from a "
                        "recorded call (a log file or a call id) to -o, then run it")
    parser.add_argument("-o", "--output", help="the script --from-call writes")
    parser.add_argument("--data", help="the data directory (default $DIALFLOW_DATA or data)")


def run(args: argparse.Namespace) -> int:
    if not args.output:
        print("dialflow test --from-call: say where to write the script: -o tests/scripts/"
              "NAME.yaml")
        return 2
    output = Path(args.output)
    flow = os.path.relpath(Path(args.flow).resolve(), output.resolve().parent) \
        if args.flow else None
    try:
        log = read_log(find_log(args.from_call, DataDirs.from_env(root=args.data).calls))
        result, decimals = write_script(log, output, flow=flow)
    except (LogInvalid, ScriptInvalid, FlowInvalid) as exc:
        print(f"dialflow test --from-call: {exc}")
        return 2
    steps = len(result.script.steps)
    if result.passed:
        print(f"wrote {output}: {steps} steps from call {log.call_id} (times to "
              f"{10 ** -decimals:g}s); it passes")
        return 0
    print(f"wrote {output}: {steps} steps from call {log.call_id}, but it does not pass on "
          f"{result.script.flow_path} (was the call on another flow version?)")
    print(format_result(result))
    return 1
