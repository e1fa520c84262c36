"""The one request form: every type's fields, asked in order from the type registry.

/request asks for the type first; /expense, /discount... start at the type's first field.
Each field is validated as it is typed (a bad value is explained and asked again); the summary
shows who will decide, and Submit routes the request. The draft lives in the form state, so it
survives a restart; nothing is stored as a request before Submit.
"""

from __future__ import annotations

import functools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from core.errors import UserFacingError
from handlers.customer_fields import expect_text
from handlers.error_text import say_error
from handlers.forms import Form, FormInput, InputError, Prompt, register_form
from handlers.turn import Turn, after_reply
from models.common import Role
from models.user import User
from services import approval_cards, approval_cc, approvals, customers
from services.approval_cards import Env
from services.approval_types import (
    FieldError,
    FieldKind,
    FieldSpec,
    Reading,
    RequestType,
    check_date,
    clean_value,
    get_type,
    ordered_types,
    read_value,
)
from views import approval_form as form_views
from views import approvals as views
from views.buttons import Keyboard
from views.render import outbox_buttons

REQUESTERS = frozenset({Role.REP, Role.MANAGER})
FIELD = "f_"


def env_of(turn: Turn) -> Env:
    return Env(settings=turn.deps.settings, render=turn.render, now=turn.now)


def _kind(data: dict[str, Any]) -> RequestType:
    return get_type(str(data.get("type", "")))


