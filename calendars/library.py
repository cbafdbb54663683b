"""The set of directive files on disk, and which one governs a given year.

A file governs its own year exactly. Any other year is projected from the latest file of an earlier
year (the rules in force), or from the earliest file when the year precedes them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from calendars.loader import load_directive
from calendars.model import Directive, YearCalendar
from calendars.schedule import build_year
from calendars.workdays import WorkCalendar
from calendars.yaml_nodes import DirectiveError, Problem

BUILTIN_DIRECTIVES = Path(__file__).parent / "directives"


class LibraryError(Exception):
    """One or more directive files are unusable; ``errors`` lists each file's problems."""

    def __init__(self, errors: list[DirectiveError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class UnknownDirectiveError(LookupError):
    def __init__(self, directive_id: str, known: Iterable[str]) -> None:
        self.directive_id = directive_id
        self.known = sorted(known)
        super().__init__(directive_id)


@dataclass(frozen=True)
class DirectiveLibrary:
    by_id: dict[str, tuple[Directive, ...]]

    @property
    def ids(self) -> list[str]:
        return sorted(self.by_id)

    def versions(self, directive_id: str) -> tuple[Directive, ...]:
        try:
            return self.by_id[directive_id]
        except KeyError:
            raise UnknownDirectiveError(directive_id, self.by_id) from None

    def governing(self, directive_id: str, year: int) -> Directive:
        """The file whose rules apply to ``year``."""
        versions = self.versions(directive_id)
        earlier = [d for d in versions if d.year <= year]
        return earlier[-1] if earlier else versions[0]

    def calendar(self, directive_id: str, year: int, workdays: WorkCalendar) -> YearCalendar:
        return build_year(self.governing(directive_id, year), year, workdays)


def load_library(folders: Iterable[Path]) -> DirectiveLibrary:
    """Load every ``*.yaml`` file in ``folders``; a later folder's file replaces an earlier one's
    for the same directive and year (an office's own copy overrides the built-in one)."""
    found: dict[tuple[str, int], Directive] = {}
    errors: list[DirectiveError] = []
    for folder in folders:
        if not folder.is_dir():
            problem = Problem(0, "thư mục văn bản không tồn tại hoặc không phải là thư mục")
            errors.append(DirectiveError(str(folder), [problem]))
            continue
        in_folder: dict[tuple[str, int], Path] = {}
        for path in sorted(folder.glob("*.y*ml")):
            try:
                directive = load_directive(path)
            except DirectiveError as exc:
                errors.append(exc)
                continue
            key = (directive.id, directive.year)
            if key in in_folder:
                message = (
                    f'văn bản "{directive.id}" năm {directive.year} đã có trong tệp {in_folder[key]}; '
                    "mỗi năm chỉ được một tệp"
                )
                errors.append(DirectiveError(str(path), [Problem(1, message)]))
                continue
            in_folder[key] = path
            found[key] = directive
    if errors:
        raise LibraryError(errors)
    by_id: dict[str, list[Directive]] = {}
    for (directive_id, _), directive in sorted(found.items()):
        by_id.setdefault(directive_id, []).append(directive)
    return DirectiveLibrary({key: tuple(value) for key, value in by_id.items()})
