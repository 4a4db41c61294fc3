"""The `maatwerk` command: Flask's CLI for this app plus our own commands."""
from __future__ import annotations

import getpass
import importlib
import secrets

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from config import INSTANCE

from matching.errors import Conflict, MatchingError, ValidationFailed
from matching.services import api_tokens, durability_models
from demo import population as demo_service
from matching.services import geocoding
from matching.services import staff as staff_service
from matching.services.profiles import local_date
from matching.store import API_SCOPES, StaffUser, utcnow
from matching.store import schema

from . import create_app
from .auth import hash_profile
from .db import db_session
from .staff import PROBLEMS

# An address the mailer accepts (a .local one would be refused) that never reaches anyone.
DEMO_LOGIN = "coordinator@demo.maatwerk.example"


def _app_factory():  # type: ignore[no-untyped-def]
    return create_app()


class MaatwerkGroup(FlaskGroup):
    """Flask's group plus command groups of other packages, imported only when called."""

    # web never imports jobs at module level: the arrows stay web -> matching, jobs -> matching.
    LAZY = {"jobs": "jobs.cli:jobs", "scheduler": "jobs.cli:scheduler",
            "match-run": "jobs.cli:match_run"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.LAZY:
            module, _sep, attribute = self.LAZY[name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, name)


@click.group(cls=MaatwerkGroup, create_app=_app_factory, add_version_option=False)
def main() -> None:
    """Maatwerk: buddy matching for the Vrijwilligers Centrale Utrecht."""


@main.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Bring the database to REVISION (the latest by default)."""
    schema.upgrade(current_app.extensions["maatwerk.engine"], revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Take the database back to REVISION ('base' removes everything)."""
    schema.downgrade(current_app.extensions["maatwerk.engine"], revision)
    click.echo(f"database at {revision}")


@main.command("create-user")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["coordinator", "admin", "analyst"]), default="coordinator")
@click.option("--organisation", default=None,
              help="A partner organisation (see `maatwerk` admin page): its coordinator sees only its people.")
@click.password_option(envvar="MAATWERK_PASSWORD")
@with_appcontext
def create_user(email: str, name: str, role: str, organisation: str | None, password: str) -> None:
    """Create a staff account."""
    session = db_session()
    try:
        user = staff_service.create_user(
            session, email=email, name=name, role=role, password=password, profile=hash_profile(),
            organisation=organisation,
        )
    except (ValidationFailed, Conflict) as error:
        # Said in words, as on the staff page: "Het wachtwoord moet minstens 12 tekens lang zijn."
        keys = error.errors.values() if isinstance(error, ValidationFailed) else ["exists"]
        with current_app.test_request_context():  # the catalog needs a (Dutch) request
            words = " ".join(str(PROBLEMS.get(key, key)) for key in keys)
        raise click.ClickException(words) from error
    except MatchingError as error:
        raise click.ClickException(error.message) from error
    session.commit()
    click.echo(f"created {user.role} {user.email}")


@main.command("demo")
@click.option("--seed", default=7, show_default=True, help="Same seed, same population.")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None)
@with_appcontext
def demo(seed: int, today: object) -> None:
    """Migrate the database, load the demo population and print the demo login."""
    schema.upgrade(current_app.extensions["maatwerk.engine"])
    session = db_session()
    day = today.date() if today else local_date(utcnow())  # type: ignore[attr-defined]
    if session.query(StaffUser.id).first() is None:
        try:
            summary = demo_service.load(
                session, seed=seed, today=day,
                postcode_file=current_app.config["GEO_POSTCODES_FILE"] or None,
            )
        except MatchingError as error:
            raise click.ClickException(f"demo population not loaded: {error.message}") from error
        demo_service.first_mails(session, now=utcnow(), base_url=current_app.config["BASE_URL"],
                                 secret=current_app.config["SECRET_KEY"])
        try:  # the monthly job's first fit, so "Wat houdt koppelingen vast?" has a model at once
            durability_models.refit(session, today=day, now=utcnow(), actor=None)
        except Conflict:
            click.echo("too little history for a durability model yet")
        password = secrets.token_urlsafe(12)
        staff_service.create_user(
            session, email=DEMO_LOGIN, name="Demo coördinator",
            role="coordinator", password=password, profile=hash_profile(),
        )
        session.commit()
        click.echo(f"demo population loaded: {summary}")
        click.echo("")
        click.echo(f"  Log in at {current_app.config['BASE_URL'].rstrip('/')}/login")
        click.echo(f"  e-mail:     {DEMO_LOGIN}")
        click.echo(f"  wachtwoord: {password}")
        _remember_demo_login(password)
    else:
        click.echo("the database already holds data; the demo population was not loaded again")
        click.echo(_recall_demo_login())