def _values(data: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = data.setdefault("values", {})
    return values


async def _context(turn: Turn) -> approvals.FieldContext:
    return approvals.field_context(await turn.team())


def _next(data: dict[str, Any], kind: RequestType, after: str | None) -> str:
    """The step after field ``after``: the next field, or the summary (also after an edit)."""
    if data.pop("_return", None):
        return "summary"
    names = [spec.name for spec in kind.fields]
    index = names.index(after) + 1 if after in names else 0
    return FIELD + names[index] if index < len(names) else "summary"


class RequestForm(Form):
    name = "approval_request"
    first_step = "type"
    command = "/request"
    summary_step = "summary"
    back_key = "approvals.back_to_summary"
    roles = REQUESTERS
    # 抄送 is a multi-select: ticking a name edits the list in place until Done.
    in_place_steps = frozenset({"cc"})

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        if turn.actor.team_id is None:
            raise UserFacingError("approvals.cannot_request")
        data.setdefault("values", {})
        data.setdefault("files", [])
        if data.get("type"):
            return _next(data, _kind(data), None)
        return "type"

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        if step == "type":
            return _asked(form_views.ask_type(turn.deps.texts, turn.lang))
        if step == "pick":
            return await _pick_prompt(turn, data)
        if step == "summary":
            return await _summary_prompt(turn, data)
        if step == "edit":
            return _asked(form_views.ask_edit(turn.deps.texts, turn.lang, _kind(data)))
        if step == "cc":
            people = [(u.id or 0, u.display_name) for u in await _cc_people(turn, data)]
            text, choices = views.ask_cc(turn.deps.texts, turn.lang, people, data.get("cc") or [])
            return Prompt(text, choices)
        kind = _kind(data)
        return await _field_prompt(turn, kind, kind.field(step.removeprefix(FIELD)), data)

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        if step == "type":
            if answer.choice is None or answer.choice not in {t.key for t in ordered_types()}:
                raise InputError("approvals.use_buttons")
            data["type"] = answer.choice
            return _next(data, _kind(data), None)
        if step == "pick":
            return await _accept_customer(turn, data, answer)
        if step == "summary":
            return await _accept_summary(turn, data, answer)
        if step == "cc":
            return await _accept_cc(turn, data, answer)
        if step == "edit":
            kind = _kind(data)
            if answer.choice == "back":
                return "summary"
            if answer.choice not in {spec.name for spec in kind.fields}:
                raise InputError("approvals.use_buttons")
            if kind.field(answer.choice).kind is FieldKind.FILES:
                data["files"] = []  # changing the receipts means sending them again
            data["_return"] = True
            return FIELD + str(answer.choice)
        kind = _kind(data)
        spec = kind.field(step.removeprefix(FIELD))
        return await _accept_field(turn, kind, spec, data, answer)


# -- prompts ------------------------------------------------------------------------------


def _asked(question: form_views.Question) -> Prompt:
    return Prompt(question.text, question.choices, skippable=question.skippable,
                  search=question.search)  # fmt: skip


async def _recent(turn: Turn) -> list[tuple[int, str]]:
    return await customers.recent_customer_names(turn.session, turn.actor)


async def _field_prompt(
    turn: Turn, kind: RequestType, spec: FieldSpec, data: dict[str, Any]
) -> Prompt:
    ctx = await _context(turn)
    recent = await _recent(turn) if spec.kind is FieldKind.CUSTOMER else []
    return _asked(
        form_views.ask_field(
            turn.deps.texts, turn.lang, kind, spec, files=len(data.get("files") or []),
            currency=ctx.currency, today=ctx.today, recent=recent,
        )
    )  # fmt: skip


async def _pick_prompt(turn: Turn, data: dict[str, Any]) -> Prompt:
    """The customers found; when none, the recent ones again next to the search button."""
    found = [(cid, str(name)) for cid, name in data.get("results") or []]
    recent = [] if found else await _recent(turn)
    return _asked(
        form_views.pick_customer(
            turn.deps.texts, turn.lang, str(data.get("query", "")),
            int(data.get("total", len(found))), found, recent,
        )
    )  # fmt: skip


async def summary_lines(turn: Turn, data: dict[str, Any]) -> list[str]:
    """The draft as the card will show it."""
    ctx = await _context(turn)
    return views.draft_summary(
        turn.deps.texts, turn.lang, _kind(data), _values(data),
        files=len(data.get("files") or []), customer_name=str(data.get("customer_name", "")),
        currency=ctx.currency,
    )  # fmt: skip


async def _summary_prompt(turn: Turn, data: dict[str, Any]) -> Prompt:
    lines = await summary_lines(turn, data)
    if data.get("resubmit_label"):
        heading = views.resubmit_heading(
            turn.deps.texts, turn.lang, str(data["resubmit_label"]),
            str(data.get("resubmit_status", "")), str(data.get("resubmit_reason", "")),
        )  # fmt: skip
        lines = [heading, *lines]
    route = await approvals.preview(
        turn.session, env_of(turn), await turn.team(), turn.actor, _draft(data)
    )
    choices = [
        [(turn.t("approvals.submit"), "submit"), (turn.t("approvals.edit"), "edit")],
        [(turn.t("approvals.cc"), "cc")],
    ]
    cc = [str(name) for name in (data.get("cc_names") or {}).values()]
    return Prompt(views.summary(turn.deps.texts, turn.lang, lines, route, cc), choices)


def _draft(data: dict[str, Any]) -> approvals.Draft:
    return approvals.Draft(str(data["type"]), _values(data), list(data.get("files") or []),
                           [int(i) for i in data.get("cc") or []])  # fmt: skip


async def _cc_people(turn: Turn, data: dict[str, Any]) -> list[User]:
    """The people the requester may copy on this draft: not those who will decide it first."""
    route = await approvals.preview(
        turn.session, env_of(turn), await turn.team(), turn.actor, _draft(data)
    )
    return await approval_cc.candidates(
        turn.session, turn.actor, deciders=route.first_approver_ids
    )


async def _accept_cc(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    """A tap on a person ticks them (or takes them off) and stays on the list; Done goes back
    to the summary."""
    if answer.choice in ("done", "back"):
        return "summary"
    chosen = (answer.choice or "").removeprefix("u:")
    people = {u.id: u.display_name for u in await _cc_people(turn, data)}
    if not chosen.isdigit() or int(chosen) not in people:
        raise InputError("approvals.use_buttons")
    cc: list[int] = data.setdefault("cc", [])
    names: dict[str, str] = data.setdefault("cc_names", {})
    if int(chosen) in cc:
        cc.remove(int(chosen))
        names.pop(chosen, None)
    else:
        cc.append(int(chosen))
        names[chosen] = people[int(chosen)]
    return "cc"


# -- answers ------------------------------------------------------------------------------


async def _accept_field(
    turn: Turn, kind: RequestType, spec: FieldSpec, data: dict[str, Any], answer: FormInput
) -> str:
    values = _values(data)
    if spec.kind is FieldKind.FILES:
        return await _accept_file(turn, kind, spec, data, answer)
    if spec.kind is FieldKind.CUSTOMER:
        return await _accept_customer(turn, data, answer)
    if answer.skipped:
        if spec.required:
            raise InputError("approvals.field_required")
        values[spec.name] = None
        return _next(data, kind, spec.name)
    ctx = await _context(turn)
    reading: Reading | None = None
    try:
        if spec.kind in (FieldKind.PAST_DATE, FieldKind.FUTURE_DATE) and answer.choice:
            value: Any = _chosen_date(spec, answer.choice, ctx.today)
        elif spec.kind is FieldKind.CHOICE and answer.choice:
            value = clean_value(spec, answer.choice, ctx)
        elif answer.choice is not None:
            raise InputError("approvals.use_buttons")
        else:
            typed = expect_text(answer)
            reading = read_value(spec, typed, ctx, values)
            value = reading.value
        trial = {**values, spec.name: value}
        kind.check(trial)
        await _refuse_early(turn, kind, trial)
    except FieldError as error:
        if error.field != spec.name:
            values[spec.name] = value
            say_error(turn, error)
            return FIELD + error.field
        raise InputError(error.key, **error.params) from None
    if reading is not None and reading.discount is not None:
        # Repeat how "9折" was read, so a misreading is seen before the request goes out.
        turn.say(form_views.discount_read(turn.deps.texts, turn.lang, typed, reading.discount,
                                          Decimal(value), ctx.currency))  # fmt: skip
    values[spec.name] = value
    return _next(data, kind, spec.name)


async def _refuse_early(turn: Turn, kind: RequestType, values: dict[str, Any]) -> None:
    """Tell the rep at the contract step, not at submit, when the team refuses the invoice."""
    customer = values.get("customer")
    check = await approvals.invoice_check(
        turn.session, env_of(turn), kind, values, int(customer) if customer else None
    )
    approvals.refuse_invoice(check, turn.lang)


def _chosen_date(spec: FieldSpec, choice: str, today: date) -> str:
    if not choice.startswith("d:"):
        raise InputError("approvals.use_buttons")
    try:
        day = date.fromisoformat(choice[2:])
    except ValueError:
        raise InputError("approvals.use_buttons") from None
    return check_date(spec, day, today).isoformat()


async def _accept_file(
    turn: Turn, kind: RequestType, spec: FieldSpec, data: dict[str, Any], answer: FormInput
) -> str:
    files: list[dict[str, str]] = data.setdefault("files", [])
    limit = (await _context(turn)).max_files
    if answer.photo_file_id or answer.document_file_id:
        if len(files) >= limit:
            raise InputError("approvals.too_many_files", limit=limit)
        if answer.photo_file_id:
            files.append({"kind": "photo", "file_id": answer.photo_file_id})
        else:
            files.append({"kind": "document", "file_id": answer.document_file_id or "",
                          "name": (answer.document_name or "")[:128]})  # fmt: skip
        return FIELD + spec.name
    if answer.choice == "done" or answer.skipped:
        if spec.required and not files:
            raise InputError("approvals.receipt_required")
        return _next(data, kind, spec.name)
    if answer.choice is not None:
        raise InputError("approvals.use_buttons")
    raise InputError("approvals.receipt_required" if not files else "approvals.send_file_or_done")


async def _accept_customer(turn: Turn, data: dict[str, Any], answer: FormInput) -> str:
    kind = _kind(data)
    if answer.choice and answer.choice.startswith("c:") and answer.choice[2:].isdigit():
        return await _set_customer(turn, data, kind, int(answer.choice[2:]))
    if answer.choice is not None:
        raise InputError("approvals.use_buttons")
    text = expect_text(answer)
    ref = customers.customer_ref(text)
    if ref is not None:
        return await _set_customer(turn, data, kind, ref)
    found = await customers.search(turn.session, turn.actor, text)
    own = [c for c in found.customers if c.team_id == turn.actor.team_id]
    data.update(query=text[:60], total=len(own), results=[[c.id, c.name] for c in own])
    return "pick"


async def _set_customer(
    turn: Turn, data: dict[str, Any], kind: RequestType, customer_id: int
) -> str:
    try:
        customer = await customers.get_visible(turn.session, turn.actor, customer_id)
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None
    if customer.team_id != turn.actor.team_id:
        raise InputError("customers.not_found")
    _values(data)["customer"] = customer.id
    data["customer_name"] = customer.name
    for key in ("query", "total", "results"):
        data.pop(key, None)
    return _next(data, kind, "customer")


async def _accept_summary(turn: Turn, data: dict[str, Any], answer: FormInput) -> str | None:
    if answer.choice == "edit":
        return "edit"
    if answer.choice == "cc":
        return "cc"
    if answer.choice != "submit":
        raise InputError("approvals.use_buttons")
    previous = data.get("resubmit_of")
    try:
        if previous is not None:
            result = await approvals.resubmit(
                turn.session, env_of(turn), await turn.team(), turn.actor, _draft(data),
                int(previous),
            )  # fmt: skip
        else:
            result = await approvals.submit(
                turn.session, env_of(turn), await turn.team(), turn.actor, _draft(data)
            )
    except FieldError as error:
        say_error(turn, error)
        data["_return"] = True
        return FIELD + error.field
    text, buttons = views.submitted(turn.deps.texts, turn.lang, result)
    request = result.request
    assert request.id is not None
    kept = functools.partial(_keep_submitted, turn, request.id, request.version, text, buttons)
    turn.say(text, buttons, on_sent=kept)
    return None


async def _keep_submitted(
    turn: Turn, request_id: int, version: int, text: str, buttons: Keyboard, message_id: int
) -> None:
    """Once the confirmation is out: keep it, so that the request's changes edit it too."""
    deps = turn.deps
    env = Env(settings=deps.settings, render=deps.render, now=deps.clock.now())

    async def keep(session: AsyncSession) -> None:
        await approval_cards.keep_submitted(
            session, env, request_id=request_id, version=version, chat_id=turn.actor.telegram_id,
            text=text, buttons=outbox_buttons(buttons), message_id=message_id,
        )  # fmt: skip

    await after_reply(deps, keep)


REQUEST_FORM = register_form(RequestForm())
