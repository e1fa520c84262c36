"""/collections (open receivables, totals, aging; managers their team, directors the company),
/receivable (add one), the reminder and card buttons, dispute decisions, reconciliation, and
receivables files sent by managers.

Every id in a button is re-checked against the sender's visibility in the services.
"""

from __future__ import annotations

import asyncio

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from core.errors import UserFacingError
from handlers.collection_forms import (
    ADJUSTMENT_FORM,
    RECEIVABLE_FORM,
    RECONCILE_FORM,
    begin_action,
)
from handlers.commands import EVERYONE, declare
from handlers.forms import continue_form, start_form
from handlers.turn import Turn, turn_handler
from models.common import Role
from services import (
    collection_actions,
    collection_adjustments,
    customers,
    dunning,
    receivable_aging,
    receivable_import,
    receivables,
    reconciliation,
    teams,
)
from services.approval_cards import Env
from services.customer_import import ImportFileError
from services.receivable_aging import Scope
from views import collection_notices
from views import collections as views
from views.buttons import Keyboard
from views.callbacks import StaleButton
from views.imports import receivable_import_lines

ACTIONS = frozenset(action for action, _ in views.ACTIONS)
IMPORTERS = frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN})
MAX_FILE_BYTES = 5 * 1024 * 1024
# How long reading an uploaded file may take (the sheet's size is capped before that).
READ_SECONDS = 20

declare("collections", roles=EVERYONE, order=30)
declare("receivable", roles=frozenset({Role.REP, Role.MANAGER}), order=31)


def _data(turn: Turn) -> str | None:
    query = turn.update.callback_query
    return query.data if query is not None else None


# -- pages ----------------------------------------------------------------------------------


async def _list_page(turn: Turn, rep_id: int, page: int = 0) -> tuple[str, Keyboard]:
    """One person's open receivables: totals, aging and a line per customer, worst first."""
    owner = await receivables.visible_owner(turn.session, turn.actor, rep_id)
    # Days overdue count in the owner's team's time (someone in no team: UTC's day).
    team_id = owner.team_id or turn.actor.team_id
    today = (await turn.team(team_id)).today if team_id is not None else turn.now.date()
    _, customers = await receivables.customer_balances(turn.session, turn.actor, rep_id, today)
    aging = await receivable_aging.aging(turn.session, turn.deps.settings, Scope(rep_id=rep_id),
                                         turn.now)  # fmt: skip
    mine = rep_id == turn.actor.user_id
    pending = await reconciliation.pending_items(turn.session, turn.actor) if mine else []
    shown = views.ListPage(
        owner_id=rep_id, owner_name=owner.display_name, mine=mine, aging=aging,
        customers=customers, page=page, to_reconcile=len(pending),
        back_team=owner.team_id if not mine and turn.actor.role is not Role.REP else None,
    )  # fmt: skip
    return views.list_page(turn.deps.texts, turn.lang, shown)


async def _customer_page(turn: Turn, wanted: views.Browse) -> tuple[str, Keyboard]:
    """One customer's open documents of one person, each opening its card."""
    _, docs = await receivables.customer_documents(
        turn.session, turn.actor, wanted.owner, wanted.customer
    )
    customer = await customers.get_visible(turn.session, turn.actor, wanted.customer)
    shown = views.CustomerPage(
        owner_id=wanted.owner, customer_id=wanted.customer, customer=customer.name,
        documents=docs, today=(await turn.team(customer.team_id)).today, page=wanted.page,
        back=wanted.back,
    )  # fmt: skip
    return views.customer_page(turn.deps.texts, turn.lang, shown)


async def _team_page(
    turn: Turn, team_id: int, own_list: int | None = None
) -> tuple[str, Keyboard]:
    team = await receivables.visible_team(turn.session, turn.actor, team_id)
    aging = await receivable_aging.aging(turn.session, turn.deps.settings, Scope(team_id=team_id),
                                         turn.now)  # fmt: skip
    return views.team_page(turn.deps.texts, turn.lang, team.name, aging, own_list=own_list)


async def _company_page(turn: Turn) -> tuple[str, Keyboard]:
    aging = await receivable_aging.aging(turn.session, turn.deps.settings, Scope(), turn.now)
    shown = [(team.id or 0, team.name) for team in await teams.list_teams(turn.session)]
    return views.company_page(turn.deps.texts, turn.lang, aging, shown)


