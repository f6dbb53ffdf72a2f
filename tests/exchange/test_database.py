"""The host database: Alembic revisions, upgrade from an older revision, bad URLs."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from cfp_engine.errors import StoreError
from cfp_engine.exchange.database import MIGRATIONS_DIR, Base, open_database

TABLES = {
    "footprints",
    "footprint_keys",
    "clients",
    "client_releases",
    "tokens",
    "event_requests",
    "outbox",
    "label_pages",
}


def _config(connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def test_opening_creates_every_table_at_the_newest_revision(database):
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    with database.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == TABLES | {"alembic_version"}
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head


def test_the_revisions_create_what_the_models_describe(database):
    """Every model column exists in the migrated database (the models and revisions agree)."""
    with database.engine.connect() as connection:
        inspector = inspect(connection)
        for table in Base.metadata.sorted_tables:
            columns = {column["name"] for column in inspector.get_columns(table.name)}
            assert columns == {column.name for column in table.columns}, table.name


def test_an_older_database_is_upgraded_on_open(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(_config(connection), "0001")
    with engine.connect() as connection:
        assert "outbox" not in inspect(connection).get_table_names()
    engine.dispose()
    database = open_database(url)
    with database.engine.connect() as connection:
        assert "outbox" in inspect(connection).get_table_names()
    database.dispose()


def test_downgrade_and_upgrade_round_trip(tmp_path):
    url = f"sqlite:///{tmp_path / 'round.sqlite'}"
    open_database(url).dispose()
    engine = create_engine(url)
    with engine.begin() as connection:
        command.downgrade(_config(connection), "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}
    engine.dispose()
    database = open_database(url)
    with database.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) >= TABLES
    database.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'wal.sqlite'}")
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    database.dispose()


def test_the_default_database_is_in_the_engine_store(fresh_home):
    database = open_database()
    assert database.url == f"sqlite:///{fresh_home.resolve() / 'exchange' / 'host.sqlite'}"
    database.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "is not a database URL"),
        ("nosuchdriver://x/y", "is not a database URL"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/none", "cannot open"),
        ("sqlite:////proc/no/such/folder/x.sqlite", "cannot open"),
    ],
)
def test_bad_urls_are_one_line_store_errors(url, message):
    with pytest.raises(StoreError, match=message) as caught:
        open_database(url)
    assert "\n" not in str(caught.value)


def test_footprints_published_before_revision_0003_count_as_announced(tmp_path):
    from cfp_engine.exchange.announce import announce
    from cfp_engine.exchange.clients import add_client
    from cfp_engine.exchange.publishing import Published

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(_config(connection), "0002")
        connection.execute(
            text(
                "INSERT INTO footprints (id, spec_version, api, status, valid_from, valid_to, "
                "created, published_at, updated_at, public, payload, sha256, source_sha256) "
                "VALUES ('0000abcd-0000-0000-0000-000000000001', '3.0.0', 3, 'Active', "
                "'2026-01-01', '2027-01-01', '', '2026-01-01', '2026-01-01', 0, '{}', '', '')"
            )
        )
    engine.dispose()
    database = open_database(url)
    add_client(
        database,
        "listener",
        events_url="https://listener.example/3/events",
        events_client_id="me",
        events_client_secret="secret",
    )
    old = Published("0000abcd-0000-0000-0000-000000000001", 3, (), new=True)
    assert announce(database, [old]) == 0
    database.dispose()
