"""Visit photos stamped by the server: the stamp is drawn from stored data, never from EXIF."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

from PIL import Image, ImageChops, ImageStat

from core.clock import ManualClock
from models.common import Role
from sandbox.harness import LocalBot
from services import photo_stamp
from tests.customer_helpers import add_customer, attachments, visits_of
from tests.helpers import join

SHOP = (30.276849, 120.160030)
JOBS_UNDER_TEST = ("close_open_visits",)


def street_photo(width: int = 1280, height: int = 960) -> bytes:
    """A photo-like JPEG: a smooth gradient the stamp's band stands out on."""
    image = Image.new("RGB", (width, height))
    image.putdata([(x * 255 // width, y * 255 // height, 160) for y in range(height)
                   for x in range(width)])  # fmt: skip
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def _mean_difference(a: Image.Image, b: Image.Image, box: tuple[int, int, int, int]) -> float:
    diff = ImageChops.difference(a.crop(box), b.crop(box)).convert("L")
    return float(ImageStat.Stat(diff).mean[0])


async def test_a_visit_photo_is_stamped_from_stored_data(local_bot: LocalBot) -> None:
    runtime = local_bot.runtime
    clock = runtime.clock
    assert isinstance(clock, ManualClock)
    rep = await join(local_bot, 7101, "Wang Wei", Role.REP, "north")
    await add_customer(runtime, "north", "上海新天地零售", location=SHOP)
    await rep.share_location(30.2770, 120.1601, accuracy=9.0)
    await rep.tap("📍 Check in: 上海新天地零售")
    await clock.advance(timedelta(minutes=20))
    await rep.tap("🚪 Check out")
    await rep.send("Shelf photo of the new display.")
    original = street_photo()
    await rep.send_photo(content=original)
    await rep.tap("Done")
    replies = await rep.tap("Save")
    assert "Visit saved" in replies[-1].text

    (visit,) = await visits_of(runtime, 7101)
    (photo,) = await attachments(runtime, visit.id or 0)
    assert photo.stamped is not None and photo.original_sha256 == photo_stamp.digest(original)
    # Every line comes from the database: the time the server received the photo (Shanghai),
    # the check-in's stored distance, the customer and the rep.
    local = photo.created_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert visit.distance_m is not None
    assert photo.stamp_text == "\n".join([
        # The zone as an offset: no English zone name on a Chinese team's photo.
        f"{local:%Y-%m-%d %H:%M} UTC+8",
        # The team's language (zh here), whoever looks at it later.
        f"距客户 {visit.distance_m:.0f} 米",
        "客户：上海新天地零售",
        "销售代表：Wang Wei",
    ])  # fmt: skip

    before = Image.open(io.BytesIO(original)).convert("RGB")
    after = Image.open(io.BytesIO(photo.stamped)).convert("RGB")
    assert after.size == before.size
    band = photo_stamp.band_height(after.size, 4)
    width, height = after.size
    # Where the stamp is, the photo changed; above it, only JPEG's re-encoding noise.
    assert _mean_difference(before, after, (0, height - band, width, height)) > 40
    assert _mean_difference(before, after, (0, 0, width, height - band - 10)) < 3
