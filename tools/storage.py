"""Durable storage for what calls produce: appointments and tickets (SQLAlchemy 2).

The database is `DIALFLOW_DATABASE_URL` (any SQLAlchemy URL, e.g. PostgreSQL shared by
several servers: `postgresql://user:password@host/db` uses the psycopg 3 driver) or
`sqlite:///data/dialflow.db` relative to the working directory. The schema comes from the
Alembic migrations in `tools/migrations`, applied when a `Storage` opens. Double
booking is made impossible by the database itself: a unique index on the start of *active*
appointments (a partial index, on SQLite and PostgreSQL alike). On SQLite every connection
uses WAL, `synchronous=FULL` and a busy timeout, and every transaction is `BEGIN IMMEDIATE`,
so concurrent processes serialise their writes and each committed row survives `kill -9`.
This module touches only the database (and creates the SQLite file's folder).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    Index,
    String,
    Text,
    create_engine,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from engine.environment import DIALFLOW_DATABASE_URL
from tools.sqlite_connection import configure_sqlite, purge_cursor_refs

DEFAULT_DATABASE_URL = "sqlite:///data/dialflow.db"
DATABASE_URL_ENV = DIALFLOW_DATABASE_URL
BOOKED, CANCELLED = "booked", "cancelled"
TICKET_OPEN = "open"


def database_url(env: Mapping[str, str] | None = None) -> str:
    """The configured database URL: `DIALFLOW_DATABASE_URL`, else the SQLite default."""
    env = os.environ if env is None else env
    return env.get(DATABASE_URL_ENV) or DEFAULT_DATABASE_URL


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware datetimes in, aware UTC datetimes out; stored as naive UTC on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("storage only accepts timezone-aware datetimes")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


class AppointmentRow(Base):
    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    start_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    end_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=BOOKED)
    call_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint(f"status IN ('{BOOKED}', '{CANCELLED}')", name="ck_appointments_status"),
        CheckConstraint("end_at > start_at", name="ck_appointments_end_after_start"),
        Index(
            "uq_appointments_active_start",
            "start_at",
            unique=True,
            sqlite_where=status == BOOKED,
            postgresql_where=status == BOOKED,
        ),
    )


class TicketRow(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    reason: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    caller_phone: Mapped[str | None] = mapped_column(String(32))
    call_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=TICKET_OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class StreamClaimRow(Base):
    """A CallSid whose media stream started at `claimed_at` (see `Storage.claim_stream`)."""

    __tablename__ = "stream_claims"

    call_sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


@dataclass(frozen=True)
class Appointment:
    id: int
    name: str
    phone: str
    start: dt.datetime
    end: dt.datetime
    timezone: str
    reason: str
    status: str
    call_id: str | None
    created_at: dt.datetime
    cancelled_at: dt.datetime | None = None

    @classmethod
    def from_row(cls, row: AppointmentRow) -> Appointment:
        return cls(
            row.id, row.name, row.phone, row.start_at, row.end_at, row.timezone, row.reason,
            row.status, row.call_id, row.created_at, row.cancelled_at,
        )


@dataclass(frozen=True)
class Ticket:
    id: int
    reason: str
    summary: str
    caller_phone: str | None
    call_id: str | None
    status: str
    created_at: dt.datetime

    @classmethod
    def from_row(cls, row: TicketRow) -> Ticket:
        return cls(
            row.id, row.reason, row.summary, row.caller_phone, row.call_id, row.status,
            row.created_at,
        )


class SlotTaken(Exception):
    """Another active appointment already starts at this time (the unique index said so)."""

    def __init__(self, start: dt.datetime, holder: Appointment | None) -> None:
        super().__init__(f"the slot at {start.isoformat()} is already booked")
        self.start = start
        self.holder = holder


class Storage:
    """Appointments and tickets in one SQLAlchemy database. Thread-safe; one per process."""

    def __init__(
        self, url: str | None = None, *, busy_timeout: float = 10.0, create_schema: bool = True
    ) -> None:
        parsed = make_url(url or database_url())
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # the driver we ship
        options: dict[str, Any] = {}
        if parsed.get_backend_name() == "postgresql":
            options = {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._serial: Any = contextlib.nullcontext()
        if self.is_sqlite:
            # One connection per process, used by one thread at a time: SQLite lets one
            # writer in at a time anyway (in-process waiters queue on the lock instead of
            # busy-waiting), and a pool opened connections lazily, in the middle of the
            # first burst of calls, each with its own statement cache and list of cursor
            # weakrefs, which outlived the burst and kept its pymalloc arenas mapped. The
            # connection is made now (the schema check), so a burst makes none.
            db = parsed.database or ""
            options = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
            self._serial = threading.RLock()
            if db not in ("", ":memory:") and not db.startswith("file:"):
                Path(db).parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(parsed, **options)
        if self.is_sqlite:
            configure_sqlite(self.engine, int(busy_timeout * 1000))
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if create_schema:
            self.create_schema()

    @property
    def display_url(self) -> str:
        """The URL with any password hidden (safe for logs)."""
        return self.engine.url.render_as_string(hide_password=True)

    def create_schema(self) -> None:
        """Apply the migrations up to the newest (idempotent, safe for racing processes)."""
        from tools.migrations import upgrade

        upgrade(self.engine)

    def has_schema(self) -> bool:
        """True when the tables exist (False for a database no call has written to yet)."""
        tables = inspect(self.engine).get_table_names()
        return all(name in tables for name in Base.metadata.tables)

    def close(self) -> None:
        self.engine.dispose()

    def drop_dead_cursors(self) -> int:
        """SQLite: have `sqlite3` drop its references to closed cursors now (it keeps a
        weakref per cursor made and purges them only every 200 cursors, so up to 200 dead
        ones, each born at some moment of the last burst of calls, stay behind scattered
        over that burst's pymalloc arenas). Makes cursors until its own purge has run (at
        most 201); returns how many. Nothing for other databases."""
        if not self.is_sqlite:
            return 0
        with self._serial, self.engine.connect() as conn:
            return purge_cursor_refs(conn.connection.dbapi_connection)

    @contextmanager
    def _transaction(self) -> Iterator[Session]:
        with self._serial, self._sessions.begin() as session:
            yield session

    # -- appointments ---------------------------------------------------------------------

    def book(
        self,
        *,
        name: str,
        phone: str,
        start: dt.datetime,
        end: dt.datetime,
        timezone: str,
        reason: str,
        call_id: str | None = None,
    ) -> Appointment:
        """Insert a booked appointment; raises `SlotTaken` if an active one starts then."""
        row = AppointmentRow(
            name=name, phone=phone, start_at=start, end_at=end, timezone=timezone,
            reason=reason, status=BOOKED, call_id=call_id, created_at=utc_now(),
        )
        try:
            with self._transaction() as session:
                session.add(row)
                session.flush()
                booked = Appointment.from_row(row)
        except IntegrityError:
            holder = self.appointment_at(start)
            if holder is None:
                raise
            raise SlotTaken(start, holder) from None
        return booked

    def reschedule(
        self, appointment_id: int, *, phone: str, start: dt.datetime, end: dt.datetime,
        call_id: str | None = None,
    ) -> tuple[Appointment, Appointment] | None:
        """Move an active appointment of `phone` in ONE transaction: the new slot is booked
        first, then the old one is cancelled. Returns (old, new); None when there is no such
        active appointment; raises `SlotTaken` when the new slot is held (the old one stays
        booked: nothing is written)."""
        try:
            with self._transaction() as session:
                old = session.scalars(
                    select(AppointmentRow).where(
                        AppointmentRow.id == appointment_id, AppointmentRow.phone == phone,
                        AppointmentRow.status == BOOKED,
                    )
                ).first()
                if old is None:
                    return None
                new = AppointmentRow(
                    name=old.name, phone=old.phone, start_at=start, end_at=end,
                    timezone=old.timezone, reason=old.reason, status=BOOKED, call_id=call_id,
                    created_at=utc_now(),
                )
                session.add(new)
                session.flush()  # the unique index refuses a held slot here
                old.status, old.cancelled_at = CANCELLED, utc_now()
                session.flush()
                return Appointment.from_row(old), Appointment.from_row(new)
        except IntegrityError:
            holder = self.appointment_at(start)
            if holder is None:
                raise
            raise SlotTaken(start, holder) from None

    def appointment_at(self, start: dt.datetime) -> Appointment | None:
        """The active appointment starting at `start`, if any."""
        with self._transaction() as session:
            row = session.scalars(
                select(AppointmentRow).where(
                    AppointmentRow.start_at == start, AppointmentRow.status == BOOKED
                )
            ).first()
            return None if row is None else Appointment.from_row(row)

    def booked_starts(self, start_from: dt.datetime, start_to: dt.datetime) -> set[dt.datetime]:
        """Starts of active appointments in [start_from, start_to)."""
        with self._transaction() as session:
            rows = session.scalars(
                select(AppointmentRow.start_at).where(
                    AppointmentRow.status == BOOKED,
                    AppointmentRow.start_at >= start_from,
                    AppointmentRow.start_at < start_to,
                )
            )
            return set(rows)

    def upcoming_for_phone(self, phone: str, *, now: dt.datetime) -> list[Appointment]:
        """Active appointments for `phone` starting after `now`, soonest first."""
        with self._transaction() as session:
            rows = session.scalars(
                select(AppointmentRow)
                .where(
                    AppointmentRow.phone == phone,
                    AppointmentRow.status == BOOKED,
                    AppointmentRow.start_at > now,
                )
                .order_by(AppointmentRow.start_at)
            )
            return [Appointment.from_row(r) for r in rows]

    def cancel(self, appointment_id: int, *, phone: str) -> Appointment | None:
        """Cancel an active appointment of `phone`; None if no such active appointment."""
        with self._transaction() as session:
            result = session.execute(
                update(AppointmentRow)
                .where(
                    AppointmentRow.id == appointment_id,
                    AppointmentRow.phone == phone,
                    AppointmentRow.status == BOOKED,
                )
                .values(status=CANCELLED, cancelled_at=utc_now())
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                return None
            row = session.get(AppointmentRow, appointment_id, populate_existing=True)
            assert row is not None
            return Appointment.from_row(row)

    def list_appointments(
        self, *, status: str | None = None, limit: int | None = None
    ) -> list[Appointment]:
        """Appointments by start time, then booking order."""
        query = select(AppointmentRow).order_by(AppointmentRow.start_at, AppointmentRow.id)
        if status is not None:
            query = query.where(AppointmentRow.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._transaction() as session:
            return [Appointment.from_row(r) for r in session.scalars(query)]

    # -- tickets --------------------------------------------------------------------------

    def create_ticket(
        self, *, reason: str, summary: str, caller_phone: str | None, call_id: str | None
    ) -> Ticket:
        row = TicketRow(
            reason=reason, summary=summary, caller_phone=caller_phone, call_id=call_id,
            status=TICKET_OPEN, created_at=utc_now(),
        )
        with self._transaction() as session:
            session.add(row)
            session.flush()
            return Ticket.from_row(row)

    # -- media-stream claims (one stream per call, across workers and machines) -------------

    def claim_stream(self, call_sid: str, *, now: dt.datetime, ttl: dt.timedelta) -> bool:
        """Record that a media stream starts for `call_sid`; False when another stream did
        less than `ttl` ago (in any process using this database). One atomic statement, so
        two racing claims cannot both win. Claims older than `ttl` are deleted."""
        cutoff = now - ttl
        table = StreamClaimRow.__table__
        dialect = self.engine.dialect.name
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(table).values(call_sid=call_sid, claimed_at=now)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.call_sid], set_={"claimed_at": now},
            where=table.c.claimed_at < cutoff).returning(table.c.call_sid)
        with self._serial, self.engine.begin() as conn:
            conn.execute(table.delete().where(table.c.claimed_at < cutoff))
            return conn.execute(statement).first() is not None

    def list_tickets(self, *, status: str | None = None, limit: int | None = None) -> list[Ticket]:
        """Tickets, newest first."""
        query = select(TicketRow).order_by(TicketRow.created_at.desc(), TicketRow.id.desc())
        if status is not None:
            query = query.where(TicketRow.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._transaction() as session:
            return [Ticket.from_row(r) for r in session.scalars(query)]
