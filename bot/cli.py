"""The `salesbot` command line: run the bot, the demo, migrations and back-office tasks."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.app import Runtime, open_runtime
from bot.logs import setup_logging
from bot.migrate import (
    UPGRADE_COMMAND,
    SchemaOutdatedError,
    current_revision,
    head_revision,
    upgrade,
)
from core.db import DatabaseMissingError, create_engine, transaction
from core.settings import ConfigError, Settings, load_settings
from models.common import Role
from models.user import User
from scheduler.core import Scheduler
from scheduler.registry import JobContext
from services.approval_types import check_routes

T = TypeVar("T")


def _typer(
    help: str, *, no_args_is_help: bool = False, invoke_without_command: bool = False
) -> typer.Typer:
    # Help texts are plain text: rich markup would eat "[webhook]" and "[access] admins".
    return typer.Typer(
        help=help, rich_markup_mode=None, add_completion=False,
        no_args_is_help=no_args_is_help, invoke_without_command=invoke_without_command,
    )  # fmt: skip


app = _typer(
    "salesbot: the Telegram bot that runs a field sales team's daily routine.",
    no_args_is_help=True,
)
db_app = _typer("Database schema.", no_args_is_help=True)
user_app = _typer("People and access.", no_args_is_help=True)
jobs_app = _typer(
    "Scheduled jobs: `salesbot jobs` lists them; `salesbot jobs run` runs one now.",
    invoke_without_command=True,
)
import_app = _typer("Import the back office's exports (CSV or XLSX).", no_args_is_help=True)
invite_app = _typer(
    "Invite links: `salesbot invite --role rep --team north` makes one; "
    "`salesbot invite list` and `salesbot invite revoke` manage those not used yet.",
    invoke_without_command=True,
)
app.add_typer(db_app, name="db")
app.add_typer(invite_app, name="invite")
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


def settings_or_exit(config: Path | None, *, quiet: bool = False) -> Settings:
    """The settings, or exit with the configuration error; ``quiet`` commands log no INFO."""
    try:
        settings = load_settings(config)
        check_routes({key: team.approvals.routes for key, team in settings.team_settings.items()})
    except ConfigError as exc:
        fail(str(exc))
        raise AssertionError("unreachable") from exc
    except ValueError as exc:
        fail(f"Configuration error: {exc}")
        raise AssertionError("unreachable") from exc
    level = settings.logging.level
    if quiet and level in ("DEBUG", "INFO"):
        level = "WARNING"
    setup_logging(level, settings.logging.format, secrets=settings.secrets())
    return settings


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    try:
        return asyncio.run(factory())  # type: ignore[arg-type]
    except SchemaOutdatedError as exc:
        fail(str(exc))
        raise AssertionError("unreachable") from exc
    except DatabaseMissingError as exc:
        fail(f"{exc}: run `{UPGRADE_COMMAND}` to create it.")
        raise AssertionError("unreachable") from exc


async def _with_runtime(
    settings: Settings, work: Callable[[Runtime], Awaitable[T]], *, read_only: bool = False
) -> T:
    runtime = await open_runtime(settings, read_only=read_only)
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
    from bot.runner import StartupError, admin_warning, run_polling
    from bot.webhook import run_webhook

    settings = settings_or_exit(config)
    use_webhook = webhook or settings.webhook.enabled
    try:
        settings.require_token()
        if use_webhook:
            settings.webhook.require_secret()
    except ConfigError as exc:
        fail(str(exc))

    async def _serve(runtime: Runtime) -> None:
        warning = await admin_warning(runtime)
        if warning:
            typer.secho(warning, err=True, fg=typer.colors.YELLOW, bold=True)
        await (run_webhook if use_webhook else run_polling)(runtime)

    async def _run() -> None:
        await _with_runtime(settings, _serve)

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
    files_dir: Annotated[
        Path | None,
        typer.Option(
            help="Save the photos and files the bot sends here "
            "(default: DATA_DIR/files, else a new temporary folder that is kept)."
        ),
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option(
            help="Start the demo's clock here, e.g. 2026-11-25T10:00:00+08:00 (default: now)."
        ),
    ] = None,
) -> None:
    """Try salesbot with a demo company on a local fake Telegram: no token, no network."""
    from sandbox.demo import run_demo

    setup_logging("WARNING")
    # Whatever bytes a person pipes in or puts in a script are text to the demo, never a crash.
    lines = script.read_text(encoding="utf-8", errors="replace").splitlines() if script else None
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")
    try:
        asyncio.run(run_demo(script=lines, data_dir=data_dir, files_dir=files_dir, start=start))
    except KeyboardInterrupt:
        typer.echo("")


@app.command()
def sandbox(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8081,
    inline_mode: Annotated[
        bool,
        typer.Option(
            help="Report inline mode on in getMe, as after BotFather's /setinline "
            "(off by default, as for a new bot)."
        ),
    ] = False,
) -> None:
    """Run the fake Telegram Bot API alone (point SALESBOT_API_URL at it)."""
    from sandbox import Sandbox

    setup_logging("INFO")
    with Sandbox(port=port, inline_mode=inline_mode) as server:
        typer.echo(f"Bot API:     {server.base_url}\nFiles:       {server.base_file_url}")
        typer.echo(f"Control API: {server.control_url}\nCtrl+C stops it.")
        try:
            while True:
                asyncio.run(asyncio.sleep(3600))
        except KeyboardInterrupt:
            pass


@app.command()
def backup(
    path: Annotated[
        Path | None,
        typer.Argument(help="Folder to write the backup to (default: [backup] folder)."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Back the database up now, while the bot runs: compressed, named by time, with a checksum."""
    from datetime import UTC, datetime

    from services.backups import BackupError, create_backup

    settings = settings_or_exit(config, quiet=True)
    folder = path or settings.backup_folder
    try:
        made = create_backup(settings.database_url, folder, now=datetime.now(UTC))
    except (BackupError, OSError) as exc:
        fail(f"Backup failed: {exc}", code=1)
        return
    lines = [
        f"Backup: {made.path} ({made.size:,} bytes)",
        f"SHA-256: {made.sha256} ({made.checksum_path.name})",
        f"Manifest: {made.manifest_path.name}"
        + (f" (schema {made.revision}, {sum(t.rows for t in made.tables.values()):,} rows)"
           if made.tables else ""),
        *made.files.lines(),
    ]  # fmt: skip
    typer.echo("\n".join(lines))


