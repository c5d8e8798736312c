from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from timberyard.meta.database import MetaDB
from timberyard.meta.migrations import alembic_config
from timberyard.meta.models import Base


def test_migrations_build_exactly_the_schema_the_models_declare(db: MetaDB) -> None:
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_database_is_at_the_single_head_revision(db: MetaDB) -> None:
    with db.engine.begin() as connection:
        script = ScriptDirectory.from_config(alembic_config(connection))
        current = MigrationContext.configure(connection).get_current_heads()
    assert len(script.get_heads()) == 1
    assert current == tuple(script.get_heads())


def test_reopening_a_migrated_database_keeps_its_data(db_url: str) -> None:
    with MetaDB.open(db_url) as first:
        first.create_account("kept")
    with MetaDB.open(db_url) as second:
        assert [a.name for a in second.list_accounts()] == ["kept"]


def test_downgrade_to_base_removes_every_table(db: MetaDB) -> None:
    with db.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert inspect(db.engine).get_table_names() == ["alembic_version"]
