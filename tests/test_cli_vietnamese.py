"""No English in what the CLI prints for a person: every command's help, and the usual mistakes."""

from __future__ import annotations

import re

import click
import pytest

from reminder_service.adapters.cli import cli as root
from tests.conftest import Cli

# click's own words and metavars, and the operating system's.
FORBIDDEN = re.compile(
    r"Usage:|Options:|Commands:|Arguments:|Show this message|\[OPTIONS\]|COMMAND|\[ARGS\]|\bTEXT\b|\bINTEGER\b|"
    r"\bFILENAME\b|\bFILE\b|\bPATH\b|\bDIRECTORY\b|RANGE|\[required\]|\[default:|Error:|Try '|No such|"
    r"Did you mean|is not a valid|does not exist|Permission denied|Missing (?:argument|option|command)|"
    r"Got unexpected|requires an argument|is not in the range|Aborted"
)


def _paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None
        if isinstance(command, click.Group):
            found += _paths(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", _paths(root), ids=lambda p: " ".join(p) or "reminder-service")
def test_every_help_page_is_vietnamese(cli: Cli, path: tuple[str, ...]) -> None:
    result = cli(*path, "--help")
    assert result.code == 0, result.err
    assert "Cách dùng: reminder-service" in result.out
    assert not FORBIDDEN.search(result.out), FORBIDDEN.search(result.out)


@pytest.mark.parametrize("args", [
    ("submision",), ("submissions", "lst"), ("status", "--bogus"), ("status", "extra"), ("status", "--year"),
    ("units", "import"), ("submissions", "correct", "abc"), ("submissions", "correct", "0"),
    ("calendar", "show", "--year", "năm nay"), ("calendar", "lint", "/khong/co/tep.yaml"),
    ("calendar", "ics", "--year", "2026", "-o", "/khong/co/thu-muc/lich.ics"), ("units", "import", "/khong/co.csv"),
    ("submissions", "import", "/khong/co.csv"), ("people", "add", "--name", "A", "--role", "sep"),
    ("status", "--kind", "truong"), ("outbox", "list", "--limit", "x"), ("units",), ("simulate", "--bogus"),
])
def test_mistakes_are_answered_in_vietnamese(db_cli: Cli, args: tuple[str, ...]) -> None:
    result = db_cli(*args)
    assert result.code != 0
    printed = result.out + result.err
    assert "Traceback" not in printed
    assert not FORBIDDEN.search(printed), (args, printed)


def test_an_unknown_command_suggests_the_nearest(cli: Cli) -> None:
    result = cli("submision")
    assert result.code == 2 and "có phải ý Ông/Bà là “submissions”?" in result.err
    result = cli("submissions", "lst")
    assert "“list”" in result.err


def test_kinds_may_be_written_in_vietnamese(cli: Cli) -> None:
    commune = cli("calendar", "show", "--year", "2021", "--kind", "xã")
    assert commune.code == 0 and commune.out == cli("calendar", "show", "--year", "2021", "--kind", "commune").out
    assert cli("calendar", "show", "--year", "2021", "--kind", "phong").out == cli(
        "calendar", "show", "--year", "2021", "--kind", "monitor").out
