"""Collections forms: adding a receivable (/receivable), the amount of a partial payment, the
promised date, the reason of a dispute (from a reminder's buttons), and a reconciliation
difference. Their state lives in the database like every form."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from core.errors import UserFacingError
from core.i18n import currency_unit
from core.periods import format_day, format_short_day
from handlers.customer_fields import expect_text
from handlers.forms import Form, FormInput, InputError, Prompt, register_form, start_form
from handlers.turn import Turn
from models.common import Role
from models.receivable import AdjustmentKind
from services import (
    collection_actions,
    collection_adjustments,
    customers,
    receivables,
    reconciliation,
)
from services.approval_cards import Env
from services.dates import parse_date
from services.money import money, read_money, totals_text
from services.receivables import Document, NewReceivable
from views import collections as views

ADDERS = frozenset({Role.REP, Role.MANAGER})
DUE_CHOICES = (30, 60, 90)
PROMISE_CHOICES = (1, 3, 7, 14)


def _int(raw: str) -> int:
    if not raw.isdigit():
        raise InputError("forms.use_buttons")
    return int(raw)


def _typed_date(turn: Turn, answer: FormInput, today: date) -> date:
    if answer.choice is not None:
        if answer.choice.startswith("d:"):
            try:
                return date.fromisoformat(answer.choice[2:])
            except ValueError:
                pass
        raise InputError("forms.use_buttons")
    day = parse_date(expect_text(answer), today)
    if day is None:
        raise InputError("collections.date_unreadable")
    return day


def _day_choice(turn: Turn, start: date, days: int) -> tuple[str, str]:
    """A button for the day ``days`` after ``start``: "In 7 days (Tue 1 Dec)"."""
    day = start + timedelta(days=days)
    label = turn.tn("collections.in_days", days, days=days, day=format_short_day(day, turn.lang))
    return label, f"d:{day.isoformat()}"


async def _guarded(turn: Turn, work: Any) -> Any:
    """Run a service call in a savepoint; its refusal re-asks the question instead of failing."""
    try:
        async with turn.session.begin_nested():
            return await work
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None


# -- reporting what was recorded ------------------------------------------------------------


def say(turn: Turn, key: str, /, **params: Any) -> None:
    """The text ``key`` with its user values escaped (views.collections.text)."""
    turn.say(views.text(turn.deps.texts, turn.lang, key, **params))


async def begin_action(turn: Turn, action: str, ids: list[int]) -> None:
    """A reminder or card button: ask which document, then how much, how, when or why."""
    docs = await collection_actions.actionable(turn.session, turn.actor, ids)
    await start_form(turn, COLLECT_FORM, {"ids": [doc.id for doc in docs], "action": action})


# -- payments, promises, disputes, contacts -------------------------------------------------

# The first step after the document is known, per action: a full payment goes straight to its
# method; then every payment has a receipt photo (optional) and a confirmation.
ACTION_STEPS = {"f": "method", "p": "amount", "m": "date", "d": "reason", "c": "note"}
CONFIRM = "ok"


class CollectForm(Form):
    """Which document (when a reminder lists several), then the amount, date, reason or note;
    a payment also asks its method and receipt and is recorded only once confirmed."""

    name = "collect"
    first_step = "which"

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        data["chosen"] = data["ids"] if len(data["ids"]) == 1 else []
        return "which" if len(data["ids"]) > 1 else ACTION_STEPS[data["action"]]

    async def _docs(self, turn: Turn, ids: list[int]) -> list[Document]:
        return await collection_actions.actionable(turn.session, turn.actor, ids)

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        texts = turn.deps.texts
        if step == "which":
            docs = await self._docs(turn, data["ids"])
            rows = [
                [(f"{d.receivable.document_no} · "
                  f"{money(d.balance, d.receivable.currency, turn.lang)}"[:60], f"i:{d.id}")]
                for d in docs
            ]  # fmt: skip
            total = views.totals_of(docs, turn.lang)
            rows.append([(turn.t("collections.all_documents", count=len(docs), total=total),
                          "all")])  # fmt: skip
            action = turn.t(f"collections.action_{data['action']}")
            return Prompt(turn.t("collections.ask_which", action=action), rows)
        docs = await self._docs(turn, data["chosen"])
        about = {
            "customer": docs[0].customer_name,
            "numbers": ", ".join(d.receivable.document_no for d in docs),
        }
        if step == "amount":
            balance = views.totals_of(docs, turn.lang)
            return Prompt(views.text(texts, turn.lang, "collections.ask_amount",
                                     balance=balance, **about))  # fmt: skip
        if step == "method":
            team = await turn.team(docs[0].receivable.team_id)
            methods = team.rules.collections.payment_methods
            buttons = [(views.method_label(texts, turn.lang, m)[:40], f"pm:{n}")
                       for n, m in enumerate(methods)]  # fmt: skip
            rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
            return Prompt(views.text(texts, turn.lang, "collections.ask_method", **about), rows)
        if step == "receipt":
            return Prompt(turn.t("collections.ask_receipt"), skippable=True)
        if step == "confirm":
            plan = await collection_actions.preview_payment(
                turn.session, actor=turn.actor, receivable_ids=data["chosen"],
                amount=_amount(data),
            )  # fmt: skip
            text = views.payment_confirm(texts, turn.lang, plan, data["method"],
                                         receipt=bool(data.get("receipt")))  # fmt: skip
            return Prompt(text, [[(turn.t("collections.btn_confirm"), CONFIRM)]])
        if step == "date":
            today = await _today(turn, docs[0])
            options = [_day_choice(turn, today, n) for n in PROMISE_CHOICES]
            text = views.text(texts, turn.lang, "collections.ask_promise", **about)
            return Prompt(text, [options[:2], options[2:]])
        if step == "note":
            return Prompt(views.text(texts, turn.lang, "collections.ask_contact_note", **about),
                          skippable=True)  # fmt: skip
        # The team's manager decides disputes: theirs is not "sent to your manager".
        key = "collections.ask_reason_manager" if turn.actor.role is Role.MANAGER else (
            "collections.ask_reason")  # fmt: skip
        return Prompt(views.text(texts, turn.lang, key, **about))

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        if step == "which":
            if answer.choice == "all":
                data["chosen"] = data["ids"]
            elif answer.choice and answer.choice.startswith("i:"):
                chosen = _int(answer.choice[2:])
                if chosen not in data["ids"]:
                    raise InputError("forms.use_buttons")
                data["chosen"] = [chosen]
            else:
                raise InputError("forms.use_buttons")
            return ACTION_STEPS[data["action"]]
        ids = [int(i) for i in data["chosen"]]
        if step == "amount":
            await self._amount(turn, data, ids, answer)
            return "method"
        if step == "method":
            await self._method(turn, data, ids, answer)
            return "receipt"
        if step == "receipt":
            if not answer.skipped:
                if answer.photo_file_id is None:
                    raise InputError("collections.receipt_photo_only")
                data["receipt"] = answer.photo_file_id
            return "confirm"
        if step == "confirm":
            if answer.choice != CONFIRM:
                raise InputError("forms.use_buttons")
            await self._payment(turn, data, ids)
        elif step == "date":
            await self._promise(turn, ids, answer)
        elif step == "note":
            await self._contact(turn, ids, None if answer.skipped else expect_text(answer))
        else:
            await self._dispute(turn, ids, answer)
        return None

    async def _amount(
        self, turn: Turn, data: dict[str, Any], ids: list[int], answer: FormInput
    ) -> None:
        docs = await self._docs(turn, ids)
        parsed = read_money(expect_text(answer), docs[0].receivable.currency)
        if parsed is None:
            raise InputError("collections.amount_unreadable")
        # Refused now (more than the balance, not positive), not after method and receipt.
        await _guarded(
            turn,
            collection_actions.preview_payment(
                turn.session, actor=turn.actor, receivable_ids=ids, amount=parsed[0]
            ),
        )
        data["amount"] = str(parsed[0])

    async def _method(
        self, turn: Turn, data: dict[str, Any], ids: list[int], answer: FormInput
    ) -> None:
        docs = await self._docs(turn, ids)
        methods = (await turn.team(docs[0].receivable.team_id)).rules.collections.payment_methods
        if not (answer.choice or "").startswith("pm:"):
            raise InputError("forms.use_buttons")
        index = _int((answer.choice or "")[3:])
        if index >= len(methods):
            raise InputError("forms.use_buttons")
        data["method"] = methods[index]

    async def _payment(self, turn: Turn, data: dict[str, Any], ids: list[int]) -> None:
        result = await _guarded(
            turn,
            collection_actions.record_payment(
                turn.session, actor=turn.actor, settings=turn.deps.settings,
                receivable_ids=ids, amount=_amount(data), now=turn.now,
                method=data["method"], receipt_file_id=data.get("receipt"),
            ),
        )  # fmt: skip
        turn.say(
            views.payment_text(turn.deps.texts, turn.lang, result, data["method"]),
            views.way_on(turn.deps.texts, turn.lang, result.owner_id, result.customer_id),
        )

    async def _contact(self, turn: Turn, ids: list[int], note: str | None) -> None:
        contact = await _guarded(
            turn,
            collection_actions.record_contact(
                turn.session, actor=turn.actor, receivable_ids=ids, now=turn.now, note=note
            ),
        )
        say(turn, "collections.contact_recorded", customer=contact.customer_name,
            numbers=", ".join(contact.document_nos))  # fmt: skip

    async def _promise(self, turn: Turn, ids: list[int], answer: FormInput) -> None:
        docs = await self._docs(turn, ids)
        day = _typed_date(turn, answer, await _today(turn, docs[0]))
        result = await _guarded(
            turn,
            collection_actions.record_promise(
                turn.session, actor=turn.actor, settings=turn.deps.settings,
                receivable_ids=ids, promised_on=day, now=turn.now,
            ),
        )  # fmt: skip
        say(
            turn, "collections.promise_recorded", customer=result.customer_name,
            total=totals_text(result.total, turn.lang), day=format_day(day, turn.lang),
            numbers=", ".join(result.document_nos),
        )  # fmt: skip

    async def _dispute(self, turn: Turn, ids: list[int], answer: FormInput) -> None:
        reason = expect_text(answer)
        result = await _guarded(
            turn,
            collection_actions.raise_dispute(
                turn.session, actor=turn.actor, render=turn.render, receivable_ids=ids,
                reason=reason, now=turn.now,
            ),
        )  # fmt: skip
        numbers = ", ".join(result.document_nos)
        if result.decides:
            say(turn, "collections.dispute_yours", numbers=numbers)
        elif result.told:
            say(turn, "collections.dispute_sent", numbers=numbers, manager=result.told)
        else:
            say(turn, "collections.dispute_no_manager", numbers=numbers)


def _amount(data: dict[str, Any]) -> Decimal | None:
    """The partial amount typed, or None: the whole balance."""
    return Decimal(data["amount"]) if data.get("amount") else None


async def _today(turn: Turn, doc: Document) -> date:
    return (await turn.team(doc.receivable.team_id)).today


# -- adding a receivable in chat ------------------------------------------------------------


class ReceivableForm(Form):
    """/receivable: customer, document number, amount, issue and due dates, owner, save."""

    name = "receivable"
    first_step = "customer"
    roles = ADDERS

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        if turn.actor.team_id is None:
            raise UserFacingError("customers.no_team")
        team = await turn.team()
        data["currency"] = team.rules.collections.currency
        data["today"] = team.today.isoformat()
        return "customer"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        today, texts = date.fromisoformat(data["today"]), turn.deps.texts
        if step == "customer":
            results = data.get("results")
            if results is None:
                recent = await customers.recent_customer_names(turn.session, turn.actor)
                results = [[cid, name] for cid, name in recent]
            choices = [[(str(name)[:60], f"c:{cid}")] for cid, name in results]
            key = "collections.ask_customer_results" if data.get("query") else (
                "collections.ask_customer")  # fmt: skip
            return Prompt(views.text(texts, turn.lang, key, query=data.get("query", "")), choices)
        if step == "number":
            return Prompt(views.text(texts, turn.lang, "collections.ask_number",
                                     customer=data["name"]))  # fmt: skip
        if step == "amount":
            return Prompt(
                turn.t(
                    "collections.ask_new_amount",
                    currency=currency_unit(data["currency"], turn.lang),
                )
            )
        if step == "issued":
            return Prompt(turn.t("collections.ask_issued"),
                          [[(turn.t("collections.today"), f"d:{today.isoformat()}")]])  # fmt: skip
        if step == "due":
            issued = date.fromisoformat(data["issued"])
            options = [_day_choice(turn, issued, n) for n in DUE_CHOICES]
            return Prompt(turn.t("collections.ask_due"), [options])
        if step == "owner":
            people = await customers.possible_owners(turn.session, turn.actor.team_id or 0)
            rows = [[(p.display_name[:40], f"o:{p.id}")] for p in people]
            return Prompt(turn.t("collections.ask_owner"), rows)
        return Prompt(_summary(turn, data), [[(turn.t("collections.save"), "save")]])

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        today = date.fromisoformat(data["today"])
        if step == "customer":
            return await self._customer(turn, data, answer)
        if step == "number":
            try:
                number = receivables.clean_document_no(expect_text(answer))
            except UserFacingError as error:
                raise InputError(error.key, **error.params) from None
            team_id = turn.actor.team_id or 0
            if await receivables.find_by_number(turn.session, number, team_id) is not None:
                raise InputError("collections.number_exists", number=number)
            data["number"] = number
            return "amount"
        if step == "amount":
            parsed = read_money(expect_text(answer), data["currency"])
            if parsed is None:
                raise InputError("collections.amount_unreadable")
            if parsed[0] <= 0:
                raise InputError("collections.amount_not_positive")
            data["amount"], data["currency"] = str(parsed[0]), parsed[1]
            return "issued"
        if step == "issued":
            issued = _typed_date(turn, answer, today)
            if issued > today:
                raise InputError("collections.issued_in_future")
            data["issued"] = issued.isoformat()
            return "due"
        if step == "due":
            due = _typed_date(turn, answer, today)
            if due < date.fromisoformat(data["issued"]):
                raise InputError("collections.due_before_issue")
            data["due"] = due.isoformat()
            return "owner" if turn.actor.role is Role.MANAGER else "confirm"
        if step == "owner":
            data["owner_id"] = _int((answer.choice or "").removeprefix("o:"))
            return "confirm"
        if answer.choice != "save":
            raise InputError("forms.use_buttons")
        await self._save(turn, data)
        return None

    async def _customer(self, turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
        if answer.choice and answer.choice.startswith("c:"):
            customer_id = _int(answer.choice[2:])
        elif answer.choice is not None:
            raise InputError("forms.use_buttons")
        else:
            text = expect_text(answer)
            ref = customers.customer_ref(text)
            if ref is None:
                found = await customers.search(turn.session, turn.actor, text)
                data["query"] = text[:60]
                data["results"] = [[c.id, c.name] for c in found.customers]
                return "customer"
            customer_id = ref
        try:
            customer = await customers.get_visible(turn.session, turn.actor, customer_id)
        except UserFacingError as error:
            raise InputError(error.key, **error.params) from None
        if customer.team_id != turn.actor.team_id:
            raise InputError("customers.not_found")
        data["customer_id"], data["name"] = customer.id, customer.name
        return "number"

    async def _save(self, turn: Turn, data: dict[str, Any]) -> None:
        values = NewReceivable(
            customer_id=int(data["customer_id"]), document_no=data["number"],
            amount=Decimal(data["amount"]), currency=data["currency"],
            issued_on=date.fromisoformat(data["issued"]), due_on=date.fromisoformat(data["due"]),
            owner_id=data.get("owner_id"),
        )  # fmt: skip
        receivable = await _guarded(
            turn, receivables.create_receivable(
                turn.session, actor=turn.actor, values=values, now=turn.now
            ),
        )  # fmt: skip
        say(turn, "collections.created", number=receivable.document_no)


def _summary(turn: Turn, data: dict[str, Any]) -> str:
    return views.text(
        turn.deps.texts, turn.lang, "collections.new_summary", number=data["number"],
        customer=data["name"],
        amount=money(Decimal(data["amount"]), data["currency"], turn.lang),
        issued=format_day(date.fromisoformat(data["issued"]), turn.lang),
        due=format_day(date.fromisoformat(data["due"]), turn.lang),
    )  # fmt: skip


# -- reconciliation -------------------------------------------------------------------------


class ReconcileForm(Form):
    """The customer's figure differs: how much do they say they owe, and a note."""

    name = "reconcile"
    first_step = "amount"

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        item, name = await reconciliation.get_item(turn.session, turn.actor, int(data["item"]))
        data["name"], data["currency"] = name, item.currency
        data["balance"] = str(item.balance)
        return "amount"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        if step == "amount":
            ours = money(Decimal(data["balance"]), data["currency"], turn.lang)
            return Prompt(views.text(turn.deps.texts, turn.lang, "collections.recon_ask_amount",
                                     customer=data["name"], balance=ours))  # fmt: skip
        return Prompt(turn.t("collections.recon_ask_note"), skippable=True)

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        if step == "amount":
            parsed = read_money(expect_text(answer), data["currency"])
            if parsed is None or parsed[0] < 0:
                raise InputError("collections.amount_unreadable")
            data["theirs"] = str(parsed[0])
            return "note"
        note = None if answer.skipped else expect_text(answer)
        item, name = await _guarded(
            turn,
            reconciliation.record_difference(
                turn.session, actor=turn.actor, render=turn.render, item_id=int(data["item"]),
                customer_balance=Decimal(data["theirs"]), note=note, now=turn.now,
            ),
        )  # fmt: skip
        key = (
            "collections.recon_confirmed"
            if item.status == "confirmed"
            else "collections.recon_difference_recorded"
        )
        say(turn, key, customer=name)
        return None


