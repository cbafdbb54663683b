"""Click, spoken in Vietnamese: help headings, parameter types and error messages."""

from __future__ import annotations

import difflib
import getpass
import re
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from reminder_service.config import CONFIG_ENV
from reminder_service.domain import clock
from reminder_service.domain.datetext import DateError, read_date, read_moment

if TYPE_CHECKING:
    from reminder_service.app import App
    from reminder_service.services.audit import Actor

F = TypeVar("F", bound=Callable[..., Any])
OPTIONS_METAVAR = "[TÙY_CHỌN]"
_HEADINGS = {"Options": "Tùy chọn", "Commands": "Lệnh", "Arguments": "Tham số"}


class ViHelpFormatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix="Cách dùng: ")

    def write_heading(self, heading: str) -> None:
        super().write_heading(_HEADINGS.get(heading, heading))


class ViContext(click.Context):
    formatter_class = ViHelpFormatter


# click's own words in a help page, and its metavars (types' names), in Vietnamese.
_HELP_WORDS = (("[required]", "[bắt buộc]"), ("[default: ", "[mặc định: "), ("default: ", "mặc định: "),
               ("[env var: ", "[biến môi trường: "))
_METAVARS = {"TEXT": "CHUỖI", "INTEGER": "SỐ", "INTEGER RANGE": "SỐ", "FLOAT": "SỐ", "FLOAT RANGE": "SỐ",
             "FILE": "TỆP", "FILENAME": "TỆP", "PATH": "ĐƯỜNG_DẪN", "DIRECTORY": "THƯ_MỤC", "BOOLEAN": "CÓ|KHÔNG",
             "UUID": "MÃ", "DATETIME": "NGÀY_GIỜ"}


def _vi_metavar(param: click.Parameter, ctx: click.Context) -> None:
    """Give a parameter without a metavar of its own the Vietnamese name of its type."""
    if param.metavar is not None or (isinstance(param, click.Option) and param.is_flag):
        return
    shown = param.make_metavar(ctx)
    bare = shown.strip("[]").removesuffix("...")
    if bare in _METAVARS:
        param.metavar = _METAVARS[bare]


