"""/help lists exactly the commands of the sender's role; /cancel drops an open form."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler

from handlers.commands import commands_for, declare
from handlers.forms import cancel_open_form
from handlers.turn import Turn, turn_handler
from models.common import Role

declare("help", order=1)
declare("cancel", order=99)


def help_text(turn: Turn) -> str:
    role = Role(turn.user.role) if turn.user else None
    lines = [turn.t("help.header")]
    for command in commands_for(role):
        if command.name == "start":
            continue
        lines.append(f"/{command.name} — {turn.t(command.description_key)}")
    return "\n".join(lines)


@turn_handler()
async def help_command(turn: Turn) -> None:
    """List the commands this person can use."""
    turn.say(help_text(turn))


@turn_handler()
async def cancel(turn: Turn) -> None:
    """Drop the open form, if any."""
    told = await cancel_open_form(turn)
    turn.say(told or turn.t("forms.nothing_to_cancel"), remove_reply_keyboard=True)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("cancel", cancel))
