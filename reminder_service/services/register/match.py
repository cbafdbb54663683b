"""Which unit sent a register row: the sender's name against the units' names. Pure: no database.

Names are compared folded and with abbreviations written out, in three steps from strict to loose; the
first step that finds anything decides, and finding more than one unit is an ambiguity for a person to
settle, never a choice made here:

1. the whole name: "UBND TT Phú Lộc" = "Ủy ban nhân dân thị trấn Phú Lộc";
2. the proper name, with a compatible kind of unit: "An Bình" or "UBND xã An Bình" = "Xã An Bình", but
   "Trung tâm Văn hóa – Thông tin" ≠ "Phòng Văn hóa – Thông tin";
3. the same, after dropping a trailing place: "UBND xã An Bình, huyện Phú Lộc" = "Xã An Bình".

Anything else — "Trường THCS xã An Bình" — is not a unit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from reminder_service.domain.textfold import NAME_ABBREVIATIONS, expand, fold


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str


@dataclass(frozen=True)
class UnitMatch:
    unit: UnitRef | None
    candidates: tuple[UnitRef, ...]

    @property
    def reason(self) -> str | None:
        """None when matched; else the review reason code."""
        if self.unit is not None:
            return None
        return "ambiguous_unit" if self.candidates else "unknown_unit"


# Words in front of a name that say who signs, not who the unit is.
_LEADING = (("chu", "tich"), ("pho", "chu", "tich"), ("uy", "ban", "nhan", "dan"))
# The kind of unit a name starts with, longest first so "thi tran" wins over nothing.
_KINDS = (("thi", "tran"), ("thi", "xa"), ("van", "phong"), ("trung", "tam"), ("xa",), ("phuong",), ("phong",),
          ("so",))
# Where a sender's name goes on to say where the unit is: "…, huyện Phú Lộc, tỉnh …".
_PLACES = (("huyen",), ("tinh",), ("quan",), ("thanh", "pho"), ("thi", "xa"))


@dataclass(frozen=True)
class _Name:
    core: str
    kind: str | None
    proper: str
    proper_short: str  # the proper name without a trailing place


def _starts(tokens: list[str], prefix: tuple[str, ...]) -> bool:
    return tuple(tokens[:len(prefix)]) == prefix


def _analyse(folded_variant: str) -> _Name:
    tokens = [t for t in folded_variant.split() if t != "va"]  # "Tài chính và Kế hoạch" = "Tài chính – Kế hoạch"
    stripped = True
    while stripped:
        stripped = False
        for lead in _LEADING:
            if _starts(tokens, lead) and len(tokens) > len(lead):
                tokens = tokens[len(lead):]
                stripped = True
    kind = next((k for k in _KINDS if _starts(tokens, k)), None)
    proper = tokens[len(kind):] if kind else tokens
    short = proper
    for index in range(1, len(proper)):
        if any(_starts(proper[index:], place) for place in _PLACES):
            short = proper[:index]
            break
    return _Name(" ".join(tokens), " ".join(kind) if kind else None, " ".join(proper), " ".join(short))


def analyse(name: str) -> list[_Name]:
    """Every reading of a unit or sender name."""
    return [_analyse(variant) for variant in expand(fold(name), NAME_ABBREVIATIONS)]


class UnitMatcher:
    """Built once per import from every unit; each lookup is a few dictionary reads."""

    def __init__(self, units: Iterable[UnitRef]) -> None:
        self._by_core: dict[str, set[UnitRef]] = defaultdict(set)
        self._by_proper: dict[str, set[tuple[str | None, UnitRef]]] = defaultdict(set)
        for unit in units:
            # A unit's own name is written by the receiver: take its first reading only, so that its
            # own "P." or "TT" does not make it two units.
            name = analyse(unit.name)[0]
            self._by_core[name.core].add(unit)
            if name.proper:
                self._by_proper[name.proper].add((name.kind, unit))

    def match(self, sender: str) -> UnitMatch:
        readings = analyse(sender)
        for step in range(3):
            if step == 0:
                found = {u for r in readings for u in self._by_core.get(r.core, ())}
            else:
                found = self._proper(readings, short=step == 2)
            if len(found) == 1:
                return UnitMatch(next(iter(found)), ())
            if found:
                return UnitMatch(None, tuple(sorted(found, key=lambda u: u.code)))
        return UnitMatch(None, ())

    def _proper(self, readings: list[_Name], *, short: bool) -> set[UnitRef]:
        found: set[UnitRef] = set()
        for reading in readings:
            proper = reading.proper_short if short else reading.proper
            if not proper:
                continue
            for kind, unit in self._by_proper.get(proper, ()):
                if reading.kind is None or kind is None or reading.kind == kind:
                    found.add(unit)
        return found