def _remember_demo_login(password: str) -> None:
    path = INSTANCE / "demo-login.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"e-mail: {DEMO_LOGIN}\nwachtwoord: {password}\n")
    path.chmod(0o600)


def _recall_demo_login() -> str:
    path = INSTANCE / "demo-login.txt"
    return "demo login:\n" + path.read_text() if path.exists() else "no demo login recorded"


@main.group()
def geo() -> None:
    """Postcode areas and coordinates."""


@geo.command("import")
@click.argument("file_or_url")
@with_appcontext
def geo_import(file_or_url: str) -> None:
    """Replace the postcode areas with a GeoNames file (NL.txt or NL.zip; path or http(s) URL)."""
    session = db_session()
    try:
        count = geocoding.import_postcode_areas(
            session, geocoding.read_postcode_source(file_or_url)
        )
    except OSError as error:
        raise click.ClickException(f"cannot read {file_or_url}: {error}") from error
    except MatchingError as error:
        lines = getattr(error, "errors", {})
        for where, key in list(lines.items())[:50]:
            click.echo(f"{where}: {key}", err=True)
        raise click.ClickException(f"{len(lines)} bad lines; nothing imported") from error
    session.commit()
    click.echo(f"{count} postcode areas imported")


@main.command("create-api-token")
@click.option("--organisation", required=True, help="The partner organisation, e.g. Buurtteam Overvecht.")
@click.option("--scope", type=click.Choice(API_SCOPES), required=True, help="read: GET only.")
@click.option("--name", default="", help="What the token is for, to tell tokens apart.")
@click.option("--created-by", default=getpass.getuser, show_default="the system user")
@with_appcontext
def create_api_token(organisation: str, scope: str, name: str, created_by: str) -> None:
    """Issue a partner API token; it is printed once and only its hash is stored."""
    session = db_session()
    try:
        row, token = api_tokens.issue(session, organisation=organisation, scope=scope, name=name,
                                      created_by=created_by, now=utcnow())
    except MatchingError as error:
        raise click.ClickException(error.message) from error
    session.commit()
    click.echo(f"{scope} token {row.prefix} for {row.organisation} (shown only this once):")
    click.echo(token)


@main.command("revoke-api-token")
@click.argument("prefix")
@click.option("--revoked-by", default=getpass.getuser, show_default="the system user")
@with_appcontext
def revoke_api_token(prefix: str, revoked_by: str) -> None:
    """Make the partner API token with this PREFIX unusable."""
    session = db_session()
    try:
        row = api_tokens.revoke(session, prefix, actor=revoked_by, now=utcnow())
    except MatchingError as error:
        raise click.ClickException(error.message) from error
    session.commit()
    click.echo(f"token {row.prefix} of {row.organisation} revoked")


@main.command("list-api-tokens")
@with_appcontext
def list_api_tokens() -> None:
    """Show every partner API token (prefix, scope, organisation, last use; never the secret)."""
    for row in api_tokens.tokens(db_session()):
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
        click.echo(f"{row.prefix}  {row.scope:5}  {state:18}  last used {used:16}  "
                   f"{row.organisation} {row.name}".rstrip())