async def show_document(turn: Turn, receivable_id: int) -> None:
    """A receivable's card: amounts, dates, status, payments, and the action buttons."""
    doc = await receivables.document(turn.session, turn.actor, receivable_id)
    dispute = await receivables.open_dispute(turn.session, doc.id)
    payments = await receivables.payments_of(turn.session, doc.id)
    card = views.Card(
        document=doc, today=(await turn.team(doc.receivable.team_id)).today,
        dispute=dispute.reason if dispute else None,
        payments=[(payment.paid_on, payment.amount) for payment in payments],
    )  # fmt: skip
    turn.say(*views.document_card(turn.deps.texts, turn.lang, card))


# -- commands and buttons -------------------------------------------------------------------


@turn_handler()
async def collections_command(turn: Turn) -> None:
    """Reps: my open receivables; managers: the team; directors and admins: the company.
    ``/collections INV-1`` opens one document."""
    wanted = " ".join(turn.ctx.args or []).strip()
    if wanted:
        found = await receivables.visible_by_number(turn.session, turn.actor, wanted)
        await show_document(turn, found.id or 0)
        return
    if turn.actor.sees_all_teams():
        text, buttons = await _company_page(turn)
    elif turn.actor.role is Role.MANAGER and turn.actor.team_id is not None:
        text, buttons = await _team_page(turn, turn.actor.team_id, turn.actor.user_id)
    else:
        text, buttons = await _list_page(turn, turn.actor.user_id)
    turn.say(text, buttons)


@turn_handler()
async def on_view_button(turn: Turn) -> None:
    """Open a team or a rep's list from a view; both re-check what the sender may see."""
    wanted = views.OPEN.unpack(_data(turn))
    if wanted.kind == "t":
        # The team's own manager keeps their "my list" button when coming back to the team.
        own = turn.actor.role is Role.MANAGER and turn.actor.team_id == wanted.id
        text, buttons = await _team_page(turn, wanted.id, turn.actor.user_id if own else None)
    elif wanted.kind == "u":
        text, buttons = await _list_page(turn, wanted.id)
    else:
        raise StaleButton
    turn.say(text, buttons)


@turn_handler()
async def on_browse_button(turn: Turn) -> None:
    """A person's customers (a page of them), or one customer's documents: shown in place."""
    data = _data(turn) or ""
    fresh = data.split("|", 1)[0] == views.BROWSE_ON.prefix
    wanted = (views.BROWSE_ON if fresh else views.BROWSE).unpack(data)
    if wanted.customer:
        text, buttons = await _customer_page(turn, wanted)
    else:
        text, buttons = await _list_page(turn, wanted.owner, wanted.page)
    query = turn.update.callback_query
    message = query.message if query is not None else None
    if message is None or fresh:
        turn.say(text, buttons)
    else:
        turn.edit(message.message_id, text, buttons)


@turn_handler(roles=frozenset({Role.REP, Role.MANAGER}))
async def receivable_command(turn: Turn) -> None:
    """Add a receivable in a short form."""
    await start_form(turn, RECEIVABLE_FORM)


@turn_handler()
async def on_dunning_button(turn: Turn) -> None:
    """Reminder and card buttons: act on a reminder's documents or one document, open a
    document's card, or (a manager) resolve a dispute."""
    act = views.ACT.unpack(_data(turn))
    if act.on == "x":
        await _decide_dispute(turn, act)
    elif act.on == "d" and act.action == "o":
        await show_document(turn, act.id)
    elif act.on == "r" and act.action == "o":
        team = await turn.team(await dunning.reminder_team(turn.session, act.id))
        shown = await dunning.open_reminder(turn.session, turn.actor, act.id, team)
        turn.say(*collection_notices.reminder(turn.deps.texts, turn.lang, shown))
    elif act.on in ("d", "r") and act.action in ACTIONS:
        if act.on == "r":
            ids = await receivables.reminder_documents(turn.session, act.id)
        else:
            ids = [act.id]
        await begin_action(turn, act.action, ids)
    else:
        raise StaleButton


async def _decide_dispute(turn: Turn, act: views.Act) -> None:
    """A dispute card's button: ask whether the dispute is valid ("r"), then end it as not
    valid ("i": reminders resume) or open the credit note ("c") or write-off ("w") form."""
    env = Env(settings=turn.deps.settings, render=turn.render, now=turn.now)
    facts = await collection_adjustments.dispute_facts(turn.session, turn.actor, env, act.id)
    if act.action == "i":
        resolved = await collection_actions.resolve_dispute(
            turn.session, actor=turn.actor, render=turn.render, dispute_id=act.id, now=turn.now
        )
        key = "collections.dispute_already" if resolved.already else "collections.dispute_done"
        turn.say(views.text(turn.deps.texts, turn.lang, key, number=resolved.document_no))
        return
    collection_adjustments.check_open(facts, turn.lang)
    if act.action == "r":
        turn.say(*views.dispute_question(turn.deps.texts, turn.lang, facts))
    elif act.action in views.ADJUSTMENT_KINDS:
        kind = views.ADJUSTMENT_KINDS[act.action]
        await start_form(turn, ADJUSTMENT_FORM, {"dispute": act.id, "kind": kind})
    else:
        raise StaleButton


