"""Reading the dates and times people type, in English and Chinese.

"tomorrow", "in 3 days", "next Fri", "28 Nov", "2026-11-28", "明天", "后天", "大后天", "前天",
"3天后", "下周五", "上周三", "11月28日", "下个月5号", "月底", "月初", "end of month", "last Wed",
"10:30", "下午3点半", and a day with a time: "yesterday 16:00", "昨天下午4点". Weeks are ISO weeks
(Monday first): "next Fri" and "下周五" both mean the Friday of next week, "last Wed" and "上周三"
the Wednesday of last week; a bare "Fri" or "周五" is the coming Friday (today if it is Friday).
"月底" is the last day of this month, "月初" the first day of the next one. Anything unreadable
gives None, never an exception: the caller asks again.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, time, timedelta

# A relative date further away than this is a typo, not a plan.
MAX_DAYS_AHEAD = 3660
# "11月20日" typed a few days after the 20th means the 20th that just passed (the caller says it
# is in the past); typed in December, "1月5日" means next January.
ROLL_OVER_AFTER_DAYS = 180

_WEEKDAYS_EN = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_MONTHS_EN = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10,
    "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}  # fmt: skip
_CN_NUM = r"[0-9零〇一二两三四五六七八九十]{1,4}"
_WEEKDAY_EN = "|".join(sorted(_WEEKDAYS_EN, key=len, reverse=True))
_MONTH_EN = "|".join(sorted(_MONTHS_EN, key=len, reverse=True))

_SIMPLE_EN = {
    "today": 0, "tod": 0, "now": 0,
    "tomorrow": 1, "tmr": 1, "tmrw": 1, "tomorow": 1, "tommorow": 1, "tommorrow": 1,
    "day after tomorrow": 2, "the day after tomorrow": 2, "yesterday": -1, "yday": -1,
    "day before yesterday": -2, "the day before yesterday": -2,
}  # fmt: skip
_SIMPLE_ZH = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "後天": 2, "大后天": 3,
              "大後天": 3, "昨天": -1, "昨日": -1, "前天": -2, "大前天": -3}  # fmt: skip
# Month ends and starts: (months ahead, "end" or "start").
_MONTH_EDGES = {
    "月底": (0, "end"), "本月底": (0, "end"), "这个月底": (0, "end"), "月末": (0, "end"),
    "本月末": (0, "end"), "下月底": (1, "end"), "下个月底": (1, "end"), "下月末": (1, "end"),
    "end of month": (0, "end"), "end of the month": (0, "end"), "month end": (0, "end"),
    "eom": (0, "end"), "end of next month": (1, "end"),
    "月初": (1, "start"), "下月初": (1, "start"), "下个月初": (1, "start"),
    "start of next month": (1, "start"), "beginning of next month": (1, "start"),
    "start of month": (1, "start"), "next month": (1, "start"), "下个月": (1, "start"),
    "下月": (1, "start"),
}  # fmt: skip

_ISO = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_NUMERIC_MD = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})")
_IN_DAYS_EN = re.compile(
    r"(?:in\s+)?(\d{1,5})\s*(d|days?|w|wks?|weeks?)(?:\s+(?:later|from now))?"
)
_DAY_MONTH_EN = re.compile(
    rf"(\d{{1,2}})(?:st|nd|rd|th)?\s*(?:of\s+)?({_MONTH_EN})\.?(?:,?\s*(\d{{4}}))?"
)
_MONTH_DAY_EN = re.compile(rf"({_MONTH_EN})\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s*(\d{{4}}))?")
_WEEKDAY_EN_RE = re.compile(rf"(?:(next|this|coming|last)\s+)?({_WEEKDAY_EN})\.?")
_IN_DAYS_ZH = re.compile(rf"({_CN_NUM})\s*个?\s*(天|日|星期|礼拜|周)\s*(?:后|以后|之后)")
_WEEKDAY_ZH_RE = re.compile(
    r"(下下个?|下个?|上上个?|上个?|本|这个?|)\s*(周|星期|礼拜)([一二三四五六日天七1-7])"
)
_NEXT_MONTH_DAY_ZH = re.compile(rf"(下下个?|下个?|本|这个?)\s*月\s*({_CN_NUM})\s*[日号]?")
_MONTH_DAY_ZH = re.compile(rf"(?:(\d{{4}})\s*年)?\s*({_CN_NUM})\s*月\s*({_CN_NUM})\s*[日号]?")
_DAY_ZH = re.compile(rf"({_CN_NUM})\s*[日号]")
_NEXT_WEEK = {"next week", "下周", "下星期", "下礼拜", "下个星期", "下个礼拜"}

_CLOCK = re.compile(r"(\d{1,2})\s*[:.h]\s*(\d{2})\s*(am|pm|a\.m\.|p\.m\.)?")
_HOUR_AMPM = re.compile(r"(\d{1,2})\s*(am|pm|a\.m\.|p\.m\.)")
_CLOCK_ZH = re.compile(
    rf"(凌晨|早上|早晨|上午|中午|下午|傍晚|晚上)?\s*({_CN_NUM})\s*[点點时]\s*(?:(半)|({_CN_NUM})\s*分?)?"
)


def normalize(text: str) -> str:
    """Fold full-width characters, lower-case, and tidy the spaces and trailing punctuation."""
    folded = unicodedata.normalize("NFKC", text).lower().strip()
    folded = re.sub(r"\s+", " ", folded)
    return folded.strip(" .。!！?？,，")


def cn_number(text: str) -> int | None:
    """``28``, ``二十八``, ``十一``, ``两`` -> int; None for anything else."""
    if text.isascii():
        return int(text) if text.isdigit() else None
    if "十" not in text:
        if len(text) != 1 or text not in _CN_DIGITS:
            return None
        return _CN_DIGITS[text]
    tens, _, ones = text.partition("十")
    if "十" in ones or len(tens) > 1 or len(ones) > 1:
        return None
    ten_value = 1 if tens == "" else _CN_DIGITS.get(tens)
    one_value = 0 if ones == "" else _CN_DIGITS.get(ones)
    if ten_value is None or one_value is None:
        return None
    return ten_value * 10 + one_value


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):
        return None


def _shift(today: date, days: int) -> date | None:
    if abs(days) > MAX_DAYS_AHEAD:
        return None
    try:
        return today + timedelta(days=days)
    except OverflowError:
        return None


def _month_day(today: date, month: int, day: int, year: int | None) -> date | None:
    if year is not None:
        return _safe_date(year, month, day)
    candidate = _safe_date(today.year, month, day)
    if candidate is None:
        # 29 February in a year without it: the next year that has one is too far to guess.
        return None
    if (today - candidate).days > ROLL_OVER_AFTER_DAYS:
        return _safe_date(today.year + 1, month, day)
    return candidate


def _weekday(today: date, weekday: int, weeks_ahead: int | None) -> date | None:
    """``weeks_ahead`` None: the coming one; 0: this ISO week's; 1: next week's..."""
    monday = today - timedelta(days=today.weekday())
    if weeks_ahead is None:
        candidate = monday + timedelta(days=weekday)
        return candidate if candidate >= today else candidate + timedelta(days=7)
    return _shift(monday, 7 * weeks_ahead + weekday)


def _next_monday(today: date) -> date:
    return today + timedelta(days=7 - today.weekday())


def parse_date(text: str, today: date) -> date | None:
    """The date a person meant, relative to ``today`` (the team's local date), or None."""
    try:
        return _parse_date(normalize(text)[:64], today)
    except (ValueError, OverflowError):
        return None


def _parse_date(text: str, today: date) -> date | None:
    if not text:
        return None
    if text in _SIMPLE_EN:
        return _shift(today, _SIMPLE_EN[text])
    if text in _SIMPLE_ZH:
        return _shift(today, _SIMPLE_ZH[text])
    if text in _NEXT_WEEK:
        return _next_monday(today)
    if text in _MONTH_EDGES:
        months, edge = _MONTH_EDGES[text]
        in_year, in_month = _month_ahead(today, months)
        last = calendar.monthrange(in_year, in_month)[1]
        return _safe_date(in_year, in_month, last if edge == "end" else 1)
    if match := _NEXT_MONTH_DAY_ZH.fullmatch(text):
        nth = cn_number(match[2])
        months = 2 if match[1].startswith("下下") else 1 if match[1].startswith("下") else 0
        return None if nth is None else _safe_date(*_month_ahead(today, months), nth)
    if match := _ISO.fullmatch(text):
        return _safe_date(int(match[1]), int(match[2]), int(match[3]))
    if match := _NUMERIC_MD.fullmatch(text):
        first, second = int(match[1]), int(match[2])
        if first > 12 >= second:  # 28/11: day first
            return _month_day(today, second, first, None)
        return _month_day(today, first, second, None)
    if match := _IN_DAYS_EN.fullmatch(text):
        count = int(match[1])
        return _shift(today, count * (7 if match[2].startswith("w") else 1))
    if match := _DAY_MONTH_EN.fullmatch(text):
        year = int(match[3]) if match[3] else None
        return _month_day(today, _MONTHS_EN[match[2]], int(match[1]), year)
    if match := _MONTH_DAY_EN.fullmatch(text):
        year = int(match[3]) if match[3] else None
        return _month_day(today, _MONTHS_EN[match[1]], int(match[2]), year)
    if match := _WEEKDAY_EN_RE.fullmatch(text):
        ahead = {"next": 1, "this": 0, "coming": None, "last": -1, None: None}[match[1]]
        return _weekday(today, _WEEKDAYS_EN[match[2]], ahead)
    if match := _IN_DAYS_ZH.fullmatch(text):
        amount = cn_number(match[1])
        if amount is None:
            return None
        return _shift(today, amount * (1 if match[2] in ("天", "日") else 7))
    if match := _WEEKDAY_ZH_RE.fullmatch(text):
        prefix, day = match[1], match[3]
        weekday = int(day) - 1 if day.isdigit() else _WEEKDAYS_ZH[day]
        ahead = 2 if prefix.startswith("下下") else 1 if prefix.startswith("下") else None
        if prefix.startswith("上"):
            ahead = -2 if prefix.startswith("上上") else -1
        if prefix.startswith(("本", "这")):
            ahead = 0
        return _weekday(today, weekday, ahead)
    if match := _MONTH_DAY_ZH.fullmatch(text):
        month, day_of_month = cn_number(match[2]), cn_number(match[3])
        if month is None or day_of_month is None:
            return None
        return _month_day(today, month, day_of_month, int(match[1]) if match[1] else None)
    if match := _DAY_ZH.fullmatch(text):
        day_of_month = cn_number(match[1])
        if day_of_month is None:
            return None
        candidate = _safe_date(today.year, today.month, day_of_month)
        if candidate is not None and candidate >= today:
            return candidate
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return _safe_date(year, month, day_of_month)
    return None


def _month_ahead(today: date, months: int) -> tuple[int, int]:
    index = today.year * 12 + today.month - 1 + months
    return index // 12, index % 12 + 1


def parse_moment(text: str, today: date) -> tuple[date, time] | None:
    """A day and a time of day typed together ("yesterday 16:00", "昨天下午4点"), or a time
    alone (today); None if either part is unclear."""
    folded = re.sub(r"\s+at\s+", " ", normalize(text)[:48])
    alone = parse_time(folded)
    if alone is not None:
        return today, alone
    # The split between the day and the time: at a space, or anywhere in Chinese text.
    for cut in range(1, len(folded)):
        day_part, time_part = folded[:cut].strip(), folded[cut:].strip()
        if not day_part or not time_part:
            continue
        at = parse_time(time_part)
        if at is None:
            continue
        day = parse_date(day_part, today)
        if day is not None:
            return day, at
    return None


def parse_time(text: str) -> time | None:
    """A time of day: ``10:30``, ``3pm``, ``上午10点``, ``下午3点半``; None if unclear."""
    try:
        return _parse_time(normalize(text)[:32])
    except (ValueError, OverflowError):
        return None


def _parse_time(text: str) -> time | None:
    if match := _CLOCK.fullmatch(text):
        hour, minute = int(match[1]), int(match[2])
        return _clock(_twelve_hour(hour, match[3]), minute)
    if match := _HOUR_AMPM.fullmatch(text):
        return _clock(_twelve_hour(int(match[1]), match[2]), 0)
    if match := _CLOCK_ZH.fullmatch(text):
        zh_hour = cn_number(match[2])
        zh_minute = 30 if match[3] else cn_number(match[4]) if match[4] else 0
        if zh_hour is None or zh_minute is None:
            return None
        afternoon = match[1] in ("下午", "傍晚", "晚上") and 1 <= zh_hour < 12
        if afternoon or (match[1] == "中午" and zh_hour < 3):
            zh_hour += 12
        return _clock(zh_hour, zh_minute)
    return None


def _twelve_hour(hour: int, marker: str | None) -> int:
    if marker is None:
        return hour
    if not 1 <= hour <= 12:
        return 99
    if marker.startswith("p"):
        return hour % 12 + 12
    return hour % 12


def _clock(hour: int, minute: int) -> time | None:
    if 0 <= hour <= 23 and 0 <= minute <= 59:
        return time(hour, minute)
    return None
