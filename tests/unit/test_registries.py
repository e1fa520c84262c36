"""Every import-time registry refuses a name registered twice, at import time."""

from __future__ import annotations

import pytest

import bot.app  # noqa: F401  (imports every area: all registries are filled)
from core.registry import DuplicateRegistration, Registry
from handlers.commands import COMMANDS, declare
from handlers.forms import FORMS, register_form
from scheduler.registry import JOBS, job
from services.report_sections import CONTRIBUTORS as REPORT_CONTRIBUTORS
from services.report_sections import contributor
from services.summary.core import CONTRIBUTORS as SUMMARY_CONTRIBUTORS
from services.summary.core import contribute


def test_a_registry_refuses_a_second_entry_and_a_test_may_override_one() -> None:
    registry: Registry[int] = Registry("number")
    registry.add("one", 1)
    with pytest.raises(DuplicateRegistration, match="number 'one' is registered twice"):
        registry.add("one", 2)
    with registry.overriding("one", 3), registry.overriding("two", 2):
        assert dict(registry) == {"one": 3, "two": 2}
    assert dict(registry) == {"one": 1}


def test_every_registry_of_the_house_refuses_a_name_twice() -> None:
    some_job = next(iter(JOBS.values()))
    with pytest.raises(DuplicateRegistration):
        job(some_job.name, period="day", at="daily 08:00", grace_minutes=5,
            description="again")(some_job.run)  # fmt: skip
    with pytest.raises(DuplicateRegistration):
        register_form(next(iter(FORMS.values())))
    with pytest.raises(DuplicateRegistration):
        declare(next(iter(COMMANDS)))
    some_section = next(iter(REPORT_CONTRIBUTORS.values()))
    with pytest.raises(DuplicateRegistration):
        contributor(some_section.area, order=1)(some_section.fn)
    with pytest.raises(DuplicateRegistration):
        contribute(next(iter(SUMMARY_CONTRIBUTORS.values())))
