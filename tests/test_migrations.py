"""The migrations build exactly the schema the code declares, and 0008 fills in the digits of
every account's main number (what password logins by company number look up)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, select

from callvault.storage.accounts import find_account_by_number
from callvault.storage.engine import normalise_url
from callvault.storage.migrate import upgrade
from callvault.storage.schema import accounts, metadata


def test_migrations_build_the_declared_schema(scratch_url: str) -> None:
    engine = create_engine(normalise_url(scratch_url))
    try:
        upgrade(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        engine.dispose()


def test_0008_indexes_the_digits_of_existing_main_numbers(scratch_url: str) -> None:
    engine = create_engine(normalise_url(scratch_url))
    try:
        upgrade(engine, "0007")
        old = [(1, "+1 (650) 555-0100"), (2, "+44 20 7946 0000"), (3, None)]
        with engine.begin() as conn:
            # Only the columns 0007 has: the digits column does not exist yet.
            for account_id, number in old:
                conn.execute(
                    accounts.insert().values(
                        id=account_id, name=f"a{account_id}", main_number=number, created_ms=0
                    )
                )
        upgrade(engine)
        with engine.connect() as conn:
            stored = dict(conn.execute(select(accounts.c.id, accounts.c.main_number_digits)).all())
            assert stored == {1: "16505550100", 2: "442079460000", 3: None}
            found = find_account_by_number(conn, "+1 650-555-0100")
            assert found is not None and found.id == 1
            assert find_account_by_number(conn, "16505550101") is None
            assert find_account_by_number(conn, "no digits") is None
    finally:
        engine.dispose()
