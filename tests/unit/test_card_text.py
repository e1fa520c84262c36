"""The card reading rules: fields from recognised lines, Chinese and English, full-width folded."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.card_text import CardLine, extract, landlines_in, mobiles_in, normalise, respace


def lines(*texts: str, tall: int = 1) -> list[CardLine]:
    return [CardLine(text, 60.0 if index == tall else 24.0) for index, text in enumerate(texts)]


def test_a_chinese_card() -> None:
    found = extract(lines(
        "杭州华丰建材有限公司", "徐亮", "销售经理", "手机：+86 137-0404-9619",
        "电话：0571-8765 4321", "传真：0571-8765 4322", "邮箱：Xu.Liang@HuaFeng.cn",
        "地址：杭州市西湖区文三路138号", "网址：www.huafeng.cn",
    ))  # fmt: skip
    assert found.company == "杭州华丰建材有限公司"
    assert found.person == "徐亮" and found.title == "销售经理"
    assert found.mobiles == ["13704049619"]
    assert found.landlines == ["0571-87654321"]  # the fax is not a phone to call
    assert found.email == "xu.liang@huafeng.cn"
    assert found.address == "杭州市西湖区文三路138号"
    assert found.is_card and found.phone == "13704049619"


def test_an_english_card_with_the_spaces_ocr_dropped() -> None:
    found = extract(lines(
        "Brightway Trading Co., Ltd.", "AliceChen", "SalesDirector", "M:+86 139 1234 5678",
        "T:(021)62881234", "E:alice@brightway.com", "Add:88CenturyAve,Pudong,Shanghai",
    ))  # fmt: skip
    assert found.company == "Brightway Trading Co., Ltd."
    assert found.person == "Alice Chen" and found.title == "Sales Director"
    assert found.mobiles == ["13912345678"] and found.landlines == ["021-62881234"]
    assert found.address == "88 Century Ave, Pudong, Shanghai"


def test_name_and_title_on_one_line_and_the_chinese_company_preferred() -> None:
    found = extract(lines(
        "Kangle Retail Co., Ltd.", "杨 磊  采购总监", "成都康乐零售有限公司", "133 2971 1691",
    ))  # fmt: skip
    assert found.company == "成都康乐零售有限公司"
    assert found.person == "杨磊" and found.title == "采购总监"
    assert found.mobiles == ["13329711691"]


def test_full_width_characters_are_folded() -> None:
    assert normalise("手机：１３７　０４０４　９６１９") == "手机:137 0404 9619"
    found = extract(lines("ＡＢＣ贸易公司", "王芳", "手机：１３７０４０４９６１９"))
    assert found.company == "ABC贸易公司" and found.mobiles == ["13704049619"]


def test_landlines_with_area_codes() -> None:
    assert landlines_in("Tel: 021 6288 1234") == ["021-62881234"]
    assert landlines_in("+86 10 6523 8899") == ["010-65238899"]
    assert landlines_in("(0755) 2345-6789 转 801") == ["0755-23456789-801"]
    assert landlines_in("0571-8765432") == ["0571-8765432"]
    assert landlines_in("邮编 310012") == []
    assert landlines_in("+86 139 1234 5678") == []  # a mobile


def test_not_a_card() -> None:
    assert not extract(lines("特价促销", "买一送一", "全场五折")).is_card
    assert not extract([]).is_card
    assert not extract(lines("徐亮")).is_card  # a name alone is not a card


def test_respace_leaves_chinese_alone() -> None:
    assert respace("杭州市 西湖区") == "杭州市 西湖区"
    assert respace("Room1203,66JianguoRoad") == "Room 1203, 66 Jianguo Road"


SEPARATORS = st.sampled_from(["", " ", "-", "."])
PREFIXES = st.sampled_from(["", "+86", "+86 ", "86-", "0086 ", "+86-"])
FULL_WIDTH = str.maketrans("0123456789+-", "０１２３４５６７８９＋－")


@given(
    second=st.sampled_from("3456789"),
    rest=st.text("0123456789", min_size=9, max_size=9),
    prefix=PREFIXES,
    sep=SEPARATORS,
    label=st.sampled_from(["", "手机：", "Mobile: ", "M: ", "Cell "]),
    wide=st.booleans(),
)
def test_every_way_of_writing_a_mobile_is_read(
    second: str, rest: str, prefix: str, sep: str, label: str, wide: bool
) -> None:
    digits = f"1{second}{rest}"
    printed = f"{label}{prefix}{digits[:3]}{sep}{digits[3:7]}{sep}{digits[7:]}"
    if wide:
        printed = printed.translate(FULL_WIDTH)
    assert mobiles_in(printed) == [digits]
    found = extract(lines("华丰建材有限公司", "徐亮", printed))
    assert found.mobiles == [digits] and found.landlines == [] and found.is_card


@given(
    area=st.sampled_from(["10", "21", "571", "755", "28", "512"]),
    head=st.sampled_from("2345678"),
    rest=st.text("0123456789", min_size=7, max_size=7),
    style=st.sampled_from(["0{a}-{n}", "(0{a}) {n}", "+86 {a} {n}", "0{a} {h} {t}"]),
)
def test_every_way_of_writing_a_landline_is_read(
    area: str, head: str, rest: str, style: str
) -> None:
    number = head + rest
    printed = style.format(a=area, n=number, h=number[:4], t=number[4:])
    assert landlines_in(printed) == [f"0{area}-{number}"]


@given(st.lists(st.text(max_size=60), max_size=12))
def test_any_text_gives_fields_never_an_error(texts: list[str]) -> None:
    found = extract([CardLine(text, float(index)) for index, text in enumerate(texts)])
    for mobile in found.mobiles:
        assert len(mobile) == 11 and mobile[0] == "1"
    assert found.is_card == (
        (found.company is not None or found.person is not None)
        and bool(found.mobiles or found.landlines or found.email)
    )
