"""Callback codecs: pack and unpack, at most 64 bytes, one prefix per codec, stale otherwise."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.registry import DuplicateRegistration
from views.callbacks import Callback, StaleButton


@dataclass(frozen=True)
class Pick:
    item_id: int
    action: str
    page: int | None = None


PICK = Callback("tpick", Pick)


def test_pack_and_unpack_round_trip_and_route_by_prefix() -> None:
    data = PICK.pack(Pick(12, "ok", None))
    assert data == "tpick|12|ok|"
    assert PICK.unpack(data) == Pick(12, "ok", None)
    assert PICK.unpack(PICK.pack(Pick(-3, "", 7))) == Pick(-3, "", 7)
    assert re.match(PICK.pattern, data) and not re.match(PICK.pattern, "tpickx|1|a|")


@pytest.mark.parametrize(
    "forged",
    [
        None,
        "",
        "tpick",
        "tpick|12|ok",
        "tpick|x|ok|",
        "tpick|12|ok||",
        "ap|1|ok|",
        "tpick|1.5|ok|",
        "tpick|" + "9" * 30 + "|ok|",
    ],
)
def test_anything_it_did_not_pack_is_a_stale_button(forged: str | None) -> None:
    with pytest.raises(StaleButton):
        PICK.unpack(forged)


def test_limits_and_one_codec_per_prefix() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        PICK.pack(Pick(1, "x" * 60))
    with pytest.raises(ValueError, match="may not contain"):
        PICK.pack(Pick(1, "a|b"))
    with pytest.raises(DuplicateRegistration):
        Callback("tpick", Pick)
    with pytest.raises(ValueError, match="lowercase"):
        Callback("Bad!", Pick)


@given(
    st.integers(min_value=-(10**17), max_value=10**17),
    st.text(max_size=20).filter(lambda s: "|" not in s and len(s.encode()) <= 20),
)
def test_every_packable_value_unpacks_to_itself(item_id: int, action: str) -> None:
    assert PICK.unpack(PICK.pack(Pick(item_id, action))) == Pick(item_id, action)
