"""Stamped visit photos in the rep drill-down, in headless Chromium and at the API: a manager
sees each visit's stamped photos as thumbnails and taps one to see it whole; the API hands out
only the server's stamped copy, and only to someone who may see the visit's rep."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import httpx
from PIL import Image
from playwright.async_api import Locator, Page, expect

from core.db import transaction
from models.common import Role
from models.visit import AttachmentKind, VisitAttachment
from sandbox.harness import LocalBot
from services.photo_stamp import THUMBNAIL_SIDE, digest, stamp
from tests.collection_helpers import add_customer_in
from tests.helpers import join, team_id, user_by_tg
from tests.web.conftest import DARK_THEME, Cockpit, needs_chromium, screenshot
from tests.web.test_cockpit import join_language
from tests.web.test_cockpit_pages import _visit

LI_NA, SOUTH_REP = 6001, 6003
NORTH_MANAGER, SOUTH_MANAGER, DIRECTOR = 6100, 6101, 6103
FRIDAY_EVENING = datetime(2026, 11, 27, 11, 0, tzinfo=UTC)
TUESDAY = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


def _photo(colour: tuple[int, int, int]) -> bytes:
    """A phone's photo: 1200 x 900 with a gradient, as JPEG."""
    image = Image.new("RGB", (1200, 900), colour)
    for x in range(0, 1200, 40):
        image.paste((x % 255, 90, 160), (x, 0, x + 20, 900))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


async def _seed(bot: LocalBot) -> dict[str, int]:
    """Li Na's visit with two stamped photos, a photo not stamped yet and a voice note; her
    deleted visit's stamped photo; the south rep's visit with a stamped photo."""
    runtime = bot.runtime
    north, south = await team_id(runtime, "north"), await team_id(runtime, "south")
    li, far = await user_by_tg(runtime, LI_NA), await user_by_tg(runtime, SOUTH_REP)
    assert li is not None and li.id is not None and far is not None and far.id is not None
    drums = await add_customer_in(runtime, "north", "Huaxin Paints", LI_NA)
    baiyun = await add_customer_in(runtime, "south", "Baiyun Tools", SOUTH_REP)
    ids: dict[str, int] = {}
    async with transaction(runtime.sessions) as session:
        visit = _visit(north, li.id, drums, TUESDAY, notes="Samples delivered.")
        deleted = _visit(north, li.id, drums, TUESDAY + timedelta(hours=3),
                         deleted_at=TUESDAY + timedelta(hours=4))  # fmt: skip
        theirs = _visit(south, far.id, baiyun, TUESDAY)
        session.add_all([visit, deleted, theirs])
        await session.flush()
        assert visit.id and deleted.id and theirs.id

        def stamped(visit_id: int, colour: tuple[int, int, int], line: str) -> VisitAttachment:
            original = _photo(colour)
            return VisitAttachment(
                visit_id=visit_id, kind=AttachmentKind.PHOTO, file_id=f"file-{line}",
                created_at=TUESDAY, original_sha256=digest(original), stamp_text=line,
                stamped=stamp(original, [line, "Huaxin Paints · Li Na"]), stamped_at=TUESDAY,
            )  # fmt: skip

        rows = {
            "first": stamped(visit.id, (200, 40, 40), "24 Nov 10:00 · 40 m"),
            "second": stamped(visit.id, (40, 160, 60), "24 Nov 10:05 · 40 m"),
            "unstamped": VisitAttachment(visit_id=visit.id, kind=AttachmentKind.PHOTO,
                                         file_id="file-raw", created_at=TUESDAY),
            "voice": VisitAttachment(visit_id=visit.id, kind=AttachmentKind.VOICE,
                                     file_id="file-voice", created_at=TUESDAY),
            "deleted": stamped(deleted.id, (10, 10, 200), "24 Nov 13:00"),
            "theirs": stamped(theirs.id, (90, 90, 90), "24 Nov 10:00 · Baiyun"),
        }  # fmt: skip
        session.add_all(rows.values())
        await session.flush()
        for name, row in rows.items():
            assert row.id is not None
            ids[name] = row.id
    ids["li"] = li.id
    return ids


async def _stored(bot: LocalBot, attachment_id: int) -> bytes:
    async with transaction(bot.runtime.sessions) as session:
        row = await session.get(VisitAttachment, attachment_id)
        assert row is not None and row.stamped is not None
        return row.stamped


async def _loaded(image: Locator) -> None:
    """The image was fetched (a blob: address, set once the signed request answered) and
    decoded."""
    await expect(image).to_have_attribute("src", re.compile(r"^blob:"), timeout=10_000)
    await expect(image).to_have_js_property("complete", True)


