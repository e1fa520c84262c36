"""Reading typed dates and times in English and Chinese; free text never crashes the parser."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.dates import cn_number, parse_date, parse_time

TUESDAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow", "2026-11-25"), ("Tomorrow!", "2026-11-25"), ("tmr", "2026-11-25"),
        ("today", "2026-11-24"), ("day after tomorrow", "2026-11-26"),
        ("in 3 days", "2026-11-27"), ("3 days", "2026-11-27"), ("3d", "2026-11-27"),
        ("in 2 weeks", "2026-12-08"), ("next week", "2026-11-30"),
        ("fri", "2026-11-27"), ("Friday", "2026-11-27"), ("this Fri", "2026-11-27"),
        ("next Fri", "2026-12-04"), ("next friday", "2026-12-04"), ("tue", "2026-11-24"),
        ("mon", "2026-11-30"), ("this mon", "2026-11-23"),
        ("28 Nov", "2026-11-28"), ("28th November", "2026-11-28"), ("Nov 28", "2026-11-28"),
        ("Dec 3, 2027", "2027-12-03"), ("5 jan", "2027-01-05"),
        ("2026-11-28", "2026-11-28"), ("2026/11/28", "2026-11-28"), ("2026.12.01", "2026-12-01"),
        ("11/28", "2026-11-28"), ("28/11", "2026-11-28"), ("12-01", "2026-12-01"),
        ("明天", "2026-11-25"), ("后天", "2026-11-26"), ("大后天", "2026-11-27"),
        ("今天", "2026-11-24"), ("3天后", "2026-11-27"), ("三天后", "2026-11-27"),
        ("３天以后", "2026-11-27"), ("两周后", "2026-12-08"), ("十天后", "2026-12-04"),
        ("下周五", "2026-12-04"), ("下星期一", "2026-11-30"), ("下下周一", "2026-12-07"),
        ("周五", "2026-11-27"), ("星期天", "2026-11-29"), ("本周一", "2026-11-23"),
        ("这周三", "2026-11-25"), ("下周", "2026-11-30"),
        ("11月28日", "2026-11-28"), ("11月28号", "2026-11-28"), ("１１月２８日", "2026-11-28"),
        ("十一月二十八日", "2026-11-28"), ("2027年1月5日", "2027-01-05"), ("1月5日", "2027-01-05"),
        ("28号", "2026-11-28"), ("5号", "2026-12-05"), ("11月20日", "2026-11-20"),
    ],
)  # fmt: skip
def test_dates_people_type(text: str, expected: str) -> None:
    assert parse_date(text, TUESDAY) == date.fromisoformat(expected)


@pytest.mark.parametrize(
    "text",
    ["", "soon", "blah", "2月30日", "2026-02-30", "13/13", "99999天后", "in 99999 days",
     "next someday", "32 Nov", "0月1日", "下周八", "28 Nov 12345", "明天下午", "#C12"],
)  # fmt: skip
def test_unreadable_dates_give_none(text: str) -> None:
    assert parse_date(text, TUESDAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10:30", time(10, 30)), ("9.05", time(9, 5)), ("3pm", time(15, 0)),
        ("12am", time(0, 0)), ("12pm", time(12, 0)), ("3:45 pm", time(15, 45)),
        ("10点", time(10, 0)), ("十点", time(10, 0)), ("上午10点半", time(10, 30)),
        ("下午3点", time(15, 0)), ("下午3点15分", time(15, 15)), ("晚上8点", time(20, 0)),
        ("中午12点", time(12, 0)), ("１４：３０", time(14, 30)),
    ],
)  # fmt: skip
def test_times_people_type(text: str, expected: time) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize("text", ["", "25:00", "10:75", "13pm", "noonish", "下午25点"])
def test_unreadable_times_give_none(text: str) -> None:
    assert parse_time(text) is None


def test_chinese_numbers() -> None:
    assert [cn_number(t) for t in ("两", "十", "十一", "二十", "二十八", "九十九")] == [
        2, 10, 11, 20, 28, 99
    ]  # fmt: skip
    assert cn_number("一百") is None and cn_number("十十") is None and cn_number("abc") is None


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=80), today=st.dates())
def test_free_text_never_crashes_the_date_parser(text: str, today: date) -> None:
    result = parse_date(text, today)
    assert result is None or isinstance(result, date)


@settings(max_examples=300, deadline=None)
@given(
    text=st.from_regex(
        r"(next |this |in |下|下下|本)?[0-9一二三四五六七八九十两]{0,3}"
        r"(天后|周[一二三四五六日]|月|日|号|days|d|weeks|fri|nov|/|-)?[0-9]{0,4}",
        fullmatch=True,
    ),
    today=st.dates(min_value=date(1, 1, 8), max_value=date(9998, 12, 20)),
)
def test_date_like_text_never_crashes(text: str, today: date) -> None:
    result = parse_date(text, today)
    assert result is None or isinstance(result, date)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40))
def test_free_text_never_crashes_the_time_parser(text: str) -> None:
    result = parse_time(text)
    assert result is None or isinstance(result, time)
