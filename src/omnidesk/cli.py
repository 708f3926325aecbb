"""The omnidesk command line: serve, database, configuration as code, users."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from pydantic import BaseModel, ValidationError
from rich.console import Console

from omnidesk import __version__
from omnidesk.analytics.cli import app as report_app
from omnidesk.config import Settings
from omnidesk.configuration.apply import ApplyReport, apply_center, load_center_file
from omnidesk.configuration.export import export_center, to_yaml
from omnidesk.db import Database, upgrade
from omnidesk.demo import DEMO_CENTER, DEMO_PASSWORD
from omnidesk.errors import OmnideskError
from omnidesk.events.bus import InProcessBus
from omnidesk.flows.cli import app as flow_app
from omnidesk.tenants import actions as tenant_actions
from omnidesk.tenants import service as tenant_service
from omnidesk.tenants.schemas import TenantCreate
from omnidesk.users import actions as user_actions
from omnidesk.users.models import Role
from omnidesk.users.schemas import UserCreate
from omnidesk.wfm.cli import app as wfm_app

app = typer.Typer(help="omnidesk: an open-source omnichannel contact center.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
tenants_app = typer.Typer(help="Tenants (client accounts).", no_args_is_help=True)
users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(flow_app, name="flow", help="Self-service flows: test one in the terminal.")
app.add_typer(wfm_app)
app.add_typer(report_app)
app.add_typer(tenants_app, name="tenants")
app.add_typer(users_app, name="users")

console = Console()
errors = Console(stderr=True, soft_wrap=True)
CLI_ACTOR = "cli"
# An idle HTTP connection stays open this long. Clients and proxies drop theirs sooner
# (httpx after 5 s, nginx's upstream keep-alive 60 s): had the server closed it first, at the
# same 5 s as httpx, a request sent just then would have met a closed socket (seen under load
# as dropped connections).
KEEP_ALIVE_SECONDS = 75
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


def run(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; a domain error becomes a one-line message and exit code 2."""
    try:
        return asyncio.run(work)
    except OmnideskError as error:
        errors.print(f"[red]error:[/red] {error.message}", highlight=False)
        raise typer.Exit(2) from error


def _open(settings: Settings) -> Database:
    """The database, migrated (before any event loop runs: Alembic runs its own)."""
    upgrade(settings.resolved_database_url)
    return Database(settings.resolved_database_url, InProcessBus())


async def _apply(db: Database, path: Path) -> ApplyReport:
    center = load_center_file(path)
    try:
        async with db.write() as session:
            return await apply_center(session, center, actor=CLI_ACTOR)
    finally:
        await db.dispose()


def _print_report(report: ApplyReport) -> None:
    for change in report.changes:
        console.print(f"  {change}", highlight=False)
    console.print(f"{len(report.changes)} change(s)" if report.changes else "nothing to change")


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Load the demo tenant (agents, queues, channel).")]
    = False,
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (default 8000).")] = None,
) -> None:
    """Run omnidesk: HTTP API and WebSocket on one port, migrating the database first."""
    settings = Settings()
    host = host or settings.http_host
    port = port or settings.http_port
    if demo:
        _print_report(run(_apply(_open(settings), DEMO_CENTER)))
    else:
        upgrade(settings.resolved_database_url)
    from omnidesk.app import create_app

    console.print(f"omnidesk {__version__} on [bold]http://{host}:{port}[/bold] "
                  f"(API docs: http://{host}:{port}/docs)", highlight=False)
    if demo:
        console.print(f"demo tenant [bold]demo[/bold]; logins (password {DEMO_PASSWORD}): "
                      "admin@demo.example, supervisor@demo.example, alice@demo.example, "
                      "bob@demo.example, chloe@demo.example", highlight=False)
    uvicorn.run(create_app(settings, migrate=False, owns_process=True), host=host, port=port,
                log_level=settings.log_level, access_log=settings.access_log,
                ws="websockets-sansio", timeout_keep_alive=KEEP_ALIVE_SECONDS)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (serve does this by itself)."""
    settings = Settings()
    upgrade(settings.resolved_database_url)
    console.print("database schema is up to date")


@app.command("apply")
def apply_file(
    path: Annotated[Path, typer.Argument(help="A center file (YAML).")],
) -> None:
    """Create or update tenants, skills, queues, users, agents and channels from a YAML file."""
    _print_report(run(_apply(_open(Settings()), path)))


async def _export(db: Database, tenant: str | None) -> str:
    try:
        async with db.read() as session:
            tenant_id = (await tenant_service.get_by_slug(session, tenant)).id if tenant else None
            return to_yaml(await export_center(session, tenant_id=tenant_id))
    finally:
        await db.dispose()


@app.command("export")
def export_file(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant (slug).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Write here instead of stdout.")] = None,
) -> None:
    """Write the running configuration as YAML (no passwords or secrets)."""
    text = run(_export(_open(Settings()), tenant))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


async def _create_tenant(db: Database, data: TenantCreate) -> None:
    try:
        async with db.write() as session:
            await tenant_actions.create_tenant(session, data, actor=CLI_ACTOR)
    finally:
        await db.dispose()


@tenants_app.command("create")
def create_tenant(
    slug: Annotated[str, typer.Argument(help="Short name used in logins and URLs.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
) -> None:
    """Create a tenant."""
    run(_create_tenant(_open(Settings()), _validated(TenantCreate, slug=slug, name=name,
                                              timezone=timezone)))
    console.print(f"created tenant {slug}")


async def _create_user(db: Database, tenant: str, data: UserCreate,
                       platform_admin: bool) -> None:
    try:
        async with db.write() as session:
            tenant_row = await tenant_service.get_by_slug(session, tenant)
            await user_actions.create_user(session, data, tenant_id=tenant_row.id,
                                           actor=CLI_ACTOR, platform_admin=platform_admin)
    finally:
        await db.dispose()


@users_app.command("create")
def create_user(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    email: Annotated[str, typer.Option(help="Login email.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[Role, typer.Option(help="admin, supervisor or agent.")] = Role.AGENT,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True,
                                          envvar="OMNIDESK_NEW_USER_PASSWORD",
                                          help="At least 8 characters (prompted if absent).")]
    = "",
    platform_admin: Annotated[bool, typer.Option(
        help="May manage every tenant of the installation.")] = False,
) -> None:
    """Create a user (the password is asked for, or read from OMNIDESK_NEW_USER_PASSWORD)."""
    data = _validated(UserCreate, email=email, name=name, role=role, password=password)
    run(_create_user(_open(Settings()), tenant, data, platform_admin))
    console.print(f"created {role.value} {data.email} in {tenant}")


def _validated(model: type[M], **values: object) -> M:
    """Build an input model; a bad value is a one-line error naming the option."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        option = "--" + str(first["loc"][0]).replace("_", "-") if first["loc"] else "input"
        errors.print(f"[red]error:[/red] {option}: {first['msg']}", highlight=False)
        raise typer.Exit(2) from error


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    """omnidesk: one ACD for phone calls and every digital channel."""
    if version:
        console.print(f"omnidesk {__version__}")
        raise typer.Exit()