class _ViHelp:
    """Vietnamese help-option text, usage line and option help, shared by commands and groups."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option: click.Option | None = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = "Hiện hướng dẫn này rồi thoát."
        return option

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params: list[click.Parameter] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            _vi_metavar(param, ctx)
        return params

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        records = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                text = record[1]
                for english, vietnamese in _HELP_WORDS:
                    text = text.replace(english, vietnamese)
                records.append((record[0], text))
        if records:
            with formatter.section("Tùy chọn"):
                formatter.write_dl(records)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


class AppHolder:
    """Builds the App on first use, so `--help` works even with a broken config."""

    def __init__(self, config_path: Path | None) -> None:
        self.config_path = config_path
        self._app: App | None = None

    @property
    def app(self) -> App:
        if self._app is None:
            from reminder_service.app import App
            from reminder_service.config import load_config

            self._app = App.from_config(load_config(self.config_path))
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


def _config_callback(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    holder = ctx.find_object(AppHolder)
    if value is not None and holder is not None:
        holder.config_path = value


def config_option() -> click.Option:
    """`--config` accepted on every command as well as before it."""
    return click.Option(
        ["--config"], type=click.Path(path_type=Path, dir_okay=False), metavar="TỆP", expose_value=False, is_eager=True,
        callback=_config_callback, help=f"Tệp cấu hình TOML (hoặc biến môi trường {CONFIG_ENV}).",
    )


class ViCommand(_ViHelp, click.Command):
    context_class = ViContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)
        self.params.append(config_option())


def csv_headers_option(function: F) -> F:
    """`--headers vi|en`: Vietnamese column names for people (the default), field names for machines."""
    return click.option("--headers", "headers", type=ChoiceType("vi", "en"), default="vi",
                        help="Tên cột của CSV: vi (tiếng Việt, mặc định) hoặc en (cho máy).")(function)


def listing_options(inactive_help: str) -> Callable[[F], F]:
    """`--all` and `--format table|json`, as every registry listing takes them."""

    def decorate(function: F) -> F:
        function = click.option("--format", "-f", "output_format", type=ChoiceType("table", "json"),
                                default="table", show_default=True, help="table: bảng để đọc; json: cho máy.")(function)
        return click.option("--all", "show_all", is_flag=True, help=inactive_help)(function)

    return decorate


def app_of(ctx: click.Context) -> App:
    holder = ctx.find_object(AppHolder)
    assert holder is not None, "the root group always installs an AppHolder"
    return holder.app


def db_app_of(ctx: click.Context) -> App:
    """The App, after checking that the database exists at the current schema."""
    from reminder_service.services.db.engine import is_current, missing_file
    from reminder_service.services.db.urls import shown

    app = app_of(ctx)
    engine = app.engine  # a malformed URL is a UserError with its own message, not a failure to connect
    absent = missing_file(engine)
    if absent is not None:
        # Connecting would leave an empty file behind: a typo in the path must not create a database.
        raise click.ClickException(
            f"không có tệp cơ sở dữ liệu {absent}; hãy kiểm tra đường dẫn trong [database].url hoặc "
            "REMINDER_SERVICE_DATABASE_URL, hoặc tạo cơ sở dữ liệu mới bằng: reminder-service init")
    try:
        current = is_current(engine)
    except Exception as exc:
        raise click.ClickException(
            f"không kết nối được cơ sở dữ liệu {shown(app.config.database_url)} "
            f"({exc.__class__.__name__}); hãy kiểm tra [database].url hoặc REMINDER_SERVICE_DATABASE_URL"
        ) from None
    if not current:
        raise click.ClickException(
            "cơ sở dữ liệu chưa được khởi tạo hoặc chưa nâng cấp; hãy chạy: reminder-service init "
            "(hoặc reminder-service db upgrade)"
        )
    return app


def cli_actor() -> Actor:
    """Whoever runs the command, as the audit log names them."""
    from reminder_service.services.audit import Actor

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "cli"
    return Actor(name=name, channel="cli")


class ViGroup(_ViHelp, click.Group):
    context_class = ViContext
    command_class = ViCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        kwargs.setdefault("subcommand_metavar", "LỆNH [THAM_SỐ]...")
        super().__init__(*args, **kwargs)


ViGroup.group_class = ViGroup


class YearType(click.ParamType[int]):
    name = "NĂM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not re.fullmatch(r"\d{4}", text) or not 1900 <= int(text) <= 2200:
            self.fail(f'"{value}" không phải là năm hợp lệ; hãy ghi năm bốn chữ số, ví dụ 2021', param, ctx)
        return int(text)


class DayType(click.ParamType[date]):
    name = "NGÀY"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return read_date(str(value))
        except DateError as error:
            self.fail(str(error).rstrip("."), param, ctx)


class KindType(click.ParamType[str]):
    """A unit kind: its code (commune, monitor) or a Vietnamese word (xã, phường, thị trấn, phòng)."""

    name = "LOẠI"

    def __init__(self, *allowed: str) -> None:
        self.allowed = allowed

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from reminder_service.services.registry.fields import unit_kind

        kind = unit_kind(str(value))
        if self.allowed and kind not in self.allowed:
            self.fail(f'không có loại đơn vị "{value}"; chọn một trong: {", ".join(self.allowed)} '
                      "(hoặc xã, thị trấn, phòng)", param, ctx)
        return kind


class ChoiceType(click.ParamType[str]):
    """A choice whose refusal is worded in Vietnamese."""

    def __init__(self, *options: str, listed: tuple[str, ...] = ()) -> None:
        """``listed``: the choices to name in help and refusals when only some are for people to pick."""
        self.options = options
        self.listed = listed or options
        self.name = "|".join(self.listed)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip().lower()
        if text not in self.options:
            self.fail(f'"{value}" không hợp lệ; chọn một trong: {", ".join(self.listed)}', param, ctx)
        return text


_TRANSLATIONS = (
    (r"No such command '(.+)'\.", "không có lệnh \"{0}\""),
    (r"No such option:? '?([^'\s]+)'?\.?", "không có tùy chọn {0}"),
    (r"Missing option '(.+)'\.?", "thiếu tùy chọn bắt buộc {0}"),
    (r"Missing argument '(.+)'\.?", "thiếu tham số bắt buộc {0}"),
    (r"Option '(.+)' requires an argument\.", "tùy chọn {0} cần một giá trị"),
    (r"Got unexpected extra arguments? \((.+)\)", "thừa tham số: {0}"),
    (r"Invalid value for '([^']+)'(?: / '[^']+')*: (.+)", "giá trị của {0} không hợp lệ: {1}"),
    (r"Invalid value for ([^:]+): (.+)", "giá trị của {0} không hợp lệ: {1}"),
    (r"Missing command\.", "thiếu tên lệnh"),
    # From here on: the reasons click gives inside an "Invalid value" message.
    (r"'(.*?)' is not a valid integer range\.?", "“{0}” không phải là số nguyên"),
    (r"'(.*?)' is not a valid integer\.?", "“{0}” không phải là số nguyên"),
    (r"'(.*?)' is not a valid float\.?", "“{0}” không phải là số"),
    (r"(\S+) is not in the range (.+?)\.", "{0} nằm ngoài khoảng cho phép ({1})"),
    (r"(?:File|Path|Directory) '(.+?)' does not exist\.?", "không có tệp hoặc thư mục “{0}”"),
    (r"(?:File|Path) '(.+?)' is a directory\.?", "“{0}” là thư mục, không phải tệp"),
    (r"Directory '(.+?)' is a file\.?", "“{0}” là tệp, không phải thư mục"),
    (r"(?:File|Path|Directory) '(.+?)' is not readable\.?", "không có quyền đọc “{0}”"),
    (r"(?:File|Path|Directory) '(.+?)' is not writable\.?", "không có quyền ghi “{0}”"),
    (r"'(.+?)': No such file or directory", "không có tệp hoặc thư mục “{0}”"),
    (r"'(.+?)': Permission denied", "không có quyền truy cập “{0}”"),
)


_VALUE_PATTERNS = 9  # _TRANSLATIONS[_VALUE_PATTERNS:] are the reasons, translated wherever they appear


def _filler(template: str) -> Callable[[re.Match[str]], str]:
    return lambda found: template.format(*found.groups())


def usage_message(error: click.UsageError) -> str:
    """A click usage error in Vietnamese, with where to find help."""
    text = error.format_message().strip()
    for pattern, template in _TRANSLATIONS:
        found = re.match(pattern, text)
        if found:
            # Keep what follows the matched part: click's "Did you mean …?" suggestions.
            text = template.format(*found.groups()) + text[found.end():]
            break
    for pattern, template in _TRANSLATIONS[_VALUE_PATTERNS:]:
        # The reason inside "giá trị của X không hợp lệ: <reason>" is click's too.
        text = re.sub(pattern, _filler(template), text)
    text = re.sub(r"\s*Did you mean '?([^'?]+)'?\?", r" (có phải ý Ông/Bà là “\1”?)", text).rstrip(".")
    unknown = re.fullmatch(r'không có lệnh "(.+)"', text)
    if unknown is not None and error.ctx is not None and isinstance(error.ctx.command, click.Group):
        # A typo deserves the nearest command, as a person would guess it.
        names = error.ctx.command.list_commands(error.ctx)
        near = difflib.get_close_matches(unknown.group(1).lower(), names, n=1, cutoff=0.6)
        if near:
            text += f" (có phải ý Ông/Bà là “{near[0]}”?)"
    text = re.sub(r"\(Possible options: (.+)\)", r"(các tùy chọn gần giống: \1)", text)
    command = error.ctx.command_path if error.ctx is not None else "reminder-service"
    return f"Lỗi: {text}.\nXem hướng dẫn: {command} --help"


def parse_received(text: str, param_hint: str = "--received") -> datetime:
    """A date with an optional time of day (datetext's grammar), as Vietnamese wall time."""
    try:
        return read_moment(text)
    except DateError as error:
        time_hint = " Có thể kèm giờ, ví dụ: 12/03/2021 14:30." if str(error).startswith("Không hiểu") else ""
        raise click.BadParameter(f"{error}{time_hint}".rstrip("."), param_hint=param_hint) from None


def moment(at: str | None) -> datetime:
    """``--at`` as Vietnamese wall time, or now."""
    if at is None:
        return clock.now()
    return parse_received(at, "--at")


class CountType(click.ParamType[int]):
    """A whole number in a range, refused in Vietnamese."""

    name = "SỐ"

    def __init__(self, what: str = "số", low: int = 1, high: int = 100_000) -> None:
        self.what, self.low, self.high = what, low, high

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if not text.isdigit() or not self.low <= int(text) <= self.high:
            self.fail(f'"{value}" không hợp lệ; {self.what} phải là số nguyên từ {self.low} đến {self.high}',
                      param, ctx)
        return int(text)

