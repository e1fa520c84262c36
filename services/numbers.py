"""Numbers as reps type them: Arabic or Chinese numerals ("十桶", "三万五", "1.5万", "2万3",
"两千"), read by cn2an, and discounts ("8%", "百分之八", "9折" = 10 % off). Anything unreadable
gives None; the caller says what to send instead."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

import cn2an

# Characters that make a text a Chinese numeral (万/千/亿 after Arabic digits included).
_CN_NUMERAL = re.compile(r"[零〇一二两三四五六七八九十百千万亿点壹贰叁肆伍陆柒捌玖拾佰仟萬]")
_ARABIC = re.compile(r"\d+(?:\.\d+)?")
# A unit or measure word after the number: 桶, 箱, 件, 个, pcs, boxes...
_NUMERAL_CHARS = "零〇一二两三四五六七八九十百千万亿萬点壹贰叁肆伍陆柒捌玖拾佰仟"
_TRAILING_UNIT = re.compile(rf"(?<=[\d{_NUMERAL_CHARS}])\s{{0,2}}[^\d\s.{_NUMERAL_CHARS}]{{1,6}}$")
# A count is a few characters ("三十箱", "120 pcs"): anything much longer is not one.
MAX_QUANTITY_CHARS = 40
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_PERCENT_ZH = re.compile(r"百分之(.+)")
_ZHE = re.compile(r"打?\s*(.+?)\s*折")
# Words around a discount that say nothing more: "10% off", "优惠10%", "降价 5%".
_DISCOUNT_WORDS = re.compile(r"^(?:优惠|降价|降)|(?:off|优惠)$", re.IGNORECASE)
# A discount is a few characters ("打八五折", "12.5% off"); the patterns backtrack on long text.
MAX_DISCOUNT_CHARS = 20


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().replace(",", "").replace("，", "")


def number(text: str) -> Decimal | None:
    """The value of ``text``: "35000", "3.5万", "三万五", "十二点五"; None when unreadable."""
    folded = _fold(text).replace("萬", "万")
    if not folded or len(folded) > 24:
        return None
    if _ARABIC.fullmatch(folded):
        return Decimal(folded)
    if not _CN_NUMERAL.search(folded):
        return None
    try:
        value = cn2an.cn2an(folded, "smart")
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    try:
        # cn2an gives a float for decimals: its shortest repr is the number the person typed.
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(int(value))
    except (InvalidOperation, ValueError, OverflowError):
        return None


def quantity(text: str) -> int | None:
    """A whole, positive count with an optional unit: "10", "十桶", "三十箱", "2万"."""
    if len(text) > MAX_QUANTITY_CHARS:
        return None
    folded = _TRAILING_UNIT.sub("", _fold(text))
    value = number(folded)
    if value is None or value <= 0 or value != value.to_integral_value():
        return None
    return int(value)


def discount_percent(text: str) -> Decimal | None:
    """Percent off: "8%", "百分之八", "优惠8%" and "8% off" are 8; "9折" (pay 90 %) and "八五折"
    are 10 and 15. A bare "8" is not a discount (in a price field it is a price)."""
    if len(text) > MAX_DISCOUNT_CHARS:
        return None
    folded = _DISCOUNT_WORDS.sub("", _fold(text).replace("％", "%")).strip()
    if match := _PERCENT.fullmatch(folded):
        value: Decimal | None = Decimal(match[1])
    elif match := _PERCENT_ZH.fullmatch(folded):
        value = number(match[1])
    elif match := _ZHE.fullmatch(folded):
        paid = _zhe(match[1])
        value = None if paid is None else Decimal(100) - paid
    else:
        return None
    if value is None or not Decimal(0) < value < Decimal(100):
        return None
    return value


def _zhe(text: str) -> Decimal | None:
    """The share paid of "N折": 9 -> 90, 8.5 / 八五 -> 85, 75 -> 75."""
    if re.fullmatch(r"[一二三四五六七八九]{2}", text):
        digits = "".join(str(cn2an.cn2an(ch, "normal")) for ch in text)
        return Decimal(digits)
    value = number(text)
    if value is None or value <= 0:
        return None
    return value * 10 if value < 10 else value
