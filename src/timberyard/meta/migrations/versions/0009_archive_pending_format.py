"""Archives: an interrupted run pins its file format and encryption with its range, so its redo
writes the same names even if the settings changed in between.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("archive_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_format", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("pending_encrypted", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("archive_accounts", schema=None) as batch_op:
        batch_op.drop_column("pending_encrypted")
        batch_op.drop_column("pending_format")
