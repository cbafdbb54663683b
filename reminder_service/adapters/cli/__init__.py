"""``reminder-service``: the command line, Vietnamese for people and JSON for machines."""

from __future__ import annotations

import importlib
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import click

from calendars.library import LibraryError
from calendars.yaml_nodes import DirectiveError
from reminder_service.adapters.cli.base import AppHolder, ViGroup, usage_message
from reminder_service.config import CONFIG_ENV
from reminder_service.domain.errors import UserError

EXIT_INPUT = 2


class RootGroup(ViGroup):
    """Imports a command's module only when that command runs, so each command starts quickly."""

    LAZY: ClassVar[dict[str, str]] = {
        "calendar": "calendar_cmd:calendar",
        "db": "db_cmd:db",
        "init": "db_cmd:init",
        "units": "units_cmd:units",
        "people": "people_cmd:people",
        "obligations": "obligations_cmd:obligations",
        "submissions": "submissions_cmd:submissions",
        "waivers": "corrections_cmd:waivers",
        "status": "readside_cmd:status",
        "overdue": "readside_cmd:overdue",
        "report": "readside_cmd:report",
        "run": "run_cmd:run",
        "today": "today_cmd:today",
        "simulate": "simulate_cmd:simulate_cmd",
        "preview": "preview_cmd:preview",
        "health": "health_cmd:health",
        "outbox": "outbox_cmd:outbox",
        "web": "web_cmd:web",
    }

    # Groups whose commands come from several modules: each module names its part, the root joins them,
    # so command modules never import each other.
    PARTS: ClassVar[dict[str, tuple[str, ...]]] = {
        "submissions": ("corrections_cmd:SUBMISSION_COMMANDS", "register_cmd:SUBMISSION_COMMANDS"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.LAZY)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.LAZY.get(cmd_name)
        if target is None:
            return None
        command: click.Command = _load(target)
        if isinstance(command, click.Group):
            for part in self.PARTS.get(cmd_name, ()):
                for sub in _load(part):
                    command.add_command(sub)
        return command


def _load(target: str) -> Any:
    module_name, attribute = target.split(":")
    return getattr(importlib.import_module(f"reminder_service.adapters.cli.{module_name}"), attribute)


@click.group(cls=RootGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="TỆP",
    envvar=CONFIG_ENV,
    help=f"Tệp cấu hình TOML (hoặc biến môi trường {CONFIG_ENV}).",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """Theo dõi hạn nộp và nhắc báo cáo cải cách hành chính (CCHC)."""
    if config_path is not None:
        ctx.ensure_object(AppHolder).config_path = config_path


def _fail(message: str) -> int:
    click.echo(message, err=True)
    return EXIT_INPUT


def run_cli(argv: Sequence[str] | None = None) -> int:
    """Run a command and return its exit code; user errors are reported, never raised."""
    holder = AppHolder(None)
    try:
        # Without standalone mode click returns, not raises, the code of a command's ctx.exit(N).
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="reminder-service",
                        standalone_mode=False, obj=holder)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:
        # A group typed alone ("reminder-service units"): its help, which lists its commands, not an error.
        click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        return EXIT_INPUT
    except click.UsageError as exc:
        return _fail(usage_message(exc))
    except click.Abort:
        click.echo("Đã hủy.", err=True)
        return 1
    except click.ClickException as exc:
        return _fail(f"Lỗi: {exc.format_message()}")
    except (LibraryError, DirectiveError) as exc:
        errors = exc.errors if isinstance(exc, LibraryError) else [exc]
        details = "\n".join(f"  {line}" for error in errors for line in str(error).splitlines())
        return _fail(f"Lỗi trong tệp văn bản hướng dẫn — hãy sửa các chỗ sau rồi chạy lại:\n{details}")
    except UserError as exc:
        return _fail(f"Lỗi: {exc}")
    finally:
        holder.close()
    return code if isinstance(code, int) else 0


def main() -> None:
    # Vietnamese must print whatever the server's locale; a Latin-1 or ASCII terminal would crash.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.encoding.lower() != "utf-8":
            stream.reconfigure(encoding="utf-8")
    sys.exit(run_cli())
