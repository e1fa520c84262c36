"""Every Chinese text uses the terms of locales/GLOSSARY.md, Chinese typography, and the same
placeholders and markup as its English text.

The terms to avoid are read from the glossary's Avoid column, so a row added there is checked at
once. Where an avoided string is part of a right term (销售 in 销售代表, 收账 in 应收账款) the
test narrows it with a pattern; where a term to avoid is right in one text, ALLOWED names the text
and says why. Everything else fails with the key, the term and the glossary's English.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path
from string import Formatter

import pytest

import locales
from core.i18n import load_catalogs

GLOSSARY = Path(locales.__file__).parent / "GLOSSARY.md"

CJK = r"[\u3400-\u9fff]"

# An avoided string that is also part of a right term: check only where it stands alone.
NARROWED: dict[str, str] = {
    "销售": r"销售(?!代表|经理|总监|团队|公司)",
    "代表": r"(?<!销售)代表",
    "收账": r"(?<!应)收账",  # 应收账款 is the right term
    "招待": r"(?<!业务)招待",  # 业务招待 is the expense category
    "办公": r"办公(?!用品)",  # 办公用品 is the expense category
    "访问": r"访问(?!权限)",  # 访问权限 is "access", not a visit
    "用户": r"(?<!系统)(?<!@)用户(?!名)",  # 系统用户 in import errors, @用户名 = Telegram username
    "催收": r"催收",
}

# (key, term): texts where a term the glossary avoids is the right word in context.
ALLOWED: dict[tuple[str, str], str] = {
    # Telegram refusing an API call in the demo, not an approver rejecting a request.
    ("demo.refused", "拒绝"): "Telegram refuses",
    # A delegation's end date has passed: 已到期 is right; 超期未拜访 is only for visits.
    ("delegation.notice_expired_delegate", "已到期"): "delegation ended",
    ("delegation.notice_expired_manager", "已到期"): "delegation ended",
    # A visit record or empty sheet rows really are deleted; 删除 is avoided for deactivation.
    ("commands.visits", "删除"): "a visit is deleted",
    ("visits.ask_delete", "删除"): "a visit is deleted",
    ("visits.confirm_delete", "删除"): "a visit is deleted",
    ("visits.deleted", "删除"): "a visit is deleted",
    ("collections.import_sheet_too_large", "删除"): "delete empty rows of a sheet",
    ("team.deleted", "删除"): "a visit is deleted",
    ("team.deleted_by", "删除"): "a visit is deleted",
    ("visits.flagged_not_deletable", "删除"): "a visit is deleted",
    # 文件 here is a file sent to the bot (photo as a file, CSV, XLSX), not a receivable's 单据.
    ("approvals.ask_receipts", "文件"): "a file upload",
    ("approvals.receipt_required", "文件"): "a file upload",
    ("approvals.send_file_or_done", "文件"): "a file upload",
    ("collections.import_too_big", "文件"): "a file upload",
    ("collections.import_too_slow", "文件"): "a file upload",
    ("collections.import_unreadable", "文件"): "a file upload",
    ("collections.import_wrong_type", "文件"): "a file upload",
    ("demo.intro", "文件"): "files saved by the demo",
    ("demo.help", "文件"): "a file the demo sends",
    ("demo.no_file", "文件"): "a path on disk",
    # The people one can play in the demo; not members of a team.
    ("demo.help", "人员"): "demo people",
    ("demo.no_such_user", "人员"): "demo people",
    # A question about what the customer owes, not a label for the receivable.
    ("collections.recon_ask_amount", "欠款"): "what the customer says it owes",
    # A tender closes on its 投标截止日期; 截止日 is avoided for a due date.
    ("approvals.ask_deadline", "截止日"): "a tender's closing date",
    ("approvals.field_deadline", "截止日"): "a tender's closing date",
    # An invite link expires (过期); 逾期 is for unpaid receivables.
    ("invite.expired", "过期"): "an invite link",
    # A form answer is missing; 缺失 is avoided for missing reports (未交).
    ("approvals.field_missing", "缺失"): "a form field",
}

# Where the English names a concept, the Chinese uses the glossary's word for it.
REQUIRED: list[tuple[str, str]] = [
    (r"\bapprov(e|ed|er|ers|al|als)\b", "批准|审批"),
    (r"\breject(ed|s)?\b", "驳回"),
    (r"\bwithdr[ae]wn?\b", "撤回"),
    (r"\bdelegat", "委托|代审批|代其审批|代您审批"),
    (r"\breceivables?\b", "应收"),
    (r"\bcheck(ed)?[- ]in\b", "签到"),
    (r"\bdaily reports?\b", "日报"),
    (r"\bweekly reports?\b", "周报"),
    (r"\bdirectors?\b", "总监"),
    (r"\bdeactivat", "停用"),
    (r"\bdisputes?\b", "异议"),
    (r"\breconcil", "对账"),
    (r"\bfollow-up\b", "跟进"),
    (r"\bdunning\b", "催款"),
]

# (key, English pattern): the English word does not name the concept here.
NOT_REQUIRED: dict[tuple[str, str], str] = {
    # "what do you need approved" is the choice of a request type: 哪类申请
    ("approvals.ask_type", r"\bapprov(e|ed|er|ers|al|als)\b"): "asks for a request type",
    # "ask for approvals" is what a requester does: 提交申请
    ("approvals.cannot_request", r"\bapprov(e|ed|er|ers|al|als)\b"): "提交申请",
    # "take your approvals" is to be the delegate: 接受委托
    ("delegation.bad_delegate", r"\bapprov(e|ed|er|ers|al|als)\b"): "接受委托",
    # "approve or reject" together is 审批
    ("approvals.reps_cannot_decide", r"\breject(ed|s)?\b"): "审批 covers both",
    # 对过账 is 对账 with the aspect particle
    ("collections.recon_answered", r"\breconcil"): "对过账",
}

# Latin words that may stand in Chinese text: names, codes, formats and units.
LATIN_OK = {
    "salesbot", "Telegram", "CSV", "XLSX", "xlsx", "csv", "Excel", "WPS", "GBK", "UTF", "BOM",
    "English", "ID", "CNY", "USD", "MB", "KB", "PDF", "GPS", "Mini", "App", "KPI", "HT", "INV",
}  # fmt: skip


@cache
def texts() -> tuple[dict[str, str], dict[str, str]]:
    catalogs = load_catalogs()
    return catalogs.texts["zh"], catalogs.texts["en"]


def glossary_avoided() -> dict[str, str]:
    """Term to avoid -> the English of its glossary row."""
    avoided: dict[str, str] = {}
    avoid_column: int | None = None
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            avoid_column = None
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if "Avoid" in cells:
            avoid_column = cells.index("Avoid")
            continue
        if avoid_column is None or set(cells[0]) <= {"-", " "}:
            continue
        for entry in cells[avoid_column].split(","):
            term = re.sub(r"\(.*?\)", "", entry).strip()
            if term:
                avoided[term] = cells[0]
    return avoided


def masked(text: str) -> str:
    """The Chinese text as a reader sees its own words: placeholders become a neutral mark,
    markup, commands, @names, URLs and <code> spans are removed."""
    text = re.sub(r"<code>.*?</code>", "§", text, flags=re.S)
    text = re.sub(r"</?\w+(\s[^>]*)?>", "", text)
    text = re.sub(r"\{[^{}]*\}", "§", text)
    text = re.sub(r"https?://\S+|(?<![\w/])/[a-z_]+|@\w+", "§", text)
    # commands of the demo terminal (:who) and of the command line (salesbot user code)
    text = re.sub(r"(?<![\w:]):[a-z]+|\bsalesbot(?: [a-z]+)+", "§", text)
    return text


def test_glossary_is_read() -> None:
    avoided = glossary_avoided()
    for term in ("公司领导", "催收", "升级", "未收", "今日总结", "面访", "收款"):
        assert term in avoided, term
    # every pattern and allowance refers to a term the glossary still avoids
    assert set(NARROWED) <= set(avoided), set(NARROWED) - set(avoided)
    assert {term for _, term in ALLOWED} <= set(avoided)


def test_chinese_uses_no_term_the_glossary_avoids() -> None:
    zh, _ = texts()
    found = []
    for term, english in glossary_avoided().items():
        pattern = re.compile(NARROWED.get(term, re.escape(term)), re.IGNORECASE)
        for key, text in zh.items():
            if (key, term) not in ALLOWED and pattern.search(text):
                found.append(f"{key}: {term} (glossary: {english}) in {text!r}")
    assert not found, "\n".join(found)


def test_allowances_are_still_needed() -> None:
    zh, _ = texts()
    stale = [f"{key}: {term}" for key, term in ALLOWED if term not in zh.get(key, "")]
    assert not stale, stale


def test_chinese_names_each_concept_with_the_glossary_word() -> None:
    zh, en = texts()
    found = []
    for english, chinese in REQUIRED:
        for key, text in en.items():
            if (key, english) in NOT_REQUIRED or not re.search(english, text, re.IGNORECASE):
                continue
            if not re.search(chinese, zh[key]):
                found.append(f"{key}: English {english!r} but no {chinese} in {zh[key]!r}")
    assert not found, "\n".join(found)


TYPOGRAPHY: list[tuple[str, str]] = [
    (rf"{CJK}[,;!?]|[,;!?]\s*{CJK}", "half-width ,;!? next to Chinese: use ，；！？"),
    (rf"{CJK}:|:\s+{CJK}", "half-width colon next to Chinese: use ："),
    (rf"{CJK}\.(?!\d)", "half-width full stop after Chinese: use 。"),
    (
        rf"{CJK}\s*\(|\(\s*{CJK}|{CJK}\s*\)|\)\s*{CJK}",
        "half-width brackets around Chinese: use （）",
    ),
    (rf"{CJK} +{CJK}", "space between Chinese characters"),
    (r" [—–] | - ", "spaced dash: use —— in a sentence, · or ： as a separator, 至 in a range"),
    (r"(?<!…)…(?!…)|\.\.\.", "ellipsis is ……"),
    (r"[\d§]\s+%", "no space before %"),
    (r"折扣[：:\s]*§?\d*%", "折扣 with a percentage reads as X折: say 优惠"),
    (r"§\s*元", "元 after a money placeholder: amounts already carry ¥"),
    (
        rf"\d(天|个|张|次|条|位|名|小时|分钟|秒|米|公里|周|级|步|页|字|行|列){CJK}?",
        "digits and unit: put a space",
    ),
]


# Texts where a typography rule does not apply.
TYPOGRAPHY_EXEMPT: dict[str, str] = {
    # the demo terminal's help is a table aligned with spaces in a monospace terminal, and
    # shows argument syntax (":loc 纬度 经度") where spaces separate the arguments
    "demo.help": "terminal table",
    "demo.loc_usage": "argument syntax",
    "demo.contact_usage": "argument syntax",
}


@pytest.mark.parametrize(("pattern", "rule"), TYPOGRAPHY, ids=[r for _, r in TYPOGRAPHY])
def test_chinese_typography(pattern: str, rule: str) -> None:
    zh, _ = texts()
    found = []
    for key, text in zh.items():
        if key in TYPOGRAPHY_EXEMPT:
            continue
        # input examples in quotes (“3天后”, “12月5日”) show what a person may type
        shown = re.sub(r"“[^”]*”", "“”", masked(text))
        if (hit := re.search(pattern, shown)) is not None:
            found.append(f"{key}: {hit.group()!r} in {text!r}")
    assert not found, rule + "\n" + "\n".join(found)


# Placeholders that render a date ending in Chinese (11月30日 周一): a space before them
# separates digits, but a space after them falls between two Chinese characters.
DATE_PLACEHOLDERS = r"\{(?:day|due|until|last)\}"


def test_no_space_after_a_date_before_chinese() -> None:
    zh, _ = texts()
    found = [
        f"{key}: {text!r}"
        for key, text in zh.items()
        if re.search(DATE_PLACEHOLDERS + rf" +{CJK}", text) or re.search(r"\{first\} +起", text)
    ]
    assert not found, "write {day}的, not {day} 的 (it renders 周一 的)\n" + "\n".join(found)


def test_no_english_words_in_chinese() -> None:
    zh, _ = texts()
    found = []
    for key, text in zh.items():
        if not re.search(CJK, text):
            continue
        shown = masked(text)  # quoted input examples included: "next Fri" is not Chinese
        words = set(re.findall(r"[A-Za-z]{2,}", shown)) - LATIN_OK
        if words:
            found.append(f"{key}: {sorted(words)} in {text!r}")
    assert not found, "\n".join(found)


def _fields(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in Formatter().parse(text) if name is not None)


def test_placeholders_and_markup_identical_to_english() -> None:
    zh, en = texts()
    found = []
    for key, english in en.items():
        if _fields(english) != _fields(zh[key]):
            found.append(f"{key}: placeholders {_fields(english)} vs {_fields(zh[key])}")
        tags = Counter(re.findall(r"</?\w+>", english))
        if tags != Counter(re.findall(r"</?\w+>", zh[key])):
            found.append(f"{key}: markup {english!r} vs {zh[key]!r}")
    assert not found, "\n".join(found)
