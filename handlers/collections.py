"""/collections (open receivables, totals, aging; managers their team, directors the company),
/receivable (add one), the reminder and card buttons, dispute decisions, reconciliation, and
receivables files sent by managers.

Every id in a button is re-checked against the sender's visibility in the services.
"""

from __future__ import annotations

import asyncio
import html

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from core.errors import UserFacingError
from core.periods import format_day, format_short_day, local_today
from core.settings import TeamSettings
from handlers.collection_forms import RECEIVABLE_FORM, RECONCILE_FORM, begin_action
from handlers.commands import EVERYONE, declare
from handlers.forms import continue_form, start_form
from handlers.replies import Button, Keyboard
from handlers.turn import Turn, turn_handler
from models.common import Role
from models.receivable import ReceivableStatus
from services import (
    collection_actions,
    receivable_aging,
    receivable_import,
    receivables,
    reconciliation,
    teams,
)
from services.collection_texts import action_buttons, document_line, when_label
from services.customer_import import ImportFileError
from services.money import money, totals_text
from services.receivable_aging import Aging, Figures, Scope
from services.receivables import BUCKETS, OVERDUE_BUCKETS

VIEW = "co"
RECON = "rc"
LIST_LIMIT = 40
CARD_BUTTONS = 8
IMPORTERS = frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN})
MAX_FILE_BYTES = 5 * 1024 * 1024
# How long reading an uploaded file may take (the sheet's size is capped before that).
READ_SECONDS = 20

declare("collections", roles=EVERYONE, order=30)
declare("receivable", roles=frozenset({Role.REP, Role.MANAGER}), order=31)


def _buttons(rows: list[list[dict[str, str]]]) -> Keyboard:
    return [[Button(b["text"], data=b["data"]) for b in row] for row in rows]


def _parse(data: str | None) -> tuple[str, str, str]:
    parts = ((data or "") + "||").split("|")
    return parts[0], parts[1], parts[2]


# -- rendering ------------------------------------------------------------------------------


def _aging_lines(turn: Turn, figures: Figures) -> list[str]:
    if not figures.count:
        return [turn.t("collections.nothing_open_view")]
    lines = [
        turn.t("collections.totals", count=figures.count,
               total=totals_text(figures.totals(), turn.lang),
               overdue=totals_text(figures.totals(OVERDUE_BUCKETS), turn.lang)),
        turn.t("collections.aging_header"),
    ]  # fmt: skip
    for bucket in BUCKETS:
        amounts = figures.bucket(bucket)
        if amounts:
            label = turn.t(f"collections.bucket_{bucket.replace('-', '_').replace('+', 'plus')}")
            lines.append(
                turn.t("collections.bucket_line", bucket=label,
                       total=totals_text(amounts, turn.lang))
            )  # fmt: skip
    return lines


def _rep_lines(turn: Turn, aging: Aging, team_id: int | None = None) -> tuple[list[str], Keyboard]:
    lines, buttons = [], []
    reps = [(rep, f) for rep, f in aging.reps.items() if team_id is None or
            aging.rep_teams.get(rep) == team_id]  # fmt: skip
    reps.sort(key=lambda pair: aging.rep_names.get(pair[0] or 0, ""))
    for rep_id, figures in reps:
        name = aging.rep_names.get(rep_id or 0) or turn.t("collections.no_owner")
        lines.append(
            turn.t("collections.rep_line", name=html.escape(name), count=figures.count,
                   total=totals_text(figures.totals(), turn.lang),
                   overdue=totals_text(figures.totals(OVERDUE_BUCKETS), turn.lang))
        )  # fmt: skip
        if rep_id is not None:
            buttons.append([Button(name[:40], data=f"{VIEW}|u|{rep_id}")])
    return lines, buttons


async def _list_page(turn: Turn, rep_id: int) -> tuple[str, Keyboard]:
    """One rep's open receivables by due date, with totals and aging."""
    owner, docs = await receivables.open_documents_of(
        turn.session, turn.actor, rep_id, limit=LIST_LIMIT
    )
    aging = await receivable_aging.aging(turn.session, turn.deps.settings, Scope(rep_id=rep_id),
                                    turn.now)  # fmt: skip
    mine = rep_id == turn.actor.user_id
    header = "collections.my_header" if mine else "collections.rep_header"
    lines = [turn.t(header, name=html.escape(owner.display_name))]
    lines += _aging_lines(turn, aging.total)
    today = local_today(turn.now, (await _rules(turn, owner.team_id)).timezone)
    if docs:
        lines.append(turn.t("collections.by_due_date"))
    for doc in docs:
        receivable = doc.receivable
        line = document_line(
            turn.deps.texts, turn.lang, number=receivable.document_no, balance=doc.balance,
            amount=receivable.amount, currency=receivable.currency, due_on=receivable.due_on,
            today=today, customer=doc.customer_name,
        )  # fmt: skip
        lines.append(line + _status_mark(turn, doc))
    if aging.total.count > len(docs):
        lines.append(turn.t("collections.more", count=aging.total.count - len(docs)))
    overdue_first = sorted(docs, key=lambda d: d.receivable.due_on)[:CARD_BUTTONS]
    buttons: Keyboard = [
        [Button(f"{d.receivable.document_no} · {d.customer_name}"[:50],
                data=f"dn|d{d.id}|o")]
        for d in overdue_first
    ]  # fmt: skip
    if mine:
        pending = await reconciliation.pending_items(turn.session, turn.actor)
        if pending:
            label = turn.t("collections.btn_reconcile", count=len(pending))
            buttons.append([Button(label, data=f"{RECON}|l|0")])
    return "\n".join(lines), buttons