@app.command()
def restore(
    file: Annotated[
        Path, typer.Argument(help="The backup archive (salesbot-....sqlite.gz or .pgdump).")
    ],
    into: Annotated[
        str | None,
        typer.Option(
            help="The new database: a file for a SQLite backup (default: "
            "salesbot-restored-<time>.db beside the configured one); for a PostgreSQL dump, "
            "a new database's name on the configured server or its URL (default: "
            "salesbot_restored_<time>)."
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            help="Put it in place of the configured database (the bot must be "
            "stopped; the old file is kept beside it)."
        ),
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Restore a backup into a new database: checksum verified, migrated to this version."""
    from datetime import UTC, datetime

    from bot.restore import restore as restore_backup
    from services.backups import BackupError

    settings = settings_or_exit(config, quiet=True)
    target: Path | str | None = into
    if replace and into is None:
        from services.backups import sqlite_path

        target = sqlite_path(settings.database_url)
    try:
        restored = asyncio.run(
            restore_backup(settings, file, into=target, replace=replace, now=datetime.now(UTC))
        )
    except BackupError as exc:
        fail(f"Not restored: {exc}")
        return
    typer.echo("\n".join(restored.lines()))


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
    """Show the schema revision of the database and of the code; exit 1 if they differ."""
    settings = settings_or_exit(config, quiet=True)

    async def _current() -> str | None:
        engine = create_engine(settings.database_url, read_only=True)
        try:
            return await current_revision(engine)
        finally:
            await engine.dispose()

    current, head = run_async(_current), head_revision()
    typer.echo(f"database: {current or 'empty'}\ncode:     {head}")
    if current != head:
        fail(f"The database schema is out of date: run `{UPGRADE_COMMAND}`.", code=1)


@app.command()
def teams(
    config: ConfigOption = None,
    team: Annotated[
        str | None, typer.Option(help="Show every effective setting of this team (its key).")
    ] = None,
) -> None:
    """List the teams (config.toml and database) with their main settings; changes nothing."""
    from bot.cli_views import settings_lines, team_table
    from services.teams import list_teams

    settings = settings_or_exit(config, quiet=True)
    if team is not None and team not in settings.team_settings:
        fail(f"No team {team!r} in config.toml; `salesbot teams` lists them.")

    async def _list(runtime: Runtime) -> list[str]:
        async with transaction(runtime.sessions) as session:
            stored = await list_teams(session, include_archived=True)
        if team is not None:
            return settings_lines(settings.team(team).model_dump(mode="json"))
        if not stored and not settings.team_settings:
            return ["No teams: declare them under [teams.<key>] in config.toml."]
        return team_table(settings, stored)

    lines = run_async(lambda: _with_runtime(settings, _list, read_only=True))
    typer.echo("\n".join(lines))


@invite_app.callback()
def invite(
    ctx: typer.Context,
    role: Annotated[Role | None, typer.Option(help="rep, manager, director or admin")] = None,
    team: Annotated[str | None, typer.Option(help="Team key or name (reps and managers)")] = None,
    config: ConfigOption = None,
) -> None:
    """Create a single-use invite link for a new user."""
    from services.invites import create_invite
    from services.teams import find_team
    from services.timefmt import format_local

    if ctx.invoked_subcommand is not None:
        return
    if role is None:
        fail("Give --role (rep, manager, director or admin); `salesbot invite --help` says more.")
        return
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

    _echo_or_fail(settings, _create)


@invite_app.command("list")
def invite_list(config: ConfigOption = None) -> None:
    """List the invites not used yet (their links cannot be shown again: only a hash is kept)."""
    from services.invites import label, pending_invites
    from services.timefmt import format_local

    settings = settings_or_exit(config)

    async def _list(runtime: Runtime) -> str:
        async with transaction(runtime.sessions) as session:
            pending = await pending_invites(session, None, runtime.clock.now())
        lines = []
        for item in pending:
            tz = settings.team(item.team.key if item.team else "").timezone
            by = item.made_by.display_name if item.made_by else "command line"
            lines.append(
                f"{label(item.invite)} {item.invite.role} "
                f"team={item.team.key if item.team else '-'} by {by}, "
                f"expires {format_local(item.invite.expires_at, tz)}"
            )
        return "\n".join(lines) or "No invites are waiting to be used."

    _echo_or_fail(settings, _list)


@invite_app.command("revoke")
def invite_revoke(
    which: Annotated[str, typer.Argument(help="Invite number (#12, as `list` shows) or its link")],
    config: ConfigOption = None,
) -> None:
    """Revoke an invite that was not used yet: its link stops working at once."""
    from services.invites import find_invite, label, revoke

    settings = settings_or_exit(config)

    async def _revoke(runtime: Runtime) -> str:
        async with transaction(runtime.sessions) as session:
            found = await find_invite(session, which)
            if found is None or found.id is None:
                raise ConfigError(f"No invite {which!r}; `salesbot invite list` shows them.")
            revoked = await revoke(
                session, actor=None, invite_id=found.id, now=runtime.clock.now()
            )
        return f"Invite {label(revoked)} is revoked: its link no longer works."

    _echo_or_fail(settings, _revoke)


def _echo_or_fail(settings: Settings, work: Callable[[Runtime], Awaitable[str]]) -> None:
    """Run ``work`` and print its answer; a refusal is printed in English with exit code 2."""
    from core.errors import UserFacingError

    try:
        typer.echo(run_async(lambda: _with_runtime(settings, work)))
    except ConfigError as exc:
        fail(str(exc))
    except UserFacingError as exc:
        from core.i18n import load_catalogs

        fail(load_catalogs().t("en", exc.key, **exc.params))


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

    settings = settings_or_exit(config, quiet=True)

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

    listed = run_async(lambda: _with_runtime(settings, _list, read_only=True))
    typer.echo("\n".join(listed) or "No users.")


async def _named_user(session: AsyncSession, who: str) -> User:
    from services.users import find_user

    user = await find_user(session, who)
    if user is None or user.id is None:
        raise ConfigError(f"No user {who!r}; `salesbot user list` shows them.")
    return user


@user_app.command("deactivate")
def user_deactivate(
    who: Annotated[
        str, typer.Argument(metavar="WHO", help="Telegram id, @username or #internal-id")
    ],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")] = "",
    config: ConfigOption = None,
) -> None:
    """End a user's access at once (their data stays)."""
    from services.offboarding import deactivate
    from views.render import renderer

    settings = settings_or_exit(config)

    async def _deactivate(runtime: Runtime) -> str:
        async with transaction(runtime.sessions) as session:
            user = await _named_user(session, who)
            if not user.active:
                return f"{user.display_name} was already deactivated."
            done = await deactivate(
                session, actor=None, target_id=user.id or 0, now=runtime.clock.now(),
                render=renderer(runtime.texts), reason=reason or "command line",
            )  # fmt: skip
            revoked = f"; {done.invites_revoked} unused invite(s) revoked"
            return f"{user.display_name} is deactivated{revoked if done.invites_revoked else ''}."

    _echo_or_fail(settings, _deactivate)


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
    from core.errors import UserFacingError
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
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="CSV (UTF-8 or GBK) or XLSX export")
    ],
    team: Annotated[
        str | None,
        typer.Option(help="Team key: import only this team's rows (default: the owner's team)"),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Create or update receivables from an export; re-runnable. Exit 1 if some rows failed."""
    from services.customer_import import ImportFileError
    from services.receivable_import import import_receivables as run_import
    from services.receivable_import import read_receivables
    from services.teams import find_team
    from views.imports import receivable_import_lines

    settings = settings_or_exit(config)

    async def _import(runtime: Runtime) -> tuple[list[str], bool]:
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
        lines = receivable_import_lines(runtime.texts, "en", report, for_chat=False)
        return lines, bool(report.errors)

    try:
        lines, had_errors = run_async(lambda: _with_runtime(settings, _import))
    except (ConfigError, ImportFileError) as exc:
        fail(str(exc))
        return
    _import_report(lines, had_errors)


def _scheduler(runtime: Runtime, instance: str) -> Scheduler:
    ctx = JobContext(runtime.sessions, runtime.clock, runtime.settings, runtime.texts)
    return Scheduler(ctx, instance)


@jobs_app.callback()
def jobs_list(ctx: typer.Context, config: ConfigOption = None) -> None:
    """List every job per team with its schedule, last run and next run."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_or_exit(config, quiet=True)

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

    typer.echo("\n".join(run_async(lambda: _with_runtime(settings, _list, read_only=True))))


@jobs_app.command("run")
def jobs_run(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Job name, as `salesbot jobs` lists it")
    ],
    team: Annotated[str, typer.Option(help="Team key")],
    period: Annotated[
        str | None, typer.Option(help="Period key, e.g. 2026-11-24, 2026-W48 or 2026-11")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Run even if this period already ran")
    ] = False,
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
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="CSV (UTF-8 or GBK) or XLSX export")
    ],
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
    from views.imports import customer_import_lines

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
        lines = customer_import_lines(report)
        if dry_run:
            lines.insert(0, "Dry run: nothing was saved.")
        return lines, bool(report.errors)

    try:
        lines, had_errors = run_async(lambda: _with_runtime(settings, _import))
    except ConfigError as exc:
        fail(str(exc))
        return
    _import_report(lines, had_errors)


def _import_report(lines: list[str], had_errors: bool) -> None:
    """Print an import's report; refused rows make the exit code 1, so a script notices."""
    if had_errors:
        lines = [*lines, "The rows with errors were skipped; fix them and import the file again."]
    typer.echo("\n".join(lines))
    if had_errors:
        raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
