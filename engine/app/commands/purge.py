"""`dialflow purge [--flow flows.yaml] [--days N] [--dry-run]`: delete call records older
than `settings.privacy.retention_days` (default 30): event logs, recordings, transcripts,
and flow versions no remaining log uses. The server does the same once an hour."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.records.privacy import DataDirs, PrivacySettings
from engine.records.retention import purge
from flows import FlowInvalid, load_flow


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("purge", help="delete expired call records",
                                   description=__doc__)
    parser.add_argument("--flow", default="flows.yaml",
                        help="the flow whose settings.privacy.retention_days applies")
    parser.add_argument("--days", type=int, help="override the retention, in days")
    parser.add_argument("--data", help="the data directory (default $DIALFLOW_DATA or data)")
    parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    days = args.days
    if days is None:
        if Path(args.flow).exists():
            try:
                days = load_flow(args.flow).settings.privacy \
                    .retention_days
            except FlowInvalid as exc:
                print(f"dialflow purge: {exc}")
                return 2
        else:
            days = PrivacySettings().retention_days
    if days < 1:
        print("dialflow purge: --days must be at least 1")
        return 2
    report = purge(DataDirs.from_env(root=args.data), days, dry_run=args.dry_run)
    for path, _ in report.removed:
        print(f"{'would remove' if args.dry_run else 'removed'} {path}")
    for problem in report.failed:
        print(f"could not remove {problem}")
    print(f"retention {days} days: {report.summary()}")
    return 1 if report.failed else 0