def _status_mark(turn: Turn, doc: receivables.Document) -> str:
    if doc.receivable.status == ReceivableStatus.DISPUTED:
        return " " + turn.t("collections.mark_disputed")
    if doc.promised_on is not None:
        day = format_short_day(doc.promised_on, turn.lang)
        return " " + turn.t("collections.mark_promised", day=day)
    return ""


async def _rules(turn: Turn, team_id: int | None) -> TeamSettings:
    return await receivables.team_rules(turn.session, turn.deps.settings, team_id or 0)


async def _team_page(turn: Turn, team_id: int) -> tuple[str, Keyboard]:
    team = await receivables.visible_team(turn.session, turn.actor, team_id)
    aging = await receivable_aging.aging(turn.session, turn.deps.settings, Scope(team_id=team_id),
                                    turn.now)  # fmt: skip
    lines = [turn.t("collections.team_header", team=html.escape(team.name))]
    lines += _aging_lines(turn, aging.total)
    rep_lines, buttons = _rep_lines(turn, aging)
    if rep_lines:
        lines.append(turn.t("collections.per_rep"))
        lines += rep_lines
    return "\n".join(lines), buttons


async def _company_page(turn: Turn) -> tuple[str, Keyboard]:
    aging = await receivable_aging.aging(turn.session, turn.deps.settings, Scope(), turn.now)
    lines = [turn.t("collections.company_header")]
    lines += _aging_lines(turn, aging.total)
    buttons: Keyboard = []
    for team in await teams.list_teams(turn.session):
        figures = aging.teams.get(team.id or 0)
        if figures is None:
            continue
        lines.append(
            turn.t("collections.team_line", team=html.escape(team.name), count=figures.count,
                   total=totals_text(figures.totals(), turn.lang),
                   overdue=totals_text(figures.totals(OVERDUE_BUCKETS), turn.lang))
        )  # fmt: skip
        rep_lines, _ = _rep_lines(turn, aging, team.id)
        lines += ["   " + line for line in rep_lines]
        buttons.append([Button(team.name[:40], data=f"{VIEW}|t|{team.id}")])
    return "\n".join(lines), buttons


async def show_document(turn: Turn, receivable_id: int, edit: int | None = None) -> None:
    """A receivable's card: amounts, dates, status, payments, and the action buttons."""
    doc = await receivables.document(turn.session, turn.actor, receivable_id)
    receivable = doc.receivable
    rules = await _rules(turn, receivable.team_id)
    today = local_today(turn.now, rules.timezone)
    currency, lang = receivable.currency, turn.lang
    lines = [
        turn.t("collections.card_header", number=html.escape(receivable.document_no),
               customer=html.escape(doc.customer_name)),
        turn.t("collections.card_amounts", amount=money(receivable.amount, currency, lang),
               paid=money(doc.paid, currency, lang), balance=money(doc.balance, currency, lang)),
        turn.t("collections.card_dates", issued=format_day(receivable.issued_on, lang),
               due=format_day(receivable.due_on, lang),
               when=when_label(turn.deps.texts, lang, receivable.due_on, today)),
    ]  # fmt: skip
    lines.append(turn.t(f"collections.status_{receivable.status}") + _status_mark(turn, doc))
    dispute = await receivables.open_dispute(turn.session, doc.id)
    if dispute is not None:
        lines.append(turn.t("collections.card_dispute", reason=html.escape(dispute.reason)))
    for payment in await receivables.payments_of(turn.session, doc.id):
        lines.append(
            turn.t("collections.card_payment", day=format_short_day(payment.paid_on, lang),
                   amount=money(payment.amount, currency, lang))
        )  # fmt: skip
    open_ = receivable.status != ReceivableStatus.PAID and doc.balance > 0
    buttons = _buttons(action_buttons(turn.deps.texts, lang, f"d{doc.id}")) if open_ else []
    if edit is not None:
        turn.edit(edit, "\n".join(lines), buttons)
    else:
        turn.say("\n".join(lines), buttons)


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
        text, buttons = await _team_page(turn, turn.actor.team_id)
        buttons.append(
            [Button(turn.t("collections.btn_mine"), data=f"{VIEW}|u|{turn.actor.user_id}")]
        )
    else:
        text, buttons = await _list_page(turn, turn.actor.user_id)
    turn.say(text, buttons)


