"""Vietnamese text folded for comparison: no diacritics, no case, no punctuation, abbreviations expanded.

Registers are typed by many hands on many systems: "UBND TT Phú Lộc", "Uy ban nhan dan thi tran Phu
Loc" and "Ủy ban nhân dân Thị trấn Phú Lộc" are one sender. Folding makes them one string.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Mapping

# Letters NFD does not decompose: đ/Đ, and the look-alike Icelandic eth some keyboards produce.
_LETTERS = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "Ð": "d"})
_NOT_WORD = re.compile(r"[^0-9a-z]+")

Expansions = Mapping[tuple[str, ...], tuple[str, ...]]

# Abbreviations in sender names. Several mean different things in different places ("P." is Phòng
# in a district but Phường in a city; "TT" is thị trấn or trung tâm): each reading is tried.
NAME_ABBREVIATIONS: Expansions = {
    ("ubnd",): ("uy ban nhan dan",),
    ("ub",): ("uy ban",),
    ("hdnd",): ("hoi dong nhan dan",),
    ("vp",): ("van phong",),
    ("p",): ("phong", "phuong"),
    ("ph",): ("phong", "phuong"),
    ("tt",): ("thi tran", "trung tam"),
    ("x",): ("xa",),
    ("tx",): ("thi xa",),
    ("tp",): ("thanh pho", "tu phap"),
    ("nv",): ("noi vu",),
    ("vh", "tt"): ("van hoa thong tin",),
    ("vhtt",): ("van hoa thong tin",),
    ("tc", "kh"): ("tai chinh ke hoach",),
    ("tckh",): ("tai chinh ke hoach",),
    ("kt", "ht"): ("kinh te ha tang",),
    ("ktht",): ("kinh te ha tang",),
    ("tn", "mt"): ("tai nguyen moi truong",),
    ("tnmt",): ("tai nguyen moi truong",),
    ("gd", "dt"): ("giao duc dao tao",),
    ("gddt",): ("giao duc dao tao",),
    ("ld", "tb", "xh"): ("lao dong thuong binh xa hoi",),
    ("ldtbxh",): ("lao dong thuong binh xa hoi",),
    ("nn", "ptnt"): ("nong nghiep phat trien nong thon",),
    ("nnptnt",): ("nong nghiep phat trien nong thon",),
}

# Abbreviations in a trích yếu; here each has one reading.
SUMMARY_ABBREVIATIONS: Expansions = {
    ("cchc",): ("cai cach hanh chinh",),
    ("bc",): ("bao cao",),
    ("kh",): ("ke hoach",),
    ("ubnd",): ("uy ban nhan dan",),
    ("hdnd",): ("hoi dong nhan dan",),
}

_LONGEST = 3
MAX_VARIANTS = 16


def fold(text: str) -> str:
    """Lower-case ASCII words separated by single spaces: "Ủy ban – Thị trấn" → "uy ban thi tran"."""
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_LETTERS)
    return " ".join(_NOT_WORD.sub(" ", bare.lower()).split())


def compact(text: str) -> str:
    """Folded with no spaces at all, for headers such as "Số, ký hiệu" vs "Số ký hiệu"."""
    return fold(text).replace(" ", "")


def expand(folded: str, table: Expansions) -> list[str]:
    """Every reading of a folded text with its abbreviations written out, the most likely first."""
    tokens = folded.split()
    pieces: list[tuple[str, ...]] = []
    index = 0
    while index < len(tokens):
        for size in range(min(_LONGEST, len(tokens) - index), 0, -1):
            readings = table.get(tuple(tokens[index:index + size]))
            if readings is not None:
                pieces.append(readings)
                index += size
                break
        else:
            pieces.append((tokens[index],))
            index += 1
    variants = [" ".join(choice) for choice in itertools.islice(itertools.product(*pieces), MAX_VARIANTS)]
    return variants or [""]


# Control characters that are not whitespace: a legacy export pads fields with NUL, which PostgreSQL
# refuses in text, and none of them means anything in a register.
_CONTROL = dict.fromkeys(c for c in (*range(32), *range(127, 160)) if not chr(c).isspace())


def clean(text: str) -> str:
    """Text as shown back to people: NFC (registers from Windows-1258 arrive decomposed), single spaces,
    no control characters."""
    return " ".join(unicodedata.normalize("NFC", text.translate(_CONTROL)).split())
