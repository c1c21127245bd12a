"""Worker processes for the PostgreSQL tests (run as `python pg_worker.py COMMAND DB_URL ...`).

`hold DB_URL`: opens a transaction that writes a ticket and books the contested slot,
prints HOLDING, then sleeps inside the transaction until it is killed.
Touches only the database URL it is given.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy.orm import Session  # noqa: E402

from tools.storage import BOOKED, AppointmentRow, Storage, TicketRow, utc_now  # noqa: E402

HALF_WRITTEN = "half-written by a worker that is killed"
# Outside the racers' numbers (+1555<p>00<i>), so a racer's row can never look like the holder's.
HOLDER_PHONE = "+15559999999"


def hold(db_url: str, start_iso: str) -> None:
    start = dt.datetime.fromisoformat(start_iso)
    storage = Storage(db_url)
    with storage.engine.connect() as connection, connection.begin():
        session = Session(bind=connection)
        session.add(TicketRow(reason="other", summary=HALF_WRITTEN, caller_phone=None,
                              call_id="CA-killed", status="open", created_at=utc_now()))
        session.add(AppointmentRow(
            name="Killed Worker", phone=HOLDER_PHONE, start_at=start,
            end_at=start + dt.timedelta(minutes=30), timezone="America/New_York",
            reason=HALF_WRITTEN, status=BOOKED, call_id="CA-killed", created_at=utc_now()))
        session.flush()
        print("HOLDING", flush=True)
        time.sleep(3600)


if __name__ == "__main__" and sys.argv[1:2] == ["hold"]:
    hold(sys.argv[2], sys.argv[3])
