"""The manager's view of one visit (stamped photos, check-in, flags, comments), the Comment form,
and a photo sent outside any form offered to the rep's open or just-saved visit."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackQueryHandler

from core.errors import UserFacingError
from handlers.forms import FORMS, Form, FormInput, InputError, Prompt, register_form, start_form
from handlers.replies import Attachment
from handlers.turn import ALL_ROLES, Turn, turn_handler
from handlers.visit_photos import stamp_visit_photos
from models.common import Role
from services import visit_review
from views.visit_review import (
    ATTACH_PREFIX,
    READ_CARD,
    ReviewPage,
    album_caption,
    attached_text,
    comment_prompt,
    photo_offer,
    reply_prompt,
    reply_sent,
    review_view,
)
from views.visits import COMMENT, OPEN_VISIT, REPLY, REVIEW

REVIEWERS = frozenset({Role.MANAGER, Role.DIRECTOR, Role.ADMIN})
PHOTO_TAKERS = frozenset({Role.REP, Role.MANAGER})
# The form that reads a business card from a photo (handlers/customers.py).
CARD_FORM = "customers"
PHOTO_FORM_NAME = "visit_photo"


async def show_visit(turn: Turn, visit_id: int) -> None:
    """The visit view, after its photos as stamped by the server (never the originals), one
    album when there are several: for a reviewer and for the visit's own rep alike."""
    detail = await visit_review.visit_detail(turn.session, turn.actor, visit_id)
    team = await turn.team(detail.visit.team_id)
    page = ReviewPage(
        detail, team.timezone, team.rules.visits.checkin_radius_m,
        team.rules.visits.min_on_site_minutes,
    )  # fmt: skip
    texts, lang = turn.deps.texts, turn.lang
    photos = [
        Attachment("photo", f"visit-{visit_id}-{number}.jpg", content)
        for number, content in enumerate(detail.stamped, start=1)
    ]
    if photos:
        caption = album_caption(texts, lang, page)
        if len(photos) == 1:
            turn.say(caption, attachment=photos[0])
        else:
            turn.say(caption, album=photos)
    turn.say(*review_view(texts, lang, page))


@turn_handler(roles=ALL_ROLES)
async def on_review_button(turn: Turn) -> None:
    """Open a visit (its rep, or a reviewer of its team), start a comment on it (a reviewer) or
    a reply to its comments (its rep)."""
    query = turn.update.callback_query
    assert query is not None
    pressed = REVIEW.unpack(query.data)
    if pressed.action == OPEN_VISIT:
        await show_visit(turn, pressed.visit_id)
    elif pressed.action == COMMENT:
        await start_form(turn, COMMENT_FORM, {"visit_id": pressed.visit_id})
    elif pressed.action == REPLY:
        await start_form(turn, REPLY_FORM, {"visit_id": pressed.visit_id})
    else:
        turn.say_key("forms.stale_button")


def _typed(answer: FormInput, *, reply: bool) -> str:
    """The comment or reply typed; a wrong answer is asked again on the same step."""
    try:
        return visit_review.clean_comment(answer.text, reply=reply)
    except UserFacingError as error:
        raise InputError(error.key, **error.params) from None


class CommentForm(Form):
    """One step: the comment's text; it reaches the rep through the outbox."""

    name = "visit_comment"
    first_step = "text"
    roles = REVIEWERS

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        detail = await visit_review.visit_detail(turn.session, turn.actor, int(data["visit_id"]))
        if detail.own:
            raise UserFacingError("visit_review.not_found")
        data["customer"], data["rep"] = detail.customer.name, detail.rep.display_name
        return self.first_step

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        return Prompt(comment_prompt(turn.deps.texts, turn.lang, data["customer"], data["rep"]))

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        body = _typed(answer, reply=False)
        visit = await visit_review.viewable_visit(turn.session, turn.actor, int(data["visit_id"]))
        await visit_review.add_comment(
            turn.session, turn.render, actor=turn.actor, visit_id=visit.id or 0, text=body,
            team=await turn.team(visit.team_id),
        )  # fmt: skip
        turn.say_key("visit_review.comment_sent", rep=data["rep"])
        return None


