"""Telegram's HTML subset: source text to plain text plus message entities.

Modelled on TDLib's ``parse_html`` so that the error messages match what the real
Bot API answers (``can't parse entities: ...``). Offsets and lengths are in UTF-16
code units, as in the Bot API.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

TAG_TYPES: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\f\v"


class HtmlParseError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's wording."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str] = field(default_factory=dict)
    language: str | None = None


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.out_len = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, pos: int) -> int:
        return len(self.src[:pos].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.out_len += utf16_len(text)

    def peek(self) -> str:
        return self.src[self.pos] if self.pos < len(self.src) else ""

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "&":
                decoded, end = decode_entity(self.src, self.pos)
                self.emit(decoded)
                self.pos = end
            elif char == "<":
                if self.src.startswith("</", self.pos):
                    self.end_tag()
                else:
                    self.start_tag()
            else:
                self.emit(char)
                self.pos += 1
        if self.stack:
            name = self.stack[-1].name
            raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{name}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities

    def read_name(self) -> str:
        start = self.pos
        while self.peek() and self.peek() not in _SPACES and self.peek() not in ">=":
            self.pos += 1
        return self.src[start : self.pos].lower()

    def skip_spaces(self) -> None:
        while self.peek() and self.peek() in _SPACES:
            self.pos += 1

    def start_tag(self) -> None:
        begin = self.pos
        self.pos += 1
        name = self.read_name()
        if name not in TAG_TYPES:
            raise HtmlParseError(
                f'Unsupported start tag "{name}" at byte offset {self.byte_offset(begin)}'
            )
        tag = _OpenTag(name, self.out_len)
        while True:
            self.skip_spaces()
            if not self.peek():
                raise HtmlParseError(
                    f"Unclosed start tag at byte offset {self.byte_offset(begin)}"
                )
            if self.peek() == ">":
                self.pos += 1
                break
            attr, value = self.attribute(name, begin)
            tag.attrs[attr] = value
        if name == "span" and tag.attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {self.byte_offset(begin)}'
            )
        self.stack.append(tag)

    def attribute(self, tag: str, begin: int) -> tuple[str, str]:
        name = self.read_name()
        if not name:
            raise HtmlParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {self.byte_offset(begin)}'
            )
        self.skip_spaces()
        if self.peek() != "=":
            raise HtmlParseError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {self.byte_offset(begin)}"
            )
        self.pos += 1
        self.skip_spaces()
        quote = self.peek()
        if not quote:
            raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        if quote not in "\"'":
            start = self.pos
            while self.peek() and self.peek() not in _SPACES and self.peek() != ">":
                self.pos += 1
            return name, self.src[start : self.pos]
        end = self.src.find(quote, self.pos + 1)
        if end < 0:
            raise HtmlParseError(f"Unclosed start tag at byte offset {self.byte_offset(begin)}")
        value = decode_entities(self.src[self.pos + 1 : end])
        self.pos = end + 1
        return name, value

    def end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 2
        name = self.read_name()
        self.skip_spaces()
        if self.peek() != ">":
            raise HtmlParseError(f"Unclosed end tag at byte offset {self.byte_offset(begin)}")
        self.pos += 1
        tag = self.stack[-1]
        if name and name != tag.name:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self.byte_offset(begin)}, "
                f'expected "</{tag.name}>", found "</{name}>"'
            )
        self.stack.pop()
        self.close(tag)

    def close(self, tag: _OpenTag) -> None:
        length = self.out_len - tag.start
        language = tag.attrs.get("class", "").removeprefix("language-")
        parent = self.stack[-1] if self.stack else None
        # <pre><code class="language-x"> is one pre entity with a language.
        if tag.name == "code" and language and parent and parent.name == "pre":
            parent.language = language
            return
        if length <= 0:
            return
        entity: dict[str, Any] = {
            "type": TAG_TYPES[tag.name],
            "offset": tag.start,
            "length": length,
        }
        if tag.name == "a":
            entity["url"] = tag.attrs.get("href", "")
        elif tag.name == "pre" and tag.language:
            entity["language"] = tag.language
        elif tag.name == "blockquote" and "expandable" in tag.attrs:
            entity["type"] = "expandable_blockquote"
        elif tag.name == "tg-emoji":
            entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
        self.entities.append(entity)


def decode_entity(text: str, pos: int) -> tuple[str, int]:
    """Decode one ``&...;`` at ``pos``; unknown ones stay literal, as in Telegram."""
    end = text.find(";", pos + 1, pos + 12)
    if end < 0:
        return "&", pos + 1
    body = text[pos + 1 : end]
    if body in NAMED_ENTITIES:
        return NAMED_ENTITIES[body], end + 1
    if body.startswith("#"):
        digits = body[1:]
        base = 10
        if digits[:1] in ("x", "X"):
            digits, base = digits[1:], 16
        try:
            code = int(digits, base)
        except ValueError:
            return "&", pos + 1
        if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
            return chr(code), end + 1
    return "&", pos + 1


def decode_entities(text: str) -> str:
    parts: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos] == "&":
            decoded, pos = decode_entity(text, pos)
            parts.append(decoded)
        else:
            parts.append(text[pos])
            pos += 1
    return "".join(parts)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Return the plain text and entities of Telegram HTML, or raise HtmlParseError."""
    return _Parser(source).run()


# A character reference Telegram decodes (see decode_entity). Seen on screen, it means the source
# had "&amp;lt;": a text that was escaped already was escaped again.
_SHOWN_REFERENCE = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
# One of Telegram's tags, opened and closed, seen on screen: finished markup escaped once more.
_SHOWN_TAG_PAIR = re.compile(
    r"(<(" + "|".join(sorted(TAG_TYPES, key=len, reverse=True)) + r")(?:\s[^<>]*)?>).*?</\2\s*>",
    re.IGNORECASE | re.DOTALL,
)
DOUBLE_ESCAPE = "double escape"
MARKUP_AS_TEXT = "markup shown as text"


def escaped_markup(shown: str, supplied: Callable[[], Iterable[str]]) -> list[tuple[str, str]]:
    """What on screen betrays a text escaped twice: ``(rule, found)`` pairs, none when clean.

    Two rules, each free of false alarms on what people type:

    * DOUBLE_ESCAPE: the visible text holds a character reference (``&lt;``, ``&amp;``,
      ``&quot;``, ``&#39;``...). Telegram decodes references, so one survives to the screen only
      when the source had it escaped (``&amp;lt;b&amp;gt;``).
    * MARKUP_AS_TEXT: the visible text holds a pair of Telegram's tags (``<b>...</b>``,
      ``<a href=...>...</a>``): the bot's own markup was escaped and shown as text.

    A person may type either (a note saying "<b>bold</b>" or "AT&amp;T"); the bot then rightly
    escapes it once and shows it as typed. So a finding is dropped when the same reference, or
    the same opening tag, occurs in ``supplied()``: the texts people gave the sandbox (messages,
    captions, names, file names, contacts, inline queries). It is called only when something was
    found. Text that reaches the bot another way (a database seeded by a test, an imported file)
    is not known here: a test seeding a tag pair into names must expect its finding.
    """
    found = [(DOUBLE_ESCAPE, match.group(0)) for match in _SHOWN_REFERENCE.finditer(shown)]
    found += [(MARKUP_AS_TEXT, match.group(1)) for match in _SHOWN_TAG_PAIR.finditer(shown)]
    if not found:
        return []
    given = list(supplied())
    return [
        (rule, sequence)
        for rule, sequence in dict.fromkeys(found)
        if not any(sequence.lower() in text.lower() for text in given)
    ]
