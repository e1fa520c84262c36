"""What a business card says: the fields of a customer read from the lines OCR recognised.

Pure rules, no OCR and no database: Chinese and English cards, full-width characters folded
(NFKC), mobiles (1[3-9] and 11 digits, with or without +86 and separators), landlines with
their area code, e-mail, the address line, the company by its suffix, the title by its words
and the person by what is left (the tallest short line wins, as names are printed largest).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

# A line as OCR gave it; ``height`` (pixels of its box) tells the name, printed largest.
Height = float


@dataclass(frozen=True)
class CardLine:
    text: str
    height: Height = 0.0


@dataclass
class CardFields:
    company: str | None = None
    person: str | None = None
    title: str | None = None
    mobiles: list[str] = field(default_factory=list)
    landlines: list[str] = field(default_factory=list)
    email: str | None = None
    address: str | None = None

    @property
    def is_card(self) -> bool:
        """A business card names someone (a company or a person) and a way to reach them."""
        named = self.company is not None or self.person is not None
        return named and bool(self.mobiles or self.landlines or self.email)

    @property
    def phone(self) -> str | None:
        """The number to call first: the mobile, else the landline."""
        numbers = self.mobiles or self.landlines
        return numbers[0] if numbers else None


_SEP = r"[\s\-.·]?"
_MOBILE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86" + _SEP + r")?(1[3-9]\d(?:" + _SEP + r"\d){8})(?!\d)"
)
# 0 + a two- or three-digit area code (or +86 and the code without its 0), then 7-8 digits.
_LANDLINE = re.compile(
    r"(?<![\d+])(?:(?:\+|00)?86" + _SEP + r"\(?0?|\(?0)([1-9]\d{1,2})\)?[\s\-.·]*"
    r"([2-9]\d{2,3})[\s\-.·]?(\d{4})(?:\s*(?:-|转|ext\.?|x)\s*(\d{1,5}))?(?!\d)",
    re.IGNORECASE,
)
# Two-digit area codes: Beijing (010) and 020-029 (Guangzhou, Shanghai, Tianjin, Chongqing...).
_TWO_DIGIT_AREAS = frozenset({"10", "20", "21", "22", "23", "24", "25", "26", "27", "28", "29"})
_EMAIL = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)

_LABEL = r"\s*[:：]?\s*"
_ADDRESS_LABEL = re.compile(r"^(?:地址|公司地址|通讯地址|address|addr|add)\b" + _LABEL, re.I)
_ADDRESS_LABEL_ZH = re.compile(r"^(?:地址|公司地址|通讯地址)" + _LABEL)
_FAX = re.compile(r"(?:传真|fax|(?<![a-z])f(?=\s*[:：]))", re.I)
_WEB = re.compile(r"(?:网址|网站|web|www\.|https?://)", re.I)
_CONTACT_LABELS = re.compile(
    r"^(?:手机|移动电话|电话|座机|固话|办公电话|电子邮箱|邮箱|电邮|e-?mail|mobile|mob|cell|"
    r"tel|phone|m|t|e)" + r"\s*[:：.]\s*",
    re.I,
)

_COMPANY_ZH = re.compile(
    r"(?:有限责任公司|股份有限公司|有限公司|公司|集团|厂|事务所|研究院|研究所|商行|工作室)$"
)
_COMPANY_EN = re.compile(
    r"\b(?:co\.?,?\s*ltd\.?|company|corp\.?|corporation|inc\.?|limited|llc|group|gmbh|"
    r"ltd\.?)\s*$",
    re.I,
)
_TITLE_WORDS = re.compile(
    r"(?:总经理|副总|经理|总监|董事长|董事|主管|主任|工程师|总裁|代表|助理|顾问|专员|会计|"
    r"厂长|店长|局长|处长|科长|部长|合伙人|创始人|负责人|"
    # OCR often drops the space between words ("SalesDirector"): no word boundary here.
    r"manager|director|engineer|president|representative|consultant|officer|chairman|"
    r"founder|partner|assistant|specialist|executive|supervisor|accountant|"
    r"\b(?:head|vp|ceo|cfo|cto|coo|gm|sales)\b)",
    re.I,
)
_ADDRESS_ZH = re.compile(r"(?:省|市|区|县|镇|路|街|道|号|大厦|大楼|栋|层|室|园区|广场)")
_ADDRESS_EN = re.compile(
    r"\b(?:road|rd|street|st|avenue|ave|district|building|bldg|floor|room|park|plaza|"
    r"tower|lane|highway)\b\.?",
    re.I,
)
_CJK = r"\u3400-\u9fff"
_CHINESE_NAME = re.compile(rf"^[{_CJK}](?:\s?[{_CJK}]){{1,3}}$")
_ENGLISH_NAME = re.compile(r"^[A-Z][a-zA-Z'\-]+(?:\s+[A-Z][a-zA-Z'\-.]*){1,2}$")
_NAME_AND_TITLE = re.compile(rf"^([{_CJK}](?: ?[{_CJK}]){{1,3}}?)\s*[|/·,，]?\s+(.+)$")
_SPLIT_TITLE = re.compile(r"^(.+?)\s*[|/,，·]\s*(.+)$")
# The hundred commonest surnames: a short Chinese line starting with one is likely the name.
_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏"
    "吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万"
    "钱严覃武戴莫孔向汤"
)


def normalise(text: str) -> str:
    """Full-width letters, digits and punctuation folded to half-width; spaces collapsed."""
    folded = unicodedata.normalize("NFKC", text).replace("\u3000", " ")
    return re.sub(r"\s+", " ", folded).strip()


def respace(text: str) -> str:
    """Put back the spaces OCR drops between Latin words ("SalesDirector", "Room1203,66Jianguo
    Road"); text with Chinese characters is left as it is."""
    if re.search(rf"[{_CJK}]", text):
        return text
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = re.sub(r"(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z])", " ", text)
    text = re.sub(r"(?<=\d) (?=(?:st|nd|rd|th|F)\b)", "", text)
    return re.sub(r"\s*,\s*(?=\S)", ", ", text)


def mobiles_in(text: str) -> list[str]:
    """Chinese mobile numbers in a text, as 11 digits."""
    return [re.sub(r"\D", "", m.group(1)) for m in _MOBILE.finditer(normalise(text))]


def landlines_in(text: str) -> list[str]:
    """Landlines with their area code, as ``0571-87654321`` (``-123`` for an extension)."""
    found = []
    for match in _LANDLINE.finditer(_MOBILE.sub(" ", normalise(text))):
        area, head, tail, extension = match.groups()
        number = head + tail
        if area[0] in "12":
            # 010 and 020-029 are the two-digit codes: "021 6288 1234" reads 0216-2881234
            # to the pattern, and the third digit belongs to the number.
            area, number = area[:2], area[2:] + number
            if area not in _TWO_DIGIT_AREAS or len(number) != 8:
                continue
        elif len(area) != 3:
            continue
        found.append(f"0{area}-{number}" + (f"-{extension}" if extension else ""))
    return found


def email_in(text: str) -> str | None:
    match = _EMAIL.search(normalise(text).replace(" ", ""))
    return match.group(0).lower() if match else None


def _strip_label(text: str) -> str:
    return _CONTACT_LABELS.sub("", text).strip()


def _is_company(text: str) -> bool:
    return bool(_COMPANY_ZH.search(text) or _COMPANY_EN.search(text))


def _is_address(text: str) -> bool:
    if _ADDRESS_LABEL.match(text):
        return True
    if re.search(rf"[{_CJK}]", text):
        return len(_ADDRESS_ZH.findall(text)) >= 2 and len(text) >= 6
    return bool(re.search(r"\d", text) and _ADDRESS_EN.search(text))


def _is_title(text: str) -> bool:
    return bool(_TITLE_WORDS.search(text)) and len(text) <= 40 and not re.search(r"\d", text)


def _name_score(text: str, height: Height) -> float | None:
    """How much a line looks like a person's name; None when it cannot be one."""
    if _CHINESE_NAME.match(text):
        compact = text.replace(" ", "")
        if _TITLE_WORDS.search(compact) or _ADDRESS_ZH.search(compact[1:]):
            return None
        return height + (50 if compact[0] in _SURNAMES else 0) + (10 if len(compact) <= 3 else 0)
    if _ENGLISH_NAME.match(text) and not _TITLE_WORDS.search(text):
        if _COMPANY_EN.search(text) or _ADDRESS_EN.search(text):
            return None
        return height + 20
    return None


def _company_score(text: str) -> int:
    """A Chinese registered name outranks an English one; a longer suffix is surer."""
    if _COMPANY_ZH.search(text):
        return 3 if "有限" in text else 2
    return 1


def extract(lines: Sequence[CardLine]) -> CardFields:
    """The customer fields on a card, from its recognised lines (in reading order)."""
    result = CardFields()
    companies: list[tuple[int, int, str]] = []
    names: list[tuple[float, int, str]] = []
    for index, line in enumerate(lines):
        text = normalise(line.text)
        if not text:
            continue
        if _WEB.search(text) and not _EMAIL.search(text):
            continue
        email = email_in(text)
        if email and result.email is None:
            result.email = email
        if not _FAX.search(text) or _MOBILE.search(text):
            mobiles = [m for m in mobiles_in(text) if m not in result.mobiles]
            result.mobiles += mobiles
            if not _FAX.search(text):
                result.landlines += [n for n in landlines_in(text) if n not in result.landlines]
        has_number = re.search(r"\d{5}", re.sub(r"[\s\-.()+]", "", text)) is not None
        if email or (has_number and not _is_address(text)):
            continue
        if _is_address(text):
            if result.address is None:
                result.address = respace(_ADDRESS_LABEL.sub("", text).strip()) or None
            continue
        bare = respace(_strip_label(text))
        if _is_company(bare):
            companies.append((_company_score(bare), -index, bare))
            continue
        both = _NAME_AND_TITLE.match(bare) or _SPLIT_TITLE.match(bare)
        if both and _is_title(both.group(2)):
            score = _name_score(both.group(1), line.height)
            if score is not None:
                names.append((score, -index, both.group(1).replace(" ", "")))
                result.title = result.title or both.group(2)
                continue
        if _is_title(bare):
            result.title = result.title or bare
            continue
        score = _name_score(bare, line.height)
        if score is not None:
            compact = bare if not re.search(rf"[{_CJK}]", bare) else bare.replace(" ", "")
            names.append((score, -index, compact))
    if companies:
        result.company = max(companies)[2]
    if names:
        result.person = max(names)[2]
    return result
