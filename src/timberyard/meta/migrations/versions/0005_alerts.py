"""Alerts, their evaluation state across restarts, their firings, and index-rate baselines.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("view_id", sa.String(length=32), nullable=True),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_alerts_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("account_id", "name", name="uq_alerts_account_id_name"),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_account_id"), ["account_id"], unique=False)
    op.create_table(
        "alert_state",
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("late_lines", sa.Integer(), nullable=False),
        sa.Column("samples", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("last_evaluated_window", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fired_window", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("firing", sa.Boolean(), nullable=False),
        sa.Column("last_line_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_state_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_alert_state")),
    )
    op.create_table(
        "alert_firings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("suppressed_by", sa.String(length=16), nullable=True),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("late_lines", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_firings_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_firings")),
        sa.UniqueConstraint("alert_id", "window_start", name="uq_alert_firings_alert_id_window_start"),
    )
    with op.batch_alter_table("alert_firings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_firings_alert_id"), ["alert_id"], unique=False)
    op.create_table(
        "alert_baselines",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_alert_baselines_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "hour_start", name=op.f("pk_alert_baselines")),
    )


def downgrade() -> None:
    op.drop_table("alert_baselines")
    with op.batch_alter_table("alert_firings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_firings_alert_id"))
    op.drop_table("alert_firings")
    op.drop_table("alert_state")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_account_id"))
    op.drop_table("alerts")
