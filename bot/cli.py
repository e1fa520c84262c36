"""The `salesbot` command line: run the bot, the demo, migrations and back-office tasks."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import Runtime, open_runtime
from bot.db import create_engine, transaction
from bot.logs import setup_logging
from bot.migrate import SchemaOutdatedError, current_revision, head_revision, upgrade
from bot.settings import ConfigError, Settings, load_settings
from models.common import Role
from models.user import User
from scheduler.core import Scheduler
from scheduler.registry import JobContext
from services.approval_types import check_routes

T = TypeVar("T")

app = typer.Typer(
    help="salesbot: the Telegram bot that runs a field sales team's daily routine.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="People and access.", no_args_is_help=True)
import_app = typer.Typer(help="Bulk imports for the back office.", no_args_is_help=True)
app.add_typer(db_app, name="db")
jobs_app = typer.Typer(
    help="Scheduled jobs: `salesbot jobs` lists them; `salesbot jobs run` runs one now.",
    invoke_without_command=True,
)
import_app = typer.Typer(
    help="Import the back office's exports (CSV or XLSX).", no_args_is_help=True
)
app.add_typer(user_app, name="user")
app.add_typer(jobs_app, name="jobs")
app.add_typer(import_app, name="import")

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="config.toml to use (default: $SALESBOT_CONFIG or ./config.toml)"
    ),
]


def fail(message: str, code: int = 2) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def settings_or_exit(config: Path | None) -> Settings:
    try:
        settings = load_settings(config)
        check_routes({key: team.approvals.routes for key, team in settings.team_settings.items()})
    except ConfigError as exc:
        fail(str(exc))
        raise AssertionError("unreachable") from exc
    except ValueError as exc:
        fail(f"Configuration error: {exc}")
        raise AssertionError("unreachable") from exc
    token = settings.telegram.token.get_secret_value() if settings.telegram.token else ""
    setup_logging(settings.logging.level, settings.logging.format, secrets=[token])
    return settings


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(factory())  # type: ignore[arg-type]
    except SchemaOutdatedError as exc:
        fail(str(exc))
        raise AssertionError("unreachable") from exc


async def _with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    runtime = await open_runtime(settings)
    try:
        return await work(runtime)
    finally:
        await runtime.close()


@app.command()
def run(
    config: ConfigOption = None,
    webhook: Annotated[
        bool, typer.Option("--webhook", help="Serve the webhook ([webhook] in config.toml).")
    ] = False,
) -> None:
    """Run the bot: long polling by default, or a webhook server for several instances."""
    from bot.runner import StartupError, run_polling
    from bot.webhook import run_webhook

    settings = settings_or_exit(config)
    use_webhook = webhook or settings.webhook.enabled
    try:
        settings.require_token()
        if use_webhook:
            settings.webhook.require_secret()
    except ConfigError as exc:
        fail(str(exc))

    async def _run() -> None:
        await _with_runtime(settings, run_webhook if use_webhook else run_polling)

    try:
        run_async(_run)
    except StartupError as exc:
        fail(str(exc), code=1)


@app.command()
def demo(
    script: Annotated[
        Path | None, typer.Option(help="Read the chat from this file instead of the keyboard.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Keep the demo database here (default: a temporary folder)."),
    ] = None,
) -> None:
    """Try salesbot with a demo company on a local fake Telegram: no token, no network."""
    from bot.demo import run_demo

    setup_logging("WARNING")
    lines = script.read_text(encoding="utf-8").splitlines() if script else None
    asyncio.run(run_demo(script=lines, data_dir=data_dir))


@app.command()
def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8081,
) -> None:
    """Run the fake Telegram Bot API alone (point SALESBOT_API_URL at it)."""
    from bot.sandbox import Sandbox

    setup_logging("INFO")
    with Sandbox(port=port) as server:
        typer.echo(f"Bot API:     {server.base_url}\nFiles:       {server.base_file_url}")
        typer.echo(f"Control API: {server.control_url}\nCtrl+C stops it.")
        try:
            while True:
                asyncio.run(asyncio.sleep(3600))
        except KeyboardInterrupt:
            pass


@db_app.command("upgrade")
def db_upgrade(config: ConfigOption = None) -> None:
    """Create or migrate the database schema to the current version."""
    settings = settings_or_exit(config)

    async def _upgrade() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    typer.echo(f"Database schema is at revision {run_async(_upgrade)}.")


@db_app.command("current")
def db_current(config: ConfigOption = None) -> None:
    """Show the schema revision of the database and of the code."""
    settings = settings_or_exit(config)

    async def _current() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    typer.echo(f"database: {run_async(_current) or 'empty'}\ncode:     {head_revision()}")


@app.command()
def teams(config: ConfigOption = None) -> None:
    """List the teams with their effective settings; archived teams are marked."""
    from services.teams import list_teams

    settings = settings_or_exit(config)

    async def _list(runtime: Runtime) -> list[str]:
        async with transaction(runtime.sessions) as session:
            listed = await list_teams(session, include_archived=True)
        lines = []
        for team in listed:
            effective = settings.team(team.key)
            state = "ARCHIVED (no longer in config.toml)" if team.archived else "active"
            lines.append(f"{team.key}: {team.name} [{state}]")
            for field, value in effective.model_dump(mode="json").items():
                lines.append(f"    {field} = {value}")
        return lines

    typer.echo("\n".join(run_async(lambda: _with_runtime(settings, _list))) or "No teams.")


@app.command()
def invite(
    role: Annotated[Role, typer.Option(help="rep, manager, director or admin")],
    team: Annotated[str | None, typer.Option(help="Team key or name (reps and managers)")] = None,
    config: ConfigOption = None,
) -> None:
    """Create a single-use invite link for a new user."""
    from services.invites import create_invite
    from services.teams import find_team
    from services.timefmt import format_local

    settings = settings_or_exit(config)

    async def _create(runtime: Runtime) -> str:
        async with transaction(runtime.sessions) as session:
            team_id = None
            if team is not None:
                found = await find_team(session, team)
                if found is None:
                    raise ConfigError(f"Unknown team {team!r}; `salesbot teams` lists them.")
                team_id = found.id
            created = await create_invite(
                session, actor=None, role=role, team_id=team_id, now=runtime.clock.now(),
                ttl=timedelta(hours=settings.access.invite_ttl_hours),
            )  # fmt: skip
        username = await _bot_username(settings)
        link = (
            f"https://t.me/{username}?start={created.deep_link_payload}"
            if username
            else f"send the bot: /start {created.deep_link_payload}"
        )
        expires = format_local(created.invite.expires_at, settings.team(team or "").timezone)
        return f"Invite for a {role.value}: {link}\nSingle use, expires {expires}."

    try:
        typer.echo(run_async(lambda: _with_runtime(settings, _create)))
    except ConfigError as exc:
        fail(str(exc))
    except Exception as exc:
        from services.errors import UserFacingError

        if isinstance(exc, UserFacingError):
            from bot.i18n import load_catalogs

            fail(load_catalogs().t("en", exc.key, **exc.params))
        raise


async def _bot_username(settings: Settings) -> str | None:
    """The bot's @username for the t.me link; None when Telegram cannot be asked."""
    from telegram import Bot
    from telegram.error import TelegramError

    if settings.telegram.token is None:
        return None
    bot = Bot(
        settings.telegram.token.get_secret_value(),
        base_url=settings.telegram.api_url,
        base_file_url=settings.telegram.file_url,
    )
    try:
        async with bot:
            return bot.username
    except TelegramError:
        return None


