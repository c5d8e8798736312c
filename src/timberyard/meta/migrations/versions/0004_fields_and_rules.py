"""Field types per account, ingest rules (parse, redact, exclude) and their daily counts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "field_types",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_field_types_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", "path", name=op.f("pk_field_types")),
    )
    op.create_table(
        "ingest_rules",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=254), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_ingest_rules_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_rules")),
        sa.UniqueConstraint("account_id", "kind", "name", name="uq_ingest_rules_account_id_kind_name"),
    )
    with op.batch_alter_table("ingest_rules", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_rules_account_id"), ["account_id"], unique=False)
    op.create_table(
        "rule_counts",
        sa.Column("rule_id", sa.String(length=32), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"], ["ingest_rules.id"], name=op.f("fk_rule_counts_rule_id_ingest_rules"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("rule_id", "day", name=op.f("pk_rule_counts")),
    )


def downgrade() -> None:
    op.drop_table("rule_counts")
    with op.batch_alter_table("ingest_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_rules_account_id"))
    op.drop_table("ingest_rules")
    op.drop_table("field_types")
