"""China's working calendar: the library's holidays and 调休, the config's additions, the years the
packaged data does not cover, and "the next working day"."""

from __future__ import annotations

from datetime import date

from core.i18n import load_catalogs
from core.settings import TeamSettings
from core.workcalendar import china_says, covered_years
from views.reports import ask_tomorrow


def test_the_library_knows_2026_spring_festival_and_its_makeup_saturdays() -> None:
    team = TeamSettings()
    assert not team.is_working_day(date(2026, 2, 16))  # Spring Festival, a Monday
    assert team.is_working_day(date(2026, 2, 14))  # 调休: a Saturday worked
    assert team.is_working_day(date(2026, 2, 28))
    assert not team.is_working_day(date(2026, 10, 7))  # National Day week, a Wednesday
    assert team.next_working_day(date(2026, 9, 30)) == date(2026, 10, 8)


def test_the_packaged_data_ends_in_2026_and_the_config_takes_over() -> None:
    assert covered_years().stop == 2027  # chinese-calendar 1.11.0: 2004-2026
    assert china_says(date(2027, 2, 8)) is None
    plain = TeamSettings()
    assert plain.is_working_day(date(2027, 2, 8))  # unknown year: an ordinary Monday
    configured = TeamSettings(holidays=[date(2027, 2, 8)], makeup_workdays=[date(2027, 2, 20)])
    assert not configured.is_working_day(date(2027, 2, 8))
    assert configured.is_working_day(date(2027, 2, 20))


def test_the_config_wins_over_the_library_and_a_team_may_opt_out() -> None:
    works_anyway = TeamSettings(makeup_workdays=[date(2026, 10, 7)])
    assert works_anyway.is_working_day(date(2026, 10, 7))
    rests_anyway = TeamSettings(holidays=[date(2026, 2, 14)])
    assert not rests_anyway.is_working_day(date(2026, 2, 14))
    berlin = TeamSettings(timezone="Europe/Berlin", calendar="none")
    assert berlin.is_working_day(date(2026, 2, 16)) and not berlin.is_working_day(
        date(2026, 2, 14)
    )


def test_the_plan_question_says_tomorrow_only_when_it_is() -> None:
    texts = load_catalogs()
    friday, monday, saturday = date(2026, 11, 27), date(2026, 11, 30), date(2026, 11, 28)
    assert "下一个工作日" in ask_tomorrow(texts, "zh", monday, [], after=friday)
    assert "明天" in ask_tomorrow(texts, "zh", saturday, [], after=friday)
    assert "next working day" in ask_tomorrow(texts, "en", monday, ["Huafeng"], after=friday)
