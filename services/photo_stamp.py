"""Visit photos stamped by the server (the 水印相机 of Chinese field apps).

The stamp is drawn from what the server stored about the visit (its time in the team's
timezone, the check-in's distance or coordinates, the customer and the rep), never from the
photo's EXIF, which the phone can be made to say anything. Drawing takes tens of milliseconds,
so it runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from functools import cache

from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

# The band's text height as a share of the photo's shorter side: legible on a phone at a
# glance, small enough to leave the photo visible.
TEXT_SHARE = 0.034
MIN_TEXT_PX = 14
# Telegram's largest photo side; a bigger upload is scaled to it before stamping.
MAX_SIDE = 1280
JPEG_QUALITY = 85


class NotAPhoto(ValueError):
    """The bytes are not an image Pillow can read."""


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        import pylopdf_fonts_zh_cn

        return ImageFont.truetype(str(pylopdf_fonts_zh_cn.sans_path()), size)
    except (ImportError, OSError):
        # Without the shipped CJK font Chinese names would be boxes; Pillow's own font at least
        # keeps the time and the distance legible.
        return ImageFont.load_default(size)


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def stamp(content: bytes, lines: list[str]) -> bytes:
    """The photo with ``lines`` drawn on a translucent band along its bottom edge, as JPEG."""
    try:
        with Image.open(io.BytesIO(content)) as opened:
            # The pixels as the camera meant them to be seen; the EXIF itself is dropped.
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise NotAPhoto(str(error)) from error
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    size = max(MIN_TEXT_PX, round(min(image.size) * TEXT_SHARE))
    font = _font(size)
    pad = size // 2
    line_height = round(size * 1.35)
    band = pad * 2 + line_height * len(lines)
    width, height = image.size
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    draw.rectangle((0, height - band, width, height), fill=(0, 0, 0, 140))
    y = height - band + pad
    for line in lines:
        draw.text((pad, y), _fit(draw, line, font, width - 2 * pad), font=font,
                  fill=(255, 255, 255, 255))  # fmt: skip
        y += line_height
    stamped = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    out = io.BytesIO()
    stamped.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def band_height(image_size: tuple[int, int], line_count: int) -> int:
    """Pixels the stamp covers at the bottom of a photo of ``image_size`` (after scaling)."""
    size = max(MIN_TEXT_PX, round(min(image_size) * TEXT_SHARE))
    return (size // 2) * 2 + round(size * 1.35) * line_count


def _fit(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    width: int,
) -> str:  # fmt: skip
    """``text`` cut with an ellipsis where it would run off the photo (a long customer name)."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


async def stamp_off_loop(content: bytes, lines: list[str]) -> bytes:
    return await asyncio.to_thread(stamp, content, lines)


THUMBNAIL_SIDE = 320


def thumbnail(content: bytes, side: int = THUMBNAIL_SIDE) -> bytes:
    """A stamped photo scaled to fit ``side`` pixels (a page of visits loads these, not the
    full copies)."""
    with Image.open(io.BytesIO(content)) as opened:
        image = opened.convert("RGB")
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


async def thumbnail_off_loop(content: bytes) -> bytes:
    return await asyncio.to_thread(thumbnail, content)
