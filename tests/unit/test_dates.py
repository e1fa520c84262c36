"""Reading typed dates and times in English and Chinese; free text never crashes the parser."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.dates import cn_number, parse_date, parse_moment, parse_time

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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("月底", "2026-11-30"), ("本月底", "2026-11-30"), ("月末", "2026-11-30"),
        ("下月底", "2026-12-31"), ("月初", "2026-12-01"), ("下个月初", "2026-12-01"),
        ("end of month", "2026-11-30"), ("End of the month", "2026-11-30"),
        ("start of next month", "2026-12-01"),
        ("上周三", "2026-11-18"), ("上星期五", "2026-11-20"), ("上上周一", "2026-11-09"),
        ("last Wed", "2026-11-18"), ("last friday", "2026-11-20"),
        ("前天", "2026-11-22"), ("大前天", "2026-11-21"), ("大后天", "2026-11-27"),
        ("day before yesterday", "2026-11-22"),
        ("下个月5号", "2026-12-05"), ("下月5日", "2026-12-05"), ("下个月五号", "2026-12-05"),
        ("下下个月1号", "2027-01-01"), ("本月28号", "2026-11-28"),
    ],
)  # fmt: skip
def test_the_dates_reps_really_type(text: str, expected: str) -> None:
    assert parse_date(text, TUESDAY) == date.fromisoformat(expected)


def test_month_edges_across_the_year_and_february() -> None:
    assert parse_date("月底", date(2028, 2, 3)) == date(2028, 2, 29)
    assert parse_date("月初", date(2026, 12, 15)) == date(2027, 1, 1)
    assert parse_date("下个月31号", date(2026, 1, 10)) is None  # no 31 February


@pytest.mark.parametrize(
    ("text", "day", "at"),
    [
        ("yesterday 16:00", "2026-11-23", time(16, 0)),
        ("Yesterday at 4pm", "2026-11-23", time(16)),
        ("昨天下午4点", "2026-11-23", time(16, 0)), ("昨天 16:00", "2026-11-23", time(16, 0)),
        ("前天上午10点半", "2026-11-22", time(10, 30)), ("10:30", "2026-11-24", time(10, 30)),
        ("today 9am", "2026-11-24", time(9, 0)),
    ],
)  # fmt: skip
def test_a_day_and_a_time_typed_together(text: str, day: str, at: time) -> None:
    assert parse_moment(text, TUESDAY) == (date.fromisoformat(day), at)


@pytest.mark.parametrize("text", ["yesterday", "昨天下午", "16:00 yesterday maybe", "25:00", ""])
def test_unreadable_moments_give_none(text: str) -> None:
    assert parse_moment(text, TUESDAY) is None


@settings(max_examples=300, deadline=None)
@given(
    days_back=st.integers(min_value=0, max_value=2),
    hour=st.integers(min_value=0, max_value=23),
    minute=st.integers(min_value=0, max_value=59),
    style=st.sampled_from(["en", "zh"]),
    today=st.dates(min_value=date(2000, 1, 10), max_value=date(2099, 12, 20)),
)
def test_a_typed_day_and_time_reads_back(
    days_back: int, hour: int, minute: int, style: str, today: date
) -> None:
    """Whatever day word and clock a rep types, the parser returns exactly that moment."""
    words = {"en": ["today", "yesterday", "day before yesterday"], "zh": ["今天", "昨天", "前天"]}
    text = f"{words[style][days_back]} {hour:02d}:{minute:02d}"
    assert parse_moment(text, today) == (
        date.fromordinal(today.toordinal() - days_back),
        time(hour, minute),
    )


@settings(max_examples=300, deadline=None)
@given(today=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 11, 30)))
def test_month_end_and_start_bracket_the_rest_of_the_month(today: date) -> None:
    end, start = parse_date("月底", today), parse_date("月初", today)
    assert end is not None and start is not None
    assert today <= end < start and (start - end).days == 1 and start.day == 1
    assert parse_date("end of month", today) == end


@settings(max_examples=300, deadline=None)
@given(
    today=st.dates(min_value=date(2000, 1, 20), max_value=date(2099, 12, 1)),
    weekday=st.integers(min_value=0, max_value=6),
)
def test_last_week_days_fall_in_the_previous_iso_week(today: date, weekday: int) -> None:
    zh = "一二三四五六日"[weekday]
    en = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"][weekday]
    found = parse_date(f"上周{zh}", today)
    assert found is not None and found == parse_date(f"last {en}", today)
    assert found.weekday() == weekday
    assert found.isocalendar()[:2] == (today - timedelta(days=7)).isocalendar()[:2]


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=60), today=st.dates(min_value=date(2, 1, 1)))
def test_free_text_never_crashes_the_moment_parser(text: str, today: date) -> None:
    result = parse_moment(text, today)
    assert result is None or (isinstance(result[0], date) and isinstance(result[1], time))