@needs_chromium
async def test_a_manager_sees_a_visits_stamped_photos_and_taps_one_to_enlarge(
    local_bot: LocalBot, cockpit: Cockpit, phone: Page
) -> None:
    await join(local_bot, LI_NA, "Li Na", Role.REP, "north")
    await join(local_bot, SOUTH_REP, "Anna Weber", Role.REP, "south")
    await join(local_bot, NORTH_MANAGER, "Chen Jing", Role.MANAGER, "north")
    ids = await _seed(local_bot)
    await local_bot.runtime.clock.set(FRIDAY_EVENING)  # type: ignore[attr-defined]

    await cockpit.open(phone, NORTH_MANAGER)
    await phone.locator("#reps tbody tr.rep", has_text="Li Na").click()
    visit = phone.locator("#visits li", has_text="Samples delivered.")
    thumbs = visit.locator(".photos img.thumb")
    # The two stamped copies; the photo not stamped yet and the voice note are not shown.
    await expect(thumbs).to_have_count(2, timeout=10_000)
    assert [await t.get_attribute("data-photo") for t in await thumbs.all()] == [
        str(ids["first"]), str(ids["second"])
    ]  # fmt: skip
    for thumb in await thumbs.all():
        await _loaded(thumb)
        assert 0 < await thumb.evaluate("img => img.naturalWidth") <= THUMBNAIL_SIDE
    await screenshot(phone, "rep-photos-en")

    await thumbs.first.click()
    whole = phone.locator("#photo-view img")
    await expect(whole).to_be_visible()
    await _loaded(whole)
    # The stamped copy at its full size (1200 px wide, as stamped).
    assert await whole.evaluate("img => img.naturalWidth") == 1200
    await screenshot(phone, "rep-photo-enlarged-en")
    await phone.locator("#photo-view").click()
    await expect(phone.locator("#photo-view")).to_have_count(0)

    await join_language(local_bot, NORTH_MANAGER, "zh")
    await cockpit.open(phone, NORTH_MANAGER, lang="zh", theme=DARK_THEME)
    await phone.reload()
    await phone.locator("#reps tbody tr.rep", has_text="Li Na").click()
    await expect(thumbs).to_have_count(2, timeout=10_000)
    await expect(thumbs.first).to_have_attribute("alt", "带服务器水印的拜访照片")
    await _loaded(thumbs.last)
    await screenshot(phone, "rep-photos-zh-dark")


async def test_the_photo_api_hands_out_only_stamped_copies_the_viewer_may_see(
    local_bot: LocalBot, cockpit: Cockpit
) -> None:
    await join(local_bot, LI_NA, "Li Na", Role.REP, "north")
    await join(local_bot, SOUTH_REP, "Anna Weber", Role.REP, "south")
    await join(local_bot, NORTH_MANAGER, "Chen Jing", Role.MANAGER, "north")
    await join(local_bot, SOUTH_MANAGER, "Tom Berg", Role.MANAGER, "south")
    await join(local_bot, DIRECTOR, "Zhao Min", Role.DIRECTOR, None)
    ids = await _seed(local_bot)
    await local_bot.runtime.clock.set(FRIDAY_EVENING)  # type: ignore[attr-defined]

    def who(telegram_id: int) -> dict[str, str]:
        return {"Authorization": f"tma {cockpit.init_data(telegram_id)}"}

    async with httpx.AsyncClient(base_url=cockpit.api) as client:
        rep_page = (await client.get(f"rep/{ids['li']}", headers=who(NORTH_MANAGER))).json()
        shown = next(v for v in rep_page["visits"] if v["note"] == "Samples delivered.")
        assert shown["photos"] == [ids["first"], ids["second"]]

        full = await client.get(f"photo/{ids['first']}", headers=who(NORTH_MANAGER))
        assert full.status_code == 200 and full.headers["content-type"] == "image/jpeg"
        assert full.content == await _stored(local_bot, ids["first"])
        assert "no-store" in full.headers["cache-control"]
        thumb = await client.get(
            f"photo/{ids['first']}", params={"size": "thumb"}, headers=who(NORTH_MANAGER)
        )
        with Image.open(io.BytesIO(thumb.content)) as small:
            assert max(small.size) == THUMBNAIL_SIDE
        # A director sees any team's.
        theirs = await client.get(f"photo/{ids['theirs']}", headers=who(DIRECTOR))
        assert theirs.status_code == 200

        refused = {
            "another team's": (ids["theirs"], NORTH_MANAGER),
            "ours, asked by the south": (ids["first"], SOUTH_MANAGER),
            "not stamped yet": (ids["unstamped"], NORTH_MANAGER),
            "a voice note": (ids["voice"], NORTH_MANAGER),
            "a deleted visit's": (ids["deleted"], NORTH_MANAGER),
            "no such photo": (ids["theirs"] + 100, NORTH_MANAGER),
        }
        for case, (attachment_id, viewer) in refused.items():
            answer = await client.get(f"photo/{attachment_id}", headers=who(viewer))
            assert answer.status_code == 404, case
            assert answer.json()["message"] == "That photo was not found.", case
        as_rep = await client.get(f"photo/{ids['first']}", headers=who(LI_NA))
        assert as_rep.status_code == 403
        unsigned = await client.get(f"photo/{ids['first']}")
        assert unsigned.status_code == 401
