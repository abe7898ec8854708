"""Back office (issue 15): vehicle register, ticket owners, notice outbox, fine changes, due dates.

New tables, and two nullable columns on tickets (ALTER TABLE ADD COLUMN: the table is not copied).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 14:15:50.580241
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vehicle_registrations",
        sa.Column("plate", sa.String(length=16), nullable=False),
        sa.Column("owner_name", sa.String(length=128), nullable=False),
        sa.Column("cnic_masked", sa.String(length=15), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=128), nullable=False),
        sa.Column("make", sa.String(length=40), nullable=False),
        sa.Column("colour", sa.String(length=20), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("plate"),
    )
    op.create_table(
        "notice_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("template", sa.String(length=20), nullable=False),
        sa.Column("transition_seq", sa.Integer(), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger(), nullable=False),
        sa.Column("claimed_until_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("result", sa.String(length=200), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("sent_ms", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.ticket_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("ticket_id", "template", "channel", "transition_seq", name="uq_notice_dedupe"),
    )
    with op.batch_alter_table("notice_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_notice_outbox_state_next", ["state", "next_attempt_ms"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_outbox_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "ticket_fine_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("ticket_id", sa.String(length=20), nullable=False),
        sa.Column("ts_ms", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("old_fine_pkr", sa.Integer(), nullable=False),
        sa.Column("new_fine_pkr", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.ticket_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("ticket_fine_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ticket_fine_changes_ticket_id"), ["ticket_id"], unique=False)

    op.create_table(
        "ticket_owners",
        sa.Column("ticket_id", sa.String(length=20), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("owner_name", sa.String(length=128), nullable=False),
        sa.Column("cnic_masked", sa.String(length=15), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=128), nullable=False),
        sa.Column("make", sa.String(length=40), nullable=False),
        sa.Column("colour", sa.String(length=20), nullable=False),
        sa.Column("looked_up_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.ticket_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_fine_pkr", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("due_ts_ms", sa.BigInteger(), nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_due_ts_ms"), ["due_ts_ms"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_due_ts_ms"))
        batch_op.drop_column("due_ts_ms")
        batch_op.drop_column("original_fine_pkr")

    op.drop_table("ticket_owners")
    with op.batch_alter_table("ticket_fine_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_fine_changes_ticket_id"))

    op.drop_table("ticket_fine_changes")
    with op.batch_alter_table("notice_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_outbox_ticket_id"))
        batch_op.drop_index("ix_notice_outbox_state_next")

    op.drop_table("notice_outbox")
    op.drop_table("vehicle_registrations")
