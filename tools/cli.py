"""`dialflow appointments list` and `dialflow tickets list`: what calls produced, as tables.

`register(subparsers)` adds both commands to the `dialflow` CLI; each handler takes the
parsed args and returns an exit code. Phone numbers are shown redacted (last 4 digits).
Reads the database (never creates one) and writes to stdout/stderr only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from engine.redaction import redact_number
from tools.storage import BOOKED, CANCELLED, DATABASE_URL_ENV, Storage, database_url

MAX_TEXT = 40


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=None,
        help=f"SQLAlchemy URL (default: ${DATABASE_URL_ENV} or {database_url({})})",
    )
    parser.add_argument("--limit", type=_positive_int, default=None, help="show at most N rows")


def register(subparsers: Any) -> None:
    """Add `appointments list` and `tickets list` to an argparse subparsers object."""
    appointments = subparsers.add_parser("appointments", help="appointments booked by calls")
    appt_commands = appointments.add_subparsers(dest="appointments_command", metavar="COMMAND")
    appt_commands.required = True
    appt_list = appt_commands.add_parser("list", help="list appointments by start time")
    _add_common(appt_list)
    appt_list.add_argument(
        "--status", choices=(BOOKED, CANCELLED, "all"), default="all", help="default: all"
    )
    appt_list.set_defaults(func=list_appointments)

    tickets = subparsers.add_parser("tickets", help="callback tickets created by calls")
    ticket_commands = tickets.add_subparsers(dest="tickets_command", metavar="COMMAND")
    ticket_commands.required = True
    ticket_list = ticket_commands.add_parser("list", help="list tickets, newest first")
    _add_common(ticket_list)
    ticket_list.add_argument("--status", default="all", help="e.g. open (default: all)")
    ticket_list.set_defaults(func=list_tickets)


def _short(text: str | None, limit: int = MAX_TEXT) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a dashed rule under the header."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [headers, ["-" * w for w in widths], *rows]
    ]
    return "\n".join(lines)


def _local(moment: dt.datetime, tz_name: str | None) -> dt.datetime:
    try:
        return moment.astimezone(ZoneInfo(tz_name)) if tz_name else moment
    except (ZoneInfoNotFoundError, ValueError):
        return moment


def _open_storage(args: argparse.Namespace, err: TextIO) -> Storage | int | None:
    """The storage, None when there is no database yet, or an exit code on error.

    Error messages never echo the URL's password.
    """
    url = args.database_url or database_url()
    try:
        parsed = make_url(url)
    except ArgumentError:
        print("error: the database URL is not a valid SQLAlchemy URL", file=err)
        return 1
    safe = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        db = parsed.database or ""
        if db not in ("", ":memory:") and not db.startswith("file:") and not Path(db).exists():
            return None
    try:
        storage = Storage(url, create_schema=False)
        if not storage.has_schema():
            storage.close()
            return None
        return storage
    except NoSuchModuleError:
        print(f"error: unknown database kind or driver in {safe}", file=err)
    except ImportError as exc:
        print(f"error: the database driver {exc.name or ''} is not installed", file=err)
    except SQLAlchemyError as exc:
        print(f"error: cannot open the database {safe} ({type(exc).__name__})", file=err)
    return 1


def _run(
    args: argparse.Namespace,
    what: str,
    fetch: Callable[[Storage], list[Any]],
    to_row: Callable[[Any], list[str]],
    headers: Sequence[str],
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    storage = _open_storage(args, err)
    if isinstance(storage, int):
        return storage
    if storage is None:
        print(f"No {what} yet (no database has been written).", file=out)
        return 0
    try:
        items = fetch(storage)
    except SQLAlchemyError as exc:
        print(f"error: cannot read {what} ({type(exc).__name__})", file=err)
        return 1
    finally:
        storage.close()
    if not items:
        print(f"No {what}.", file=out)
        return 0
    print(format_table(headers, [to_row(item) for item in items]), file=out)
    noun = what if len(items) != 1 else what.removesuffix("s")
    print(f"\n{len(items)} {noun}", file=out)
    return 0


def list_appointments(args: argparse.Namespace) -> int:
    """Handler of `appointments list`."""
    status = None if args.status == "all" else args.status

    def to_row(appt: Any) -> list[str]:
        start, end = _local(appt.start, appt.timezone), _local(appt.end, appt.timezone)
        return [
            str(appt.id), f"{start:%a %Y-%m-%d %H:%M}-{end:%H:%M} {start:%Z}", _short(appt.name),
            _phone(appt.phone), _short(appt.reason), appt.status, appt.call_id or "-",
        ]

    return _run(
        args,
        "appointments",
        lambda s: s.list_appointments(status=status, limit=args.limit),
        to_row,
        ["ID", "WHEN", "NAME", "PHONE", "REASON", "STATUS", "CALL"],
    )


def list_tickets(args: argparse.Namespace) -> int:
    """Handler of `tickets list`."""
    status = None if args.status == "all" else args.status

    def to_row(ticket: Any) -> list[str]:
        return [
            str(ticket.id), f"{ticket.created_at:%Y-%m-%d %H:%M} UTC", _short(ticket.reason),
            _short(ticket.summary, 60), _phone(ticket.caller_phone), ticket.status,
            ticket.call_id or "-",
        ]

    return _run(
        args,
        "tickets",
        lambda s: s.list_tickets(status=status, limit=args.limit),
        to_row,
        ["ID", "CREATED", "REASON", "SUMMARY", "PHONE", "STATUS", "CALL"],
    )


def _phone(number: str | None) -> str:
    """A stored number as listings show it: redacted like the logs, `-` when there is none."""
    return redact_number(number) if number else "-"
