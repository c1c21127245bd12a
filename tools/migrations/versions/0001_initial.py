"""Initial schema: appointments (with the partial unique index on active starts) and tickets.

Exactly what `Base.metadata.create_all` built before migrations existed.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("start_at", sa.DateTime(), nullable=False),
        sa.Column("end_at", sa.DateTime(), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("call_id", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('booked', 'cancelled')", name="ck_appointments_status"),
        sa.CheckConstraint("end_at > start_at", name="ck_appointments_end_after_start"),
    )
    op.create_index("ix_appointments_phone", "appointments", ["phone"])
    active = sa.text("status = 'booked'")
    op.create_index("uq_appointments_active_start", "appointments", ["start_at"], unique=True,
                    sqlite_where=active, postgresql_where=active)
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("caller_phone", sa.String(32), nullable=True),
        sa.Column("call_id", sa.String(128), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tickets")
    op.drop_index("uq_appointments_active_start", table_name="appointments")
    op.drop_index("ix_appointments_phone", table_name="appointments")
    op.drop_table("appointments")
