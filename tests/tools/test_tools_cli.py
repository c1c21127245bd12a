"""`appointments list` and `tickets list` through a real argparse parser."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pytest
from tools_testkit import NY

from tools.cli import register
from tools.storage import DATABASE_URL_ENV, Storage


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="dialflow")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def filled(storage: Storage) -> Storage:
    start = dt.datetime(2026, 12, 2, 10, 0, tzinfo=NY)
    for i, (name, phone) in enumerate([("Ann Lee", "+15551230001"), ("Bo Park", "+15559870002")]):
        appt = storage.book(
            name=name, phone=phone, start=start + dt.timedelta(hours=i),
            end=start + dt.timedelta(hours=i, minutes=30), timezone="America/New_York",
            reason="cleaning\nand check-up", call_id=f"CA{i}",
        )
    storage.cancel(appt.id, phone="+15559870002")
    storage.create_ticket(
        reason="billing", summary="Asked about a refund for the last visit.",
        caller_phone="+15551230001", call_id="CA9",
    )
    return storage


def test_appointments_list(filled: Storage, db_url: str, capsys) -> None:
    assert main(["appointments", "list", "--database-url", db_url]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "WHEN", "NAME", "PHONE", "REASON", "STATUS", "CALL"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert "Wed 2026-12-02 10:00-10:30 EST" in lines[2]
    assert "Ann Lee" in lines[2] and "***0001" in lines[2] and "booked" in lines[2]
    assert "cleaning and check-up" in lines[2]
    assert "Bo Park" in lines[3] and "***0002" in lines[3] and "cancelled" in lines[3]
    assert "5551230001" not in out and "5559870002" not in out
    assert lines[-1] == "2 appointments"


def test_appointments_status_filter_and_limit(filled: Storage, db_url: str, capsys) -> None:
    main(["appointments", "list", "--database-url", db_url, "--status", "cancelled"])
    out = capsys.readouterr().out
    assert "Bo Park" in out and "Ann Lee" not in out
    main(["appointments", "list", "--database-url", db_url, "--limit", "1"])
    assert capsys.readouterr().out.splitlines()[-1] == "1 appointment"


def test_tickets_list_uses_env_url(filled, db_url, capsys, monkeypatch) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, db_url)
    assert main(["tickets", "list"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == [
        "ID", "CREATED", "REASON", "SUMMARY", "PHONE", "STATUS", "CALL"
    ]
    assert "billing" in out and "***0001" in out and "open" in out and "CA9" in out
    assert "Asked about a refund for the last visit." in out
    assert "5551230001" not in out


def test_missing_database_is_not_created(tmp_path: Path, capsys) -> None:
    target = tmp_path / "none.db"
    assert main(["tickets", "list", "--database-url", f"sqlite:///{target}"]) == 0
    assert "No tickets yet" in capsys.readouterr().out
    assert not target.exists()


def test_empty_database(storage: Storage, db_url: str, capsys) -> None:
    assert main(["appointments", "list", "--database-url", db_url]) == 0
    assert capsys.readouterr().out.strip() == "No appointments."


def test_bad_urls_fail_clearly_without_the_password(capsys) -> None:
    assert main(["appointments", "list", "--database-url", "not a url"]) == 1
    assert "not a valid SQLAlchemy URL" in capsys.readouterr().err
    url = "nosuchdb://admin:hunter2@127.0.0.1/x"
    assert main(["appointments", "list", "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "hunter2" not in err


def test_subcommand_is_required(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["appointments"])
    assert info.value.code == 2
    with pytest.raises(SystemExit):
        main(["tickets", "list", "--limit", "0"])
