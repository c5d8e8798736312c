"""Archives: each account's archive settings, keys and exporter state; the files delivered.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_accounts",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("keys", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("watermark_id", sa.BigInteger(), nullable=False),
        sa.Column("pending_through_id", sa.BigInteger(), nullable=True),
        sa.Column("pending_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digest_sequence", sa.Integer(), nullable=False),
        sa.Column("digest_key", sa.String(length=400), nullable=True),
        sa.Column("digest_sha256", sa.String(length=64), nullable=True),
        sa.Column("digest_signature", sa.String(length=200), nullable=True),
        sa.Column("digest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_archive_accounts_account_id_accounts")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_archive_accounts")),
    )
    op.create_table(
        "archive_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("hour_ms", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("digest_sequence", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name=op.f("fk_archive_files_account_id_accounts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_files")),
        sa.UniqueConstraint("account_id", "key", name="uq_archive_files_account_id_key"),
    )
    with op.batch_alter_table("archive_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archive_files_account_id"), ["account_id"], unique=False)


def downgrade() -> None:
    op.drop_table("archive_files")
    op.drop_table("archive_accounts")
