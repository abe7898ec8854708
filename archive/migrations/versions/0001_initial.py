"""The schema as create_all made it before migrations (archive tables and the dashboard's dash_ tables).

A database made by create_all on that schema has no alembic_version table: this revision then
creates only the tables it lacks (``_missing``), so its rows are kept and it is adopted as 0001.

Revision ID: 0001
Revises: -
Create Date: 2026-12-03 14:13:57.075022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _missing(table: str) -> bool:
    """True when ``table`` is not in the database yet (a pre-migration database may have it)."""
    return not sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if _missing("evidence"):
        op.create_table(
            "evidence",
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("mime", sa.String(length=40), nullable=False),
            sa.Column("size", sa.Integer(), nullable=False),
            sa.Column("path", sa.String(length=200), nullable=False),
            sa.Column("created_ts_ms", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("sha256"),
        )

    if _missing("incidents"):
        op.create_table(
            "incidents",
            sa.Column("incident_id", sa.String(length=64), nullable=False),
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("priority", sa.String(length=10), nullable=False),
            sa.Column("state", sa.String(length=20), nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("updated_ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("camera_id", sa.String(length=64), nullable=True),
            sa.Column("segment_id", sa.String(length=64), nullable=True),
            sa.Column("lat", sa.Float(), nullable=True),
            sa.Column("lon", sa.Float(), nullable=True),
            sa.Column("track_id", sa.Integer(), nullable=True),
            sa.Column("plate", sa.String(length=16), nullable=True),
            sa.Column("summary", sa.Text(), nullable=False),
            sa.Column("details_json", sa.Text(), nullable=False),
            sa.Column("evidence_json", sa.Text(), nullable=False),
            sa.Column("assignee", sa.String(length=64), nullable=True),
            sa.PrimaryKeyConstraint("incident_id"),
        )
        with op.batch_alter_table("incidents", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_incidents_kind"), ["kind"], unique=False)
            batch_op.create_index(batch_op.f("ix_incidents_segment_id"), ["segment_id"], unique=False)
            batch_op.create_index("ix_incidents_state_ts", ["state", "ts_ms"], unique=False)
            batch_op.create_index(batch_op.f("ix_incidents_ts_ms"), ["ts_ms"], unique=False)

    if _missing("plate_index"):
        op.create_table(
            "plate_index",
            sa.Column("plate", sa.String(length=16), nullable=False),
            sa.Column("plate_len", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("plate"),
        )
        with op.batch_alter_table("plate_index", schema=None) as batch_op:
            batch_op.create_index("ix_plate_index_len_plate", ["plate_len", "plate"], unique=False)

    if _missing("plate_search_audit"):
        op.create_table(
            "plate_search_audit",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column("role", sa.String(length=20), nullable=False),
            sa.Column("source", sa.String(length=10), nullable=False),
            sa.Column("query_json", sa.Text(), nullable=False),
            sa.Column("results", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("plate_search_audit", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_plate_search_audit_ts_ms"), ["ts_ms"], unique=False)
            batch_op.create_index(batch_op.f("ix_plate_search_audit_username"), ["username"], unique=False)

    if _missing("plate_sightings"):
        op.create_table(
            "plate_sightings",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("event_id", sa.String(length=64), nullable=False),
            sa.Column("plate", sa.String(length=16), nullable=False),
            sa.Column("plate_len", sa.Integer(), nullable=False),
            sa.Column("camera_id", sa.String(length=64), nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("confidence", sa.Float(), nullable=False),
            sa.Column("votes", sa.Integer(), nullable=False),
            sa.Column("track_id", sa.Integer(), nullable=False),
            sa.Column("box_json", sa.Text(), nullable=False),
            sa.Column("crop_sha256", sa.String(length=64), nullable=True),
            sa.Column("crop_path", sa.String(length=200), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("event_id"),
        )
        with op.batch_alter_table("plate_sightings", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_plate_sightings_camera_id"), ["camera_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_plate_sightings_crop_sha256"), ["crop_sha256"], unique=False)
            batch_op.create_index("ix_plate_sightings_len_ts", ["plate_len", "ts_ms"], unique=False)
            batch_op.create_index("ix_plate_sightings_plate_ts", ["plate", "ts_ms"], unique=False)
            batch_op.create_index(batch_op.f("ix_plate_sightings_ts_ms"), ["ts_ms"], unique=False)

    if _missing("tickets"):
        op.create_table(
            "tickets",
            sa.Column("ticket_id", sa.String(length=20), nullable=False),
            sa.Column("violation_id", sa.String(length=64), nullable=False),
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("state", sa.String(length=20), nullable=False),
            sa.Column("camera_id", sa.String(length=64), nullable=False),
            sa.Column("segment_id", sa.String(length=64), nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("issued_ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("updated_ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("label", sa.String(length=20), nullable=False),
            sa.Column("plate", sa.String(length=16), nullable=True),
            sa.Column("plate_confidence", sa.Float(), nullable=False),
            sa.Column("fine_pkr", sa.Integer(), nullable=False),
            sa.Column("speed_kmh", sa.Float(), nullable=True),
            sa.Column("limit_kmh", sa.Float(), nullable=True),
            sa.Column("lat", sa.Float(), nullable=True),
            sa.Column("lon", sa.Float(), nullable=True),
            sa.Column("track_id", sa.Integer(), nullable=False),
            sa.Column("details_json", sa.Text(), nullable=False),
            sa.Column("evidence_missing", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("ticket_id"),
            sa.UniqueConstraint("violation_id"),
        )
        with op.batch_alter_table("tickets", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_tickets_camera_id"), ["camera_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_tickets_kind"), ["kind"], unique=False)
            batch_op.create_index(batch_op.f("ix_tickets_plate"), ["plate"], unique=False)
            batch_op.create_index(batch_op.f("ix_tickets_segment_id"), ["segment_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_tickets_state"), ["state"], unique=False)
            batch_op.create_index(batch_op.f("ix_tickets_ts_ms"), ["ts_ms"], unique=False)

    if _missing("warden_alerts"):
        op.create_table(
            "warden_alerts",
            sa.Column("alert_id", sa.String(length=40), nullable=False),
            sa.Column("incident_id", sa.String(length=64), nullable=False),
            sa.Column("segment_id", sa.String(length=64), nullable=True),
            sa.Column("wardens_json", sa.Text(), nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("deadline_ms", sa.BigInteger(), nullable=False),
            sa.Column("escalated", sa.Boolean(), nullable=False),
            sa.Column("acked_by", sa.String(length=64), nullable=False),
            sa.Column("acked_ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("priority", sa.String(length=10), nullable=False),
            sa.Column("summary", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("alert_id"),
        )
        with op.batch_alter_table("warden_alerts", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_warden_alerts_incident_id"), ["incident_id"], unique=False)

    if _missing("incident_actions"):
        op.create_table(
            "incident_actions",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("incident_id", sa.String(length=64), nullable=False),
            sa.Column("action", sa.String(length=20), nullable=False),
            sa.Column("actor", sa.String(length=64), nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("note", sa.Text(), nullable=False),
            sa.Column("assignee", sa.String(length=64), nullable=True),
            sa.ForeignKeyConstraint(["incident_id"], ["incidents.incident_id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("incident_actions", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_incident_actions_incident_id"), ["incident_id"], unique=False)

    if _missing("ticket_evidence"):
        op.create_table(
            "ticket_evidence",
            sa.Column("ticket_id", sa.String(length=20), nullable=False),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.Column("sha256", sa.String(length=64), nullable=False),
            sa.Column("role", sa.String(length=20), nullable=False),
            sa.Column("present", sa.Boolean(), nullable=False),
            sa.ForeignKeyConstraint(["ticket_id"], ["tickets.ticket_id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("ticket_id", "position"),
        )
        with op.batch_alter_table("ticket_evidence", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_ticket_evidence_sha256"), ["sha256"], unique=False)

    if _missing("ticket_transitions"):
        op.create_table(
            "ticket_transitions",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("ticket_id", sa.String(length=20), nullable=False),
            sa.Column("seq", sa.Integer(), nullable=False),
            sa.Column("from_state", sa.String(length=20), nullable=True),
            sa.Column("to_state", sa.String(length=20), nullable=False),
            sa.Column("actor", sa.String(length=64), nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(["ticket_id"], ["tickets.ticket_id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("ticket_id", "seq", name="uq_ticket_transition_seq"),
        )
        with op.batch_alter_table("ticket_transitions", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_ticket_transitions_ticket_id"), ["ticket_id"], unique=False)

    if _missing("dash_login_failures"):
        op.create_table(
            "dash_login_failures",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column("address", sa.String(length=64), nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("dash_login_failures", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_dash_login_failures_ts_ms"), ["ts_ms"], unique=False)
            batch_op.create_index(batch_op.f("ix_dash_login_failures_username"), ["username"], unique=False)

    if _missing("dash_sessions"):
        op.create_table(
            "dash_sessions",
            sa.Column("token_hash", sa.String(length=64), nullable=False),
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column("role", sa.String(length=16), nullable=False),
            sa.Column("zones_json", sa.Text(), nullable=False),
            sa.Column("csrf", sa.String(length=64), nullable=False),
            sa.Column("created_ms", sa.BigInteger(), nullable=False),
            sa.Column("expires_ms", sa.BigInteger(), nullable=False),
            sa.Column("address", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("token_hash"),
        )
        with op.batch_alter_table("dash_sessions", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_dash_sessions_expires_ms"), ["expires_ms"], unique=False)
            batch_op.create_index(batch_op.f("ix_dash_sessions_username"), ["username"], unique=False)

    if _missing("dash_traffic_updates"):
        op.create_table(
            "dash_traffic_updates",
            sa.Column("update_id", sa.String(length=40), nullable=False),
            sa.Column("title", sa.String(length=200), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("title_ur", sa.String(length=200), nullable=False),
            sa.Column("body_ur", sa.Text(), nullable=False),
            sa.Column("segment_id", sa.String(length=64), nullable=True),
            sa.Column("published", sa.Boolean(), nullable=False),
            sa.Column("created_ms", sa.BigInteger(), nullable=False),
            sa.Column("ts_ms", sa.BigInteger(), nullable=False),
            sa.Column("author", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("update_id"),
        )
        with op.batch_alter_table("dash_traffic_updates", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_dash_traffic_updates_ts_ms"), ["ts_ms"], unique=False)

    if _missing("dash_users"):
        op.create_table(
            "dash_users",
            sa.Column("username", sa.String(length=64), nullable=False),
            sa.Column("role", sa.String(length=16), nullable=False),
            sa.Column("password_hash", sa.String(length=255), nullable=False),
            sa.Column("name", sa.String(length=128), nullable=False),
            sa.Column("zones_json", sa.Text(), nullable=False),
            sa.Column("disabled", sa.Boolean(), nullable=False),
            sa.Column("updated_ms", sa.BigInteger(), nullable=False),
            sa.Column("updated_by", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("username"),
        )


def downgrade() -> None:
    op.drop_table("dash_users")
    with op.batch_alter_table("dash_traffic_updates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dash_traffic_updates_ts_ms"))

    op.drop_table("dash_traffic_updates")
    with op.batch_alter_table("dash_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dash_sessions_username"))
        batch_op.drop_index(batch_op.f("ix_dash_sessions_expires_ms"))

    op.drop_table("dash_sessions")
    with op.batch_alter_table("dash_login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dash_login_failures_username"))
        batch_op.drop_index(batch_op.f("ix_dash_login_failures_ts_ms"))

    op.drop_table("dash_login_failures")
    with op.batch_alter_table("ticket_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_transitions_ticket_id"))

    op.drop_table("ticket_transitions")
    with op.batch_alter_table("ticket_evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ticket_evidence_sha256"))

    op.drop_table("ticket_evidence")
    with op.batch_alter_table("incident_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incident_actions_incident_id"))

    op.drop_table("incident_actions")
    with op.batch_alter_table("warden_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warden_alerts_incident_id"))

    op.drop_table("warden_alerts")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tickets_ts_ms"))
        batch_op.drop_index(batch_op.f("ix_tickets_state"))
        batch_op.drop_index(batch_op.f("ix_tickets_segment_id"))
        batch_op.drop_index(batch_op.f("ix_tickets_plate"))
        batch_op.drop_index(batch_op.f("ix_tickets_kind"))
        batch_op.drop_index(batch_op.f("ix_tickets_camera_id"))

    op.drop_table("tickets")
    with op.batch_alter_table("plate_sightings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plate_sightings_ts_ms"))
        batch_op.drop_index("ix_plate_sightings_plate_ts")
        batch_op.drop_index("ix_plate_sightings_len_ts")
        batch_op.drop_index(batch_op.f("ix_plate_sightings_crop_sha256"))
        batch_op.drop_index(batch_op.f("ix_plate_sightings_camera_id"))

    op.drop_table("plate_sightings")
    with op.batch_alter_table("plate_search_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plate_search_audit_username"))
        batch_op.drop_index(batch_op.f("ix_plate_search_audit_ts_ms"))

    op.drop_table("plate_search_audit")
    with op.batch_alter_table("plate_index", schema=None) as batch_op:
        batch_op.drop_index("ix_plate_index_len_plate")

    op.drop_table("plate_index")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_ts_ms"))
        batch_op.drop_index("ix_incidents_state_ts")
        batch_op.drop_index(batch_op.f("ix_incidents_segment_id"))
        batch_op.drop_index(batch_op.f("ix_incidents_kind"))

    op.drop_table("incidents")
    op.drop_table("evidence")
