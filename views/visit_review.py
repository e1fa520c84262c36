"""How a visit reads to the manager who reviews it and to its rep (both with the stamped photos
and the thread of comments and replies), the comment and reply notices, and the offer for a photo
sent outside any form."""

from __future__ import annotations

import html
from dataclasses import dataclass

from core.i18n import Catalogs
from core.periods import format_clock, format_day, format_short_day, local_today
from models.customer import Customer
from models.visit import CheckinSource, Visit, VisitKind
from services.visit_review import CommentNotice, VisitDetail
from views.buttons import Button, Keyboard
from views.callbacks import Callback
from views.registry import view
from views.visits import (
    COMMENT,
    OPEN_VISIT,
    REPLY,
    REVIEW,
    VISIT,
    CheckinVerdict,
    ReviewAction,
    VisitAction,
    checkin_how,
    checkin_text,
    format_distance,
)


@dataclass(frozen=True)
class RepOpen:
    """Back from a visit to its rep's page in /team."""

    rep_id: int
    page: int


REP_AT = Callback("tr", RepOpen)


@dataclass(frozen=True)
class ReviewPage:
    detail: VisitDetail
    timezone: str
    radius_m: int
    min_minutes: int


def _when(texts: Catalogs, lang: str, visit: Visit, timezone: str) -> str:
    day = format_day(local_today(visit.visited_at, timezone), lang)
    start = format_clock(visit.visited_at, timezone)
    if visit.checked_out_at is not None and visit.kind == VisitKind.IN_PERSON:
        end = format_clock(visit.checked_out_at, timezone)
        return texts.t(lang, "visit_review.when_range", day=day, start=start, end=end)
    return texts.t(lang, "visit_review.when", day=day, time=start)


def _where(texts: Catalogs, lang: str, visit: Visit, radius_m: int) -> list[str]:
    t = texts.t
    if visit.kind != VisitKind.IN_PERSON:
        return []
    if visit.location_set_here:
        return [t(lang, "visits.location_set_here")]
    if visit.checkin_source is None:
        return [t(lang, "visits.summary_no_checkin")]
    verdict = CheckinVerdict(
        visit.distance_m, visit.flagged, visit.checkin_accuracy_m,
        CheckinSource(visit.checkin_source), radius_m,
    )  # fmt: skip
    if not visit.flagged or visit.distance_m is None:
        return [checkin_text(texts, lang, verdict)]
    how = checkin_how(texts, lang, verdict)
    return [t(lang, "visit_review.flag_far", distance=format_distance(visit.distance_m, lang),
              radius=format_distance(radius_m, lang), how=how)]  # fmt: skip


def _stay(texts: Catalogs, lang: str, visit: Visit, min_minutes: int) -> list[str]:
    t = texts.t
    if visit.is_open:
        return [t(lang, "visit_review.still_open")]
    minutes = visit.on_site_minutes
    if minutes is None or visit.kind != VisitKind.IN_PERSON:
        return []
    lines = [t(lang, "visits.on_site", minutes=minutes)]
    if visit.short_visit:
        lines.append(t(lang, "visit_review.flag_short", minutes=minutes, minimum=min_minutes))
    if visit.auto_closed:
        lines.append(t(lang, "visit_review.flag_auto"))
    return lines


def review_text(texts: Catalogs, lang: str, page: ReviewPage) -> str:
    t = texts.t
    e = html.escape
    detail, visit, tz = page.detail, page.detail.visit, page.timezone
    # The rep reading their own visit is not told who made it.
    header = (
        t(lang, "visit_review.header_own", customer=e(detail.customer.name)) if detail.own
        else t(lang, "visit_review.header", customer=e(detail.customer.name),
               rep=e(detail.rep.display_name))
    )  # fmt: skip
    lines = [
        header,
        t(lang, "visits.summary_kind", kind=t(lang, f"visits.kind_{visit.kind}"),
          purpose=t(lang, f"visits.purpose_{visit.purpose}")),
        _when(texts, lang, visit, tz),
        *_where(texts, lang, visit, page.radius_m),
        *_stay(texts, lang, visit, page.min_minutes),
    ]  # fmt: skip
    if visit.deleted_at is not None:
        lines.append(t(
            lang, "team.deleted_by", name=e(detail.deleted_by or "?"),
            time=format_clock(visit.deleted_at, tz),
            day=format_short_day(local_today(visit.deleted_at, tz), lang),
        ))  # fmt: skip
    if visit.notes:
        lines.append(t(lang, "visits.summary_notes", notes=e(visit.notes)))
    if detail.voice_notes:
        lines.append(t(lang, "visit_review.voice_notes", count=detail.voice_notes))
    if visit.next_step:
        lines.append(t(lang, "visits.summary_next", next_step=e(visit.next_step)))
    if visit.follow_up_on:
        lines.append(t(lang, "visits.summary_follow_up", day=format_day(visit.follow_up_on, lang)))
    if stamped := len(detail.stamped):
        lines.append(t(lang, "visit_review.photos_above", count=stamped))
    if detail.unstamped:
        lines.append(
            texts.tn(lang, "visit_review.photos_pending", detail.unstamped, count=detail.unstamped)
        )
    if detail.comments:
        lines.append("")
        replied = any(comment.by_rep for comment in detail.comments)
        heading = "visit_review.thread" if replied else "visit_review.comments"
        lines.append(t(lang, heading, count=len(detail.comments)))
        for comment in detail.comments:
            # The rep reads their own replies as "You", as a chat app shows one's own messages.
            mine = detail.own and comment.by_rep
            author = t(lang, "visit_review.you") if mine else e(comment.author)
            lines.append(t(
                lang, "visit_review.comment_line", author=author,
                day=format_short_day(local_today(comment.at, tz), lang),
                time=format_clock(comment.at, tz), text=e(comment.text),
            ))  # fmt: skip
    return "\n".join(lines)


