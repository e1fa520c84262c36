"""User-facing texts: gettext catalogs (locales/<lang>/*.po) in English and Simplified Chinese.

Message ids are stable keys such as ``start.welcome``; texts use ``{name}`` placeholders and
Telegram's HTML subset. Each area keeps its own .po file so areas can be edited independently.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from string import Formatter
from typing import Any

from babel.messages.pofile import read_po

import locales

log = logging.getLogger(__name__)

LANGUAGES = ("en", "zh")
# The catalogue every key must exist in: a text missing in the reader's language is taken from
# here. It is NOT the language people are answered in by default: that is the configured
# ``[defaults] language`` (``Settings.language_default``), the one source of truth.
FALLBACK_LANGUAGE = "en"
BABEL_LOCALES = {"en": "en", "zh": "zh_Hans_CN"}
LANGUAGE_NAMES = {"en": "English", "zh": "简体中文"}


def language_from_telegram(code: str | None, fallback: str) -> str:
    """Map a Telegram client's language_code ("zh-hans", "en-US") onto a supported language;
    ``fallback`` (the configured default) when the bot does not speak it."""
    if not code:
        return fallback
    primary = code.lower().replace("_", "-").split("-")[0]
    return primary if primary in LANGUAGES else fallback


def person_language(*, chosen: str | None, client_code: str | None, default: str) -> str:
    """The one rule for the language a person is answered in: their own choice (stored), else
    their Telegram client's language when the bot speaks it, else the configured default (their
    team's language, or ``[defaults] language``; see ``Settings.language_default``)."""
    if chosen in LANGUAGES:
        return chosen
    return language_from_telegram(client_code, default)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


@dataclass(frozen=True)
class Catalogs:
    """All texts of all languages, looked up by key."""

    texts: Mapping[str, Mapping[str, str]]

    def t(self, lang: str, key: str, /, **params: Any) -> str:
        table = self.texts.get(lang) or self.texts[FALLBACK_LANGUAGE]
        template = table.get(key)
        if template is None:
            template = self.texts[FALLBACK_LANGUAGE].get(key)
            if template is None:
                log.error("missing text %s", key)
                return key
            log.warning("text %s missing in %s", key, lang)
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            log.exception("text %s in %s does not fit its parameters", key, lang)
            return template

    def tn(self, lang: str, key: str, count: float | None, /, **params: Any) -> str:
        """``key`` for ``count`` things: its ``<key>_one`` variant when ``count`` is 1 and the
        catalogs have one ("1 document" beside "6 documents"); Chinese texts repeat the same
        wording in both, English needs the singular. A float count is for configured hours and
        minutes, which may be fractional ("0.5 working hours" stays plural); None counts
        nothing (the plain ``key``)."""
        singular = f"{key}_one"
        return self.t(lang, singular if count == 1 and self.has(singular) else key, **params)

    def has(self, key: str) -> bool:
        return key in self.texts[FALLBACK_LANGUAGE]

    def keys(self, lang: str) -> set[str]:
        return set(self.texts.get(lang, {}))


def load_catalogs(directory: Path | None = None) -> Catalogs:
    root = directory or Path(locales.__file__).parent
    texts: dict[str, dict[str, str]] = {}
    for lang in LANGUAGES:
        table: dict[str, str] = {}
        for po_file in sorted((root / lang).glob("*.po")):
            with po_file.open("rb") as handle:
                catalog = read_po(handle, locale=BABEL_LOCALES[lang])
            for message in catalog:
                if not message.id or not isinstance(message.id, str):
                    continue
                if message.id in table:
                    raise ValueError(f"text {message.id} defined twice in {lang}")
                table[message.id] = str(message.string)
        texts[lang] = table
    return Catalogs(texts)


# Lists, labels and asides built by code follow the reader's punctuation: 、：（） in Chinese.
def join_list(lang: str, items: Iterable[str]) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def labelled(lang: str, label: str, value: str) -> str:
    return f"{label}：{value}" if lang == "zh" else f"{label}: {value}"


def bracketed(lang: str, text: str) -> str:
    """An aside after a word: "Wang (09:00)" / "小王（09:00）"."""
    return f"（{text}）" if lang == "zh" else f" ({text})"


def format_percent(value: Decimal | float) -> str:
    """10, 9.5, 12.25: no trailing zeros, at most two decimals."""
    text = f"{Decimal(str(value)):.2f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def period_label(label: str, lang: str) -> str:
    """An ISO week or month label as its reader writes it: 2026-W48 -> 2026 年第 48 周."""
    if lang != "zh":
        return label
    week = re.fullmatch(r"(\d{4})-W(\d{2})", label)
    if week:
        return f"{week[1]} 年第 {int(week[2])} 周"
    month = re.fullmatch(r"(\d{4})-(\d{2})", label)
    return f"{month[1]}年{int(month[2])}月" if month else label


def currency_unit(currency: str, lang: str) -> str:
    """The currency as a prompt names its unit: 金额（元） to a Chinese reader, not （CNY）."""
    if lang != "zh":
        return currency
    if currency == "CNY":
        return "元"
    from babel.numbers import get_currency_name

    return get_currency_name(currency, locale=BABEL_LOCALES["zh"])


def format_money(amount: Decimal, currency: str, lang: str) -> str:
    from babel.numbers import format_currency

    return format_currency(amount, currency, locale=BABEL_LOCALES.get(lang, "en"))