# -- a valid dispute: a credit note or a write-off -------------------------------------------

WHOLE = "whole"


class AdjustmentForm(Form):
    """The manager found a dispute valid: the amount (the whole balance by default), the
    reason, then a confirmation saying whether it applies now or goes for approval."""

    name = "adjustment"
    first_step = "amount"
    roles = collection_adjustments.DECIDERS

    def _env(self, turn: Turn) -> Env:
        return Env(settings=turn.deps.settings, render=turn.render, now=turn.now)

    async def _facts(
        self, turn: Turn, data: dict[str, Any]
    ) -> collection_adjustments.DisputeFacts:
        facts = await collection_adjustments.dispute_facts(
            turn.session, turn.actor, self._env(turn), int(data["dispute"])
        )
        collection_adjustments.check_open(facts, turn.lang)
        return facts

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        await self._facts(turn, data)
        return "amount"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        texts, facts = turn.deps.texts, await self._facts(turn, data)
        if step == "amount":
            question, whole = views.adjustment_amount_prompt(texts, turn.lang, facts, data["kind"])
            return Prompt(question, [[(whole, WHOLE)]])
        if step == "reason":
            kind = views.adjustment_name(texts, turn.lang, data["kind"])
            return Prompt(views.text(texts, turn.lang, "collections.ask_adjustment_reason",
                                     kind=kind, number=facts.number))  # fmt: skip
        text = views.adjustment_confirm(texts, turn.lang, facts, data["kind"],
                                        Decimal(data["amount"]), data["reason"])  # fmt: skip
        return Prompt(text, [[(turn.t("collections.btn_confirm_adjustment"), CONFIRM)]])

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        facts = await self._facts(turn, data)
        if step == "amount":
            if answer.choice == WHOLE:
                amount = facts.balance
            elif answer.choice is not None:
                raise InputError("forms.use_buttons")
            else:
                parsed = read_money(expect_text(answer), facts.currency)
                if parsed is None:
                    raise InputError("collections.amount_unreadable")
                amount = parsed[0]
            try:
                collection_adjustments.check_amount(
                    amount, facts.balance, facts.currency, turn.lang
                )
            except UserFacingError as error:
                raise InputError(error.key, **error.params) from None
            data["amount"] = str(amount)
            return "reason"
        if step == "reason":
            try:
                data["reason"] = collection_adjustments.clean_reason(expect_text(answer))
            except UserFacingError as error:
                raise InputError(error.key, **error.params) from None
            return "confirm"
        if answer.choice != CONFIRM:
            raise InputError("forms.use_buttons")
        settled = await _guarded(
            turn,
            collection_adjustments.settle_dispute(
                turn.session, actor=turn.actor, env=self._env(turn),
                dispute_id=int(data["dispute"]), kind=AdjustmentKind(data["kind"]),
                amount=Decimal(data["amount"]), reason=data["reason"],
            ),
        )  # fmt: skip
        turn.say(
            views.settled_text(turn.deps.texts, turn.lang, settled),
            views.way_on(turn.deps.texts, turn.lang, settled.owner_id, settled.customer_id),
        )
        return None


COLLECT_FORM = register_form(CollectForm())
ADJUSTMENT_FORM = register_form(AdjustmentForm())
RECEIVABLE_FORM = register_form(ReceivableForm())
RECONCILE_FORM = register_form(ReconcileForm())