def review_view(
    texts: Catalogs, lang: str, page: ReviewPage, back_page: int = 0
) -> tuple[str, Keyboard]:
    """The visit view with Comment and the way back to the rep's page (for a reviewer); its
    rep gets Reply once someone has commented."""
    detail = page.detail
    visit_id = detail.visit.id or 0
    if detail.own:
        reply: Keyboard = [[Button(texts.t(lang, "visit_review.reply"),
                                   data=REVIEW.pack(ReviewAction(REPLY, visit_id)))]]  # fmt: skip
        return review_text(texts, lang, page), reply if detail.commented else []
    buttons: Keyboard = [
        [Button(texts.t(lang, "visit_review.comment"),
                data=REVIEW.pack(ReviewAction(COMMENT, visit_id)))],
        [Button(texts.t(lang, "visit_review.back", name=detail.rep.display_name[:40]),
                data=REP_AT.pack(RepOpen(detail.rep.id or 0, back_page)))],
    ]  # fmt: skip
    return review_text(texts, lang, page), buttons


def album_caption(texts: Catalogs, lang: str, page: ReviewPage) -> str:
    """The first photo's caption: whose visit, where and when (photos travel without the card);
    the rep's own copy leaves out their name."""
    visit = page.detail.visit
    key = "visit_review.album_caption_own" if page.detail.own else "visit_review.album_caption"
    return texts.t(
        lang, key, customer=html.escape(page.detail.customer.name),
        day=format_short_day(local_today(visit.visited_at, page.timezone), lang),
        time=format_clock(visit.visited_at, page.timezone),
        rep=html.escape(page.detail.rep.display_name),
    )  # fmt: skip


def comment_prompt(texts: Catalogs, lang: str, customer: str, rep: str) -> str:
    return texts.t(
        lang, "visit_review.comment_prompt", customer=html.escape(customer), rep=html.escape(rep)
    )


def reply_prompt(texts: Catalogs, lang: str, customer: str, names: list[str]) -> str:
    return texts.t(
        lang, "visit_review.reply_prompt", customer=html.escape(customer),
        names=html.escape(name_list(texts, lang, names)),
    )  # fmt: skip


def name_list(texts: Catalogs, lang: str, names: list[str]) -> str:
    return texts.t(lang, "visit_review.name_separator").join(names)


def reply_sent(texts: Catalogs, lang: str, names: list[str]) -> str:
    return texts.t(
        lang, "visit_review.reply_sent", names=html.escape(name_list(texts, lang, names))
    )


def open_visit_button(texts: Catalogs, lang: str, visit_id: int) -> Button:
    return Button(texts.t(lang, "visit_review.open"),
                  data=REVIEW.pack(ReviewAction(OPEN_VISIT, visit_id)))  # fmt: skip


def _notice(texts: Catalogs, lang: str, key: str, data: CommentNotice) -> tuple[str, Keyboard]:
    """One line of a visit's thread sent to the other side, with the visit to open."""
    day = format_short_day(local_today(data.visited_at, data.timezone), lang)
    text = texts.t(
        lang, key, author=html.escape(data.author),
        customer=html.escape(data.customer), day=day,
        time=format_clock(data.visited_at, data.timezone), text=html.escape(data.text),
    )  # fmt: skip
    return text, [[open_visit_button(texts, lang, data.visit_id)]]


@view("visit_review.comment_notice")
def comment_notice(texts: Catalogs, lang: str, data: CommentNotice) -> tuple[str, Keyboard]:
    """What the rep receives when a manager comments on one of their visits."""
    return _notice(texts, lang, "visit_review.comment_notice", data)


@view("visit_review.reply_notice")
def reply_notice(texts: Catalogs, lang: str, data: CommentNotice) -> tuple[str, Keyboard]:
    """What a manager who commented receives when the rep replies."""
    return _notice(texts, lang, "visit_review.reply_notice", data)


# -- a photo sent outside any form ----------------------------------------------------------

ATTACH_PREFIX, READ_CARD = "a:", "card"


def photo_offer(
    texts: Catalogs, lang: str, targets: list[tuple[Visit, Customer]], timezone: str
) -> tuple[str, list[list[tuple[str, str]]]]:
    """The question and its choices (label, form value): attach to a visit, or read a card."""
    rows: list[list[tuple[str, str]]] = []
    for visit, customer in targets:
        key = "visit_review.attach_open" if visit.is_open else "visit_review.attach"
        label = texts.t(lang, key, customer=customer.name[:40],
                        time=format_clock(visit.visited_at, timezone))  # fmt: skip
        rows.append([(label, f"{ATTACH_PREFIX}{visit.id}")])
    rows.append([(texts.t(lang, "visit_review.read_card"), READ_CARD)])
    return texts.t(lang, "visit_review.photo_question"), rows


def attached_text(
    texts: Catalogs, lang: str, visit: Visit, customer: str, timezone: str
) -> tuple[str, Keyboard]:
    """The photo's confirmation; while the visit is open it carries Check out, which the
    rep needs next (the check-in card is further up the chat by now)."""
    text = texts.t(
        lang, "visit_review.attached", customer=html.escape(customer),
        time=format_clock(visit.visited_at, timezone),
    )  # fmt: skip
    if not visit.is_open or visit.id is None:
        return text, []
    data = VISIT.pack(VisitAction(visit.id, "o"))
    return text, [[Button(texts.t(lang, "visits.check_out"), data=data)]]
