"""Real OCR of business cards drawn with Pillow: Chinese and English, two layouts, rotated and
JPEG-compressed; every field is checked on every card."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.card_reader import CardReader, NotAnImage
from services.card_text import extract
from tests.cards import CARDS, Card, cjk_font, draw_card, not_a_card

FONT = cjk_font()
pytestmark = [
    pytest.mark.skipif(FONT is None, reason="no CJK font (fonts-wqy-microhei) to draw cards"),
    pytest.mark.xdist_group("card_ocr"),
]


@pytest.fixture(scope="module")
def reader() -> CardReader:
    return CardReader(time_limit=60)


@pytest.mark.parametrize("card", CARDS, ids=[card.person for card in CARDS])
async def test_every_field_of_the_card_is_read(reader: CardReader, card: Card) -> None:
    assert FONT is not None
    found = extract(await reader.read(draw_card(card, Path(FONT))))
    assert found.is_card
    assert (found.company, found.person, found.title) == (card.company, card.person, card.title)
    assert found.mobiles == [card.mobile_digits]
    assert found.landlines == [card.landline_key]
    assert (found.email, found.address) == (card.email, card.address)


async def test_a_photo_of_something_else_is_not_a_card(reader: CardReader) -> None:
    assert not extract(await reader.read(not_a_card())).is_card


async def test_bytes_that_are_no_picture(reader: CardReader) -> None:
    with pytest.raises(NotAnImage):
        await reader.read(b"%PDF-1.4 not a photo")


async def test_a_reading_past_its_time_limit_is_given_up() -> None:
    assert FONT is not None
    with pytest.raises(TimeoutError):
        await CardReader(time_limit=0.001).read(draw_card(CARDS[0], Path(FONT)))
