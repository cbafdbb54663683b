"""Long answers within Telegram's message limit: 4,096 UTF-16 code units, so an emoji counts two and
a Vietnamese letter one (when composed; a decomposed one counts two or three).

The limit applies to the text after Telegram parses the HTML; measuring the HTML source instead errs on
the safe side, since tags and entities only shrink when parsed, and keeps this module free of a parser.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

MESSAGE_LIMIT = 4096
DEFAULT_PER_PAGE = 30
# A tag, an entity, or one character: a cut never falls inside the first two.
_ITEM = re.compile(r"<[^<>]*>|&(?:#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);|.", re.DOTALL)
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)")
_JOINERS = frozenset("\u200d\ufe0e\ufe0f")

Stack = tuple[tuple[str, str], ...]  # open tags, outermost first: (name, the opening tag as written)


def utf16_len(text: str) -> int:
    """Length as Telegram counts it: characters beyond the Basic Multilingual Plane take two units."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _items(html: str) -> list[str]:
    """Tags, entities and characters, a character keeping its combining marks and emoji joiners so a
    cut never separates "a" from its accent or splits a family emoji."""
    items: list[str] = []
    for item in _ITEM.findall(html):
        glued = items and len(item) == 1 and not items[-1].startswith("<") and items[-1] != "\n"
        if glued and (unicodedata.combining(item) or item in _JOINERS or items[-1][-1] == "\u200d"):
            items[-1] += item
        else:
            items.append(item)
    return items


def _after(stack: Stack, item: str) -> Stack:
    tag = _TAG.match(item) if item.startswith("<") else None
    if tag is None:
        return stack
    name = tag.group(2).lower()
    if not tag.group(1):
        return (*stack, (name, item))
    for index in range(len(stack) - 1, -1, -1):
        if stack[index][0] == name:
            return stack[:index] + stack[index + 1:]
    return stack  # a stray closing tag: left as written, Telegram will say what it thinks of it


def _closers(stack: Stack) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _is_text(item: str) -> bool:
    return not item.startswith("<") and not item.isspace()


def split_message(html: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Telegram HTML in parts of at most ``limit`` UTF-16 units, each valid on its own. Parts end at a
    line end when one fits (the line end itself is dropped), else at a space, else between two
    characters, never inside a tag or an entity; tags open at a cut are closed there and reopened at
    the start of the next part. Blank parts are dropped, so blank text gives no parts at all."""
    if utf16_len(html) <= limit:
        return [html] if html.strip() else []
    items = _items(html)
    parts: list[str] = []
    stack: Stack = ()
    start = 0
    while start < len(items):
        while start < len(items) and items[start].isspace():
            start += 1
        head = "".join(opening for _, opening in stack)
        size, state, end = utf16_len(head), stack, start
        # (index of the blank to cut at, the open tags there)
        line_cut: tuple[int, Stack] | None = None
        space_cut: tuple[int, Stack] | None = None
        seen_text = False
        while end < len(items):
            item = items[end]
            following = _after(state, item)
            if size + utf16_len(item) + utf16_len(_closers(following)) > limit:
                break
            if seen_text and item == "\n":
                line_cut = (end, state)
            elif seen_text and item.isspace():
                space_cut = (end, state)
            seen_text = seen_text or _is_text(item)
            size, state, end = size + utf16_len(item), following, end + 1
        if end < len(items) and end == start:
            raise ValueError(f"the markup around item {start} alone exceeds the limit of {limit}")
        if end == len(items):
            cut, cut_state = end, state
        else:
            cut, cut_state = line_cut or space_cut or _hard_cut(items, start, end, stack)
        if any(_is_text(item) for item in items[start:cut]):  # else only tags left over from the last cut
            parts.append(head + "".join(items[start:cut]) + _closers(cut_state))
        start, stack = cut, cut_state
    return parts


def _hard_cut(items: list[str], start: int, end: int, stack: Stack) -> tuple[int, Stack]:
    """Where to cut a run with no blank that fits: as late as fits, but before any tags that would
    open at the very end and show nothing in this part."""
    cut = end
    while cut > start + 1 and items[cut - 1].startswith("<") and not items[cut - 1].startswith("</"):
        cut -= 1
    state = stack
    for item in items[start:cut]:
        state = _after(state, item)
    return cut, state


@dataclass(frozen=True)
class Page:
    """One page of a long list: ``text`` fits one Telegram message; pages are numbered from 1."""

    text: str
    page: int
    pages: int
    # Which of the lines paged appear here, wholly or in part: what a button beside each must match.
    shown: range = field(default=range(0), compare=False)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(header: str, lines: Sequence[str], page: int, per_page: int = DEFAULT_PER_PAGE,
             limit: int = MESSAGE_LIMIT) -> Page:
    """Page ``page`` (clamped into range) of ``lines`` under ``header``. A page holds at most
    ``per_page`` lines and fewer when they would not fit in ``limit``; a line too long for any page is
    cut over several. With more than one page, the header's first line ends with "(trang 2/5)"."""
    if not lines:
        return Page(header, 1, 1)
    # The page count is known only once the lines are laid out, so the marker's room is kept for the
    # most pages there could be: one per line, plus one per unit of a line cut over several pages.
    most = len(lines) + sum(utf16_len(line) for line in lines)
    budget = limit - utf16_len(header) - utf16_len(_marker(most, most)) - 1
    if budget < 1:
        raise ValueError(f"the header alone exceeds the limit of {limit}")
    pieces = [(index, piece) for index, line in enumerate(lines)
              for piece in (split_message(line, budget) if utf16_len(line) > budget else [line])]
    chunks: list[list[tuple[int, str]]] = [[]]
    size = 0
    for index, piece in pieces:
        grown = size + utf16_len(piece) + (1 if chunks[-1] else 0)
        if chunks[-1] and (len(chunks[-1]) >= max(1, per_page) or grown > budget):
            chunks.append([])
            grown = utf16_len(piece)
        chunks[-1].append((index, piece))
        size = grown
    pages = len(chunks)
    number = min(max(page, 1), pages)
    title = header if pages == 1 else _with_marker(header, _marker(number, pages))
    chunk = chunks[number - 1]
    return Page(title + "\n" + "\n".join(piece for _, piece in chunk), number, pages,
                range(chunk[0][0], chunk[-1][0] + 1))


def _marker(number: int, pages: int) -> str:
    return f" (trang {number}/{pages})"


def _with_marker(header: str, marker: str) -> str:
    first, newline, others = header.partition("\n")
    return first + marker + newline + others
