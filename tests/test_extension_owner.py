"""Which account an extension belongs to: found owners are kept, unknown ids asked again."""

from __future__ import annotations

from callvault.services.container import Services
from tests.builders import make_account
from tests.helpers import watching_sql


def test_found_owners_are_kept_and_unknown_ids_asked_again(services: Services) -> None:
    acc = make_account(services)
    with watching_sql(services.db.engine) as sql:
        ext = acc.extensions["102"]
        assert services.accounts.extension_owner(ext) == acc.account_id
        asked = len(sql.seen)
        assert services.accounts.extension_owner(ext) == acc.account_id
        assert len(sql.seen) == asked, "a found owner is not asked for again"

        unknown = 999_999_001
        assert services.accounts.extension_owner(unknown) is None
        created = services.accounts.add_extension(
            acc.account_id, "120", "Late Joiner", extension_id=unknown
        )
        assert services.accounts.extension_owner(created.id) == acc.account_id
