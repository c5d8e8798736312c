"""Schema migrations, run from code so users never need an alembic.ini.

`upgrade(connection)` brings a database to the newest revision; `MetaDB.open` calls it.
To write the next revision, autogenerate it against a database at head, then edit it so it
stands on its own (it must not import the models, which will keep changing)::

    from alembic import command
    with engine.begin() as connection:
        command.revision(alembic_config(connection), message="...", autogenerate=True)
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

SCRIPT_LOCATION = Path(__file__).resolve().parent


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration whose env.py runs on `connection` (see env.py)."""
    config = Config(attributes={"connection": connection})
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("path_separator", "os")
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the database behind `connection` inside the caller's transaction."""
    command.upgrade(alembic_config(connection), revision)
