"""Media-stream claims: one row per CallSid whose stream started lately, so every worker
and every machine sharing this database refuses a second stream for the same call.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "stream_claims" in sa.inspect(op.get_bind()).get_table_names():
        return  # a database made by `create_all` from these models already has it
    op.create_table(
        "stream_claims",
        sa.Column("call_sid", sa.String(64), primary_key=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_stream_claims_claimed_at", "stream_claims", ["claimed_at"])


def downgrade() -> None:
    op.drop_index("ix_stream_claims_claimed_at", table_name="stream_claims")
    op.drop_table("stream_claims")
