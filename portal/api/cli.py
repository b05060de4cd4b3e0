"""`flask api-token create --email EMAIL --scope SCOPE [--scope ...]`: a token acting as that account, printed once."""

from __future__ import annotations

import click

from portal.api import services
from portal.auth.queries import find_user_by_email
from portal.models import API_SCOPES
from portal.unit_of_work import unit_of_work


@click.group("api-token")
def api_token() -> None:
    """Integration API tokens."""


@api_token.command("create")
@click.option("--email", required=True, help="The account the token acts as: an LA's officer or a provider's "
                                             "administrator or manager")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(sorted(API_SCOPES)))
@click.option("--name", default=None, help="What the token is for (default: the scopes)")
@click.option("--days", default=services.DEFAULT_DAYS, show_default=True, type=int, help="Days until it expires")
def create(email: str, scopes: tuple[str, ...], name: str | None, days: int) -> None:
    """Create a token and print it once: it is stored hashed and cannot be shown again."""
    user = find_user_by_email(email)
    if user is None:
        raise click.UsageError(f"No account has the email address {email}")
    with unit_of_work() as work:
        issued = services.issue_token(None, user, name=name or f"Command line: {' '.join(scopes)}",
                                      scopes=list(scopes), days=days)
    if not work.ok:
        raise click.UsageError(str(work.error))
    click.echo(issued.secret)
    click.echo(f"Token {issued.token.prefix} for {user.organisation}, scopes {' '.join(issued.token.scopes)}, "
               f"expires {issued.token.expires_at:%Y-%m-%d}. It is shown once: keep it in your system's secrets.",
               err=True)