COMMENT_FORM = register_form(CommentForm())


class ReplyForm(Form):
    """One step, as the comment: the rep's reply on their own visit; it reaches each reviewer
    who commented, through the outbox."""

    name = "visit_reply"
    first_step = "text"

    async def prepare(self, turn: Turn, data: dict[str, Any]) -> str | None:
        visit = await visit_review.own_visit(turn.session, turn.actor, int(data["visit_id"]))
        readers = await visit_review.commenters(turn.session, visit)
        if not readers:
            raise UserFacingError("visit_review.reply_no_one")
        customer = await visit_review.visit_customer(turn.session, visit)
        data["customer"], data["names"] = customer.name, [u.display_name for u in readers]
        return self.first_step

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        return Prompt(reply_prompt(turn.deps.texts, turn.lang, data["customer"], data["names"]))

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        body = _typed(answer, reply=True)
        visit = await visit_review.own_visit(turn.session, turn.actor, int(data["visit_id"]))
        _, readers = await visit_review.add_reply(
            turn.session, turn.render, actor=turn.actor, visit_id=visit.id or 0, text=body,
            team=await turn.team(visit.team_id),
        )  # fmt: skip
        turn.say(reply_sent(turn.deps.texts, turn.lang, [u.display_name for u in readers]))
        return None


REPLY_FORM = register_form(ReplyForm())


# -- a photo sent outside any form ----------------------------------------------------------


async def offer_photo(turn: Turn, file_id: str) -> bool:
    """A photo outside any form while the rep has an open or just-saved visit: ask whether it
    belongs to that visit or is a business card. False when there is no such visit."""
    if turn.actor.role not in PHOTO_TAKERS or turn.actor.team_id is None:
        return False
    targets = await visit_review.photo_targets(turn.session, turn.actor.user_id, await turn.team())
    if not targets:
        return False
    await start_form(turn, PHOTO_FORM, {"photo": file_id})
    return True


class PhotoForm(Form):
    """Attach the photo to one of the offered visits, or read it as a business card."""

    name = PHOTO_FORM_NAME
    first_step = "choose"
    roles = PHOTO_TAKERS

    async def prompt(self, turn: Turn, step: str, data: dict[str, Any]) -> Prompt:
        team = await turn.team()
        targets = await visit_review.photo_targets(turn.session, turn.actor.user_id, team)
        text, choices = photo_offer(turn.deps.texts, turn.lang, targets, team.timezone)
        return Prompt(text, choices)

    async def accept(
        self, turn: Turn, step: str, data: dict[str, Any], answer: FormInput
    ) -> str | None:
        choice = answer.choice or ""
        if choice == READ_CARD:
            # The card was read before this turn (handlers.card_photos.read_chosen_card).
            await start_form(turn, FORMS[CARD_FORM], {"photo": data["photo"], "outside": True})
            return None
        if not choice.startswith(ATTACH_PREFIX) or not choice[len(ATTACH_PREFIX) :].isdigit():
            raise InputError("forms.use_buttons")
        team = await turn.team()
        visit, customer = await visit_review.attach_photo(
            turn.session, actor=turn.actor, visit_id=int(choice[len(ATTACH_PREFIX) :]),
            file_id=data["photo"], team=team,
        )  # fmt: skip
        visit_id, ctx = visit.id or 0, turn.ctx
        # Stamped exactly as a photo sent inside /visit: after the commit, off the event loop.
        turn.after_commit.append(lambda: stamp_visit_photos(ctx, visit_id, team))
        turn.say(*attached_text(turn.deps.texts, turn.lang, visit, customer.name, team.timezone))
        return None


PHOTO_FORM = register_form(PhotoForm())


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(on_review_button, pattern=REVIEW.pattern))