@user_app.command("list")
def user_list(config: ConfigOption = None) -> None:
    """List every user with role, team and status."""
    from sqlmodel import col, select

    from models.team import Team
    from models.user import User

    settings = settings_or_exit(config)

    async def _list(runtime: Runtime) -> list[str]:
        async with transaction(runtime.sessions) as session:
            query = (
                select(User, Team)
                .join(Team, col(User.team_id) == col(Team.id), isouter=True)
                .order_by(col(User.id))
            )
            rows = (await session.exec(query)).all()
        return [
            f"#{u.id} {u.display_name} (@{u.username or '-'}, tg {u.telegram_id}) {u.role} "
            f"team={t.key if t else '-'} code={u.employee_code or '-'} "
            f"{'active' if u.active else 'DEACTIVATED'}"
            for u, t in rows
        ]

    typer.echo("\n".join(run_async(lambda: _with_runtime(settings, _list))) or "No users.")


async def _named_user(session: AsyncSession, who: str) -> User:
    from services.users import find_user

    user = await find_user(session, who)
    if user is None or user.id is None:
        raise ConfigError(f"No user {who!r}; `salesbot user list` shows them.")
    return user


@user_app.command("deactivate")
def user_deactivate(
    who: Annotated[str, typer.Argument(help="Telegram id, @username or #internal-id")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")] = "",
    config: ConfigOption = None,
) -> None:
    """End a user's access at once (their data stays)."""
    from services.users import deactivate

    settings = settings_or_exit(config)

    async def _deactivate(runtime: Runtime) -> str:
        async with transaction(runtime.sessions) as session:
            user = await _named_user(session, who)
            if not user.active:
                return f"{user.display_name} was already deactivated."
            await deactivate(
                session, actor=None, target_id=user.id or 0, now=runtime.clock.now(),
                reason=reason or "command line",
            )  # fmt: skip
            return f"{user.display_name} is deactivated."

    try:
        typer.echo(run_async(lambda: _with_runtime(settings, _deactivate)))
    except ConfigError as exc:
        fail(str(exc))


@user_app.command("code")
def user_code(
    who: Annotated[str, typer.Argument(help="Telegram id, @username or #internal-id")],
    code: Annotated[
        str | None, typer.Argument(help="The code the back office's files use for this person")
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the person's code")] = False,
    config: ConfigOption = None,
) -> None:
    """Set the employee code that imports match in the owner column (负责人)."""
    from services.errors import UserFacingError
    from services.users import set_employee_code

    if (code is None) == (not clear):
        fail("Give a CODE, or --clear to remove the code.")
    settings = settings_or_exit(config)

    async def _set(runtime: Runtime) -> str:
        async with transaction(runtime.sessions) as session:
            user = await _named_user(session, who)
            try:
                user = await set_employee_code(
                    session, actor=None, target_id=user.id or 0, code=code, now=runtime.clock.now()
                )
            except UserFacingError as error:
                raise ConfigError(runtime.texts.t("en", error.key, **error.params)) from None
            if user.employee_code is None:
                return f"{user.display_name} has no employee code now."
            return f"{user.display_name} has employee code {user.employee_code}."

    try:
        typer.echo(run_async(lambda: _with_runtime(settings, _set)))
    except ConfigError as exc:
        fail(str(exc))


@import_app.command("receivables")
def import_receivables(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK) or XLSX export")],
    team: Annotated[
        str | None,
        typer.Option(help="Team key: import only this team's rows (default: the owner's team)"),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create or update receivables from an export; re-runnable, bad rows are reported."""
    from services.customer_import import ImportFileError
    from services.receivable_import import import_receivables as run_import
    from services.receivable_import import read_receivables
    from services.teams import find_team

    settings = settings_or_exit(config)

    async def _import(runtime: Runtime) -> list[str]:
        table = read_receivables(file)
        async with transaction(runtime.sessions) as session:
            team_id = None
            if team is not None:
                found = await find_team(session, team)
                if found is None:
                    raise ConfigError(f"Unknown team {team!r}; `salesbot teams` lists them.")
                team_id = found.id
            report = await run_import(
                session, table, settings=settings, team_id=team_id, now=runtime.clock.now()
            )
        return report.lines(runtime.texts, "en", for_chat=False)

    try:
        typer.echo("\n".join(run_async(lambda: _with_runtime(settings, _import))))
    except (ConfigError, ImportFileError) as exc:
        fail(str(exc))


def _scheduler(runtime: Runtime, instance: str) -> Scheduler:
    ctx = JobContext(runtime.sessions, runtime.clock, runtime.settings, runtime.texts)
    return Scheduler(ctx, instance)


@jobs_app.callback()
def jobs_list(ctx: typer.Context, config: ConfigOption = None) -> None:
    """List every job per team with its schedule, last run and next run."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_or_exit(config)

    async def _list(runtime: Runtime) -> list[str]:
        rows = await _scheduler(runtime, "cli").overview()
        if not rows:
            return ["No jobs are scheduled."]
        lines = []
        for item, last, upcoming in rows:
            lines.append(
                f"{item.spec.name} [{item.team_key}] {item.schedule.text} "
                f"(grace {int(item.grace.total_seconds() // 60)} min)"
            )
            lines.append(f"    last: {last}\n    next: {upcoming}")
        return lines

    typer.echo("\n".join(run_async(lambda: _with_runtime(settings, _list))))


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="Job name, as `salesbot jobs` lists it")],
    team: Annotated[str, typer.Option(help="Team key")],
    period: Annotated[
        str | None, typer.Option(help="Period key, e.g. 2026-11-24, 2026-W48 or 2026-11")
    ] = None,
    force: Annotated[bool, typer.Option(help="Run even if this period already ran")] = False,
    config: ConfigOption = None,
) -> None:
    """Run one job for one team now (its claim still makes it happen once per period)."""
    settings = settings_or_exit(config)

    async def _run(runtime: Runtime) -> str:
        scheduler = _scheduler(runtime, "cli")
        try:
            item = scheduler.find(name, team)
        except KeyError as exc:
            raise ConfigError(f"{exc.args[0]}; `salesbot jobs` lists the jobs") from None
        outcome = await scheduler.run(item, period=period, force=force)
        return f"{name} for {team}: {outcome.value}"

    try:
        typer.echo(run_async(lambda: _with_runtime(settings, _run)))
    except ConfigError as exc:
        fail(str(exc))


