"""accounts: main number digits, indexed, for password logins by company number

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from callvault.storage.numbers import digits

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_accounts = sa.table(
    "accounts",
    sa.column("id", sa.BigInteger()),
    sa.column("main_number", sa.String()),
    sa.column("main_number_digits", sa.String()),
)


def upgrade() -> None:
    op.add_column("accounts", sa.Column("main_number_digits", sa.String(length=32), nullable=True))
    conn = op.get_bind()
    found = conn.execute(sa.select(_accounts.c.id, _accounts.c.main_number)).all()
    for account_id, number in found:
        conn.execute(
            sa.update(_accounts)
            .where(_accounts.c.id == account_id)
            .values(main_number_digits=digits(number))
        )
    op.create_index("ix_accounts_main_number_digits", "accounts", ["main_number_digits"])


def downgrade() -> None:
    op.drop_index("ix_accounts_main_number_digits", table_name="accounts")
    op.drop_column("accounts", "main_number_digits")
