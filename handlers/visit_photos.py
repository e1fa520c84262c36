"""Visit photos stamped by the server after the visit is saved.

Stamping runs after the turn committed (the photo must be downloaded from Telegram and drawn
on, which must not hold the person's turn or the database's write lock), in a worker thread.
A photo that could not be stamped now keeps no stamped copy; it is tried again the next time
the visit is saved.
"""

from __future__ import annotations

import logging

from telegram.error import TelegramError

from core.db import writer_turn
from handlers.card_photos import MAX_PHOTO_BYTES
from handlers.context import Ctx
from services import photo_stamp, visits
from services.team_context import TeamContext
from views.visits import stamp_lines

log = logging.getLogger(__name__)


async def stamp_visit_photos(ctx: Ctx, visit_id: int, team: TeamContext) -> None:
    """Stamp the visit's photos that have no stamped copy yet."""
    deps = ctx.deps
    async with deps.sessions() as session:
        pending = await visits.unstamped_photos(session, visit_id, team)
    done: list[tuple[visits.StampFacts, str, bytes, str]] = []
    for facts in pending:
        try:
            file = await ctx.bot.get_file(facts.file_id)
            if (file.file_size or 0) > MAX_PHOTO_BYTES:
                log.warning("visit %s: photo %s too large to stamp", visit_id, facts.attachment_id)
                continue
            original = bytes(await file.download_as_bytearray())
            lines = stamp_lines(deps.texts, team.language, facts)
            stamped = await photo_stamp.stamp_off_loop(original, lines)
        except (TelegramError, photo_stamp.NotAPhoto) as error:
            log.warning("visit %s: photo %s not stamped: %s", visit_id, facts.attachment_id, error)
            continue
        done.append((facts, photo_stamp.digest(original), stamped, "\n".join(lines)))
    if not done:
        return
    async with writer_turn(deps.sessions), deps.sessions() as session, session.begin():
        for facts, sha, stamped, text in done:
            await visits.store_stamp(
                session, facts.attachment_id, original_sha256=sha, text=text, stamped=stamped,
                now=deps.clock.now(),
            )  # fmt: skip