@turn_handler()
async def on_reconcile_button(turn: Turn) -> None:
    """Reconciliation: open an item, the customer confirmed, the customer's figure differs, or
    the list of balances still to reconcile."""
    wanted = views.RECONCILE.unpack(_data(turn))
    if wanted.action == "l":
        pending = await reconciliation.pending_items(turn.session, turn.actor)
        shown = [(item.id or 0, name, item.balance, item.currency) for item, name in pending]
        turn.say(*views.reconcile_list(turn.deps.texts, turn.lang, shown))
        return
    if wanted.item is None or wanted.action not in ("o", "y", "n"):
        raise StaleButton
    if wanted.action == "y":
        _, name = await reconciliation.confirm_item(
            turn.session, actor=turn.actor, item_id=wanted.item, now=turn.now
        )
        turn.say(views.text(turn.deps.texts, turn.lang, "collections.recon_confirmed",
                            customer=name))  # fmt: skip
    elif wanted.action == "n":
        await start_form(turn, RECONCILE_FORM, {"item": wanted.item})
    else:
        item, name = await reconciliation.get_item(turn.session, turn.actor, wanted.item)
        turn.say(*views.reconcile_card(
            turn.deps.texts, turn.lang, item_id=wanted.item, customer=name,
            balance=item.balance, currency=item.currency, status=str(item.status),
        ))  # fmt: skip


@turn_handler()
async def on_file(turn: Turn) -> None:
    """A manager sends the back office's receivables file (CSV or XLSX): import it."""
    if await continue_form(turn):
        return
    if turn.actor.role not in IMPORTERS:
        turn.say_key("fallback.not_understood")
        return
    document = turn.update.effective_message.document if turn.update.effective_message else None
    assert document is not None
    name = document.file_name or "file"
    if not name.lower().endswith((".csv", ".xlsx", ".xlsm", ".txt")):
        raise UserFacingError("collections.import_wrong_type")
    if (document.file_size or 0) > MAX_FILE_BYTES:
        raise UserFacingError("collections.import_too_big")
    data = bytes(await (await turn.ctx.bot.get_file(document.file_id)).download_as_bytearray())
    table = await _read_upload(name, data)
    report = await receivable_import.import_receivables(
        turn.session, table, settings=turn.deps.settings,
        team_id=None if turn.actor.sees_all_teams() else turn.actor.team_id, now=turn.now,
        actor=turn.actor,
    )  # fmt: skip
    turn.say("\n".join(receivable_import_lines(turn.deps.texts, turn.lang, report)))


async def _read_upload(name: str, data: bytes) -> receivable_import.Table:
    """Parse an uploaded file in a worker thread, so that other people's updates go on while it
    is read; the reader gives up by itself after READ_SECONDS, and the wait is bounded too."""
    read = asyncio.to_thread(
        receivable_import.read_receivables_data, name, data, time_limit=READ_SECONDS
    )
    try:
        return await asyncio.wait_for(read, timeout=READ_SECONDS + 5)
    except TimeoutError:
        raise UserFacingError("collections.import_too_slow", seconds=READ_SECONDS) from None
    except ImportFileError as error:
        if error.key is not None:
            raise UserFacingError(error.key, **error.params) from None
        raise UserFacingError("collections.import_unreadable", reason=str(error)) from None


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("collections", collections_command))
    app.add_handler(CommandHandler("receivable", receivable_command))
    app.add_handler(CallbackQueryHandler(on_dunning_button, pattern=views.ACT.pattern))
    app.add_handler(CallbackQueryHandler(on_view_button, pattern=views.OPEN.pattern))
    app.add_handler(CallbackQueryHandler(on_browse_button, pattern=views.BROWSE.pattern))
    app.add_handler(CallbackQueryHandler(on_browse_button, pattern=views.BROWSE_ON.pattern))
    app.add_handler(CallbackQueryHandler(on_reconcile_button, pattern=views.RECONCILE.pattern))
    app.add_handler(MessageHandler(filters.Document.ALL & ~filters.COMMAND, on_file))