@turn_handler()
async def on_view_button(turn: Turn) -> None:
    """Open a team or a rep's list from a view; both re-check what the sender may see."""
    query = turn.update.callback_query
    assert query is not None and query.message is not None
    _, kind, raw_id = _parse(query.data)
    if not raw_id.isdigit():
        raise UserFacingError("forms.stale_button")
    if kind == "t":
        text, buttons = await _team_page(turn, int(raw_id))
    else:
        text, buttons = await _list_page(turn, int(raw_id))
    turn.say(text, buttons)


@turn_handler(roles=frozenset({Role.REP, Role.MANAGER}))
async def receivable_command(turn: Turn) -> None:
    """Add a receivable in a short form."""
    await start_form(turn, RECEIVABLE_FORM)


@turn_handler()
async def on_dunning_button(turn: Turn) -> None:
    """Reminder and card buttons: ``dn|r<reminder>|<action>``, ``dn|d<receivable>|<action>``,
    ``dn|x<dispute>|r`` (a manager resolving a dispute)."""
    query = turn.update.callback_query
    assert query is not None
    _, target, action = _parse(query.data)
    kind, raw_id = target[:1], target[1:]
    if not raw_id.isdigit() or action not in ("f", "p", "m", "d", "c", "o", "r"):
        raise UserFacingError("forms.stale_button")
    if kind == "x" and action == "r":
        resolved = await collection_actions.resolve_dispute(
            turn.session, actor=turn.actor, texts=turn.deps.texts, dispute_id=int(raw_id),
            now=turn.now,
        )  # fmt: skip
        key = "collections.dispute_already" if resolved.already else "collections.dispute_done"
        turn.say_key(key, number=html.escape(resolved.document_no))
    elif kind == "d" and action == "o":
        await show_document(turn, int(raw_id))
    elif kind in ("d", "r"):
        ids = (
            await receivables.reminder_documents(turn.session, int(raw_id))
            if kind == "r"
            else [int(raw_id)]
        )
        await begin_action(turn, action, ids)
    else:
        raise UserFacingError("forms.stale_button")


@turn_handler()
async def on_reconcile_button(turn: Turn) -> None:
    """Reconciliation: ``rc|<item>|o`` open, ``y`` confirmed, ``n`` a different figure,
    ``rc|l|0`` the list of balances still to reconcile."""
    query = turn.update.callback_query
    assert query is not None
    _, raw_id, action = _parse(query.data)
    if raw_id == "l":
        await _reconcile_list(turn)
        return
    if not raw_id.isdigit():
        raise UserFacingError("forms.stale_button")
    if action == "y":
        _, name = await reconciliation.confirm_item(
            turn.session, actor=turn.actor, item_id=int(raw_id), now=turn.now
        )
        turn.say_key("collections.recon_confirmed", customer=html.escape(name))
    elif action == "n":
        await start_form(turn, RECONCILE_FORM, {"item": int(raw_id)})
    else:
        item, name = await reconciliation.get_item(turn.session, turn.actor, int(raw_id))
        text = turn.t("collections.recon_card", customer=html.escape(name),
                      balance=money(item.balance, item.currency, turn.lang))  # fmt: skip
        if item.status != "pending":
            turn.say(text + "\n" + turn.t(f"collections.recon_status_{item.status}"))
            return
        yes = Button(turn.t("collections.btn_recon_yes"), data=f"{RECON}|{item.id}|y")
        no = Button(turn.t("collections.btn_recon_no"), data=f"{RECON}|{item.id}|n")
        turn.say(text, [[yes, no]])


async def _reconcile_list(turn: Turn) -> None:
    pending = await reconciliation.pending_items(turn.session, turn.actor)
    if not pending:
        turn.say_key("collections.recon_none")
        return
    rows = [[Button(f"{name[:40]} · {money(item.balance, item.currency, turn.lang)}",
                    data=f"{RECON}|{item.id}|o")] for item, name in pending[:30]]  # fmt: skip
    turn.say(turn.t("collections.recon_pending", count=len(pending)), rows)


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
    turn.say("\n".join(report.lines(turn.deps.texts, turn.lang)))


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
    app.add_handler(CallbackQueryHandler(on_dunning_button, pattern=r"^dn\|"))
    app.add_handler(CallbackQueryHandler(on_view_button, pattern=rf"^{VIEW}\|"))
    app.add_handler(CallbackQueryHandler(on_reconcile_button, pattern=rf"^{RECON}\|"))
    app.add_handler(MessageHandler(filters.Document.ALL & ~filters.COMMAND, on_file))
