"""``callvault webhook``: receiving a phone system's live call events."""

from __future__ import annotations

import typer

from callvault.cli.common import AccountOpt, BaseUrl, DatabaseUrl, console, services_for

app = typer.Typer(help="Webhooks that deliver live call events.", no_args_is_help=True)


@app.command("ringcentral")
def ringcentral(
    account: AccountOpt, database_url: DatabaseUrl = None, base_url: BaseUrl = None
) -> None:
    """Issue a new verification token for RingCentral webhooks and print the subscription.

    Use the address and token in a RingCentral subscription to
    /restapi/v1.0/account/~/telephony/sessions (deliveryMode.verificationToken).
    """
    with services_for(database_url, base_url) as s:
        token = s.accounts.issue_webhook_token(account, "ringcentral")
        url = f"{s.settings.base_url.rstrip('/')}/api/v1/webhooks/ringcentral/{account}"
    console.print(f"address:            {url}", soft_wrap=True)
    console.print(f"verificationToken:  {token}", soft_wrap=True)