@import_app.command("customers")
def import_customers_command(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK) or XLSX export")],
    team: Annotated[
        str | None,
        typer.Option(help="Team key or name; default: each row's owner's team"),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the file and report, import nothing")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Import customers; re-running skips those already there. Exit 1 if some rows failed."""
    from services.customer_import import ImportFileError, import_customers, read_table
    from services.teams import find_team

    settings = settings_or_exit(config)
    try:
        table = read_table(file)
    except ImportFileError as exc:
        fail(f"Cannot import {file}: {exc}")

    async def _import(runtime: Runtime) -> tuple[list[str], bool]:
        async with runtime.sessions() as session, session.begin():
            team_id = None
            if team is not None:
                found = await find_team(session, team)
                if found is None or found.archived:
                    raise ConfigError(f"Unknown team {team!r}; `salesbot teams` lists them.")
                team_id = found.id
            report = await import_customers(
                session, table, team_id=team_id, now=runtime.clock.now()
            )
            if dry_run:
                await session.rollback()
        lines = report.lines()
        if dry_run:
            lines.insert(0, "Dry run: nothing was saved.")
        if report.errors:
            lines.append("The rows with errors were skipped; fix them and import the file again.")
        return lines, bool(report.errors)

    try:
        lines, had_errors = run_async(lambda: _with_runtime(settings, _import))
    except ConfigError as exc:
        fail(str(exc))
        return
    typer.echo("\n".join(lines))
    if had_errors:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
