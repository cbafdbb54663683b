"""Engines and sessions for SQLite (default) and PostgreSQL, and schema upgrades through Alembic."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Table, create_engine, event, insert, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, ProgrammingError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig
from sqlalchemy.orm import Session, sessionmaker

from reminder_service.domain.errors import UserError, os_reason
from reminder_service.services.db.urls import misread, scrub, shown, sqlite_file

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# The newest migration; a test keeps it equal to Alembic's head. Checking it needs no Alembic import,
# which would add a tenth of a second to every command.
SCHEMA_HEAD = "0008"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def _parse(url: str) -> URL:
    """``url`` as SQLAlchemy reads it, or a UserError that shows it without its password."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise UserError(
            f'địa chỉ cơ sở dữ liệu "{shown(url)}" không hợp lệ; ví dụ sqlite:///var/reminder-service.sqlite3 '
            "hoặc postgresql+psycopg://user:mat_khau@127.0.0.1:5432/ten_csdl (cổng là một số)"
        ) from None
    if parsed.get_backend_name() != "sqlite" and misread(url, parsed):
        raise UserError(
            f'địa chỉ cơ sở dữ liệu "{shown(url)}" có ký tự đặc biệt chưa được mã hóa; trong tên người dùng, '
            "mật khẩu và các tham số, hãy viết @ thành %40, / thành %2F, : thành %3A (ví dụ mật khẩu p@ss "
            "viết là p%40ss)"
        )
    return parsed


def make_engine(url: str) -> Engine:
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.username or parsed.password or parsed.host or parsed.port:
            raise UserError(f'địa chỉ SQLite "{shown(url)}" không dùng tên người dùng, mật khẩu hay máy chủ; '
                            "ví dụ sqlite:///var/reminder-service.sqlite3 hoặc sqlite:////duong/dan/tuyet/doi.sqlite3")
        # No file is created here: a command that only reads must leave no empty file behind when the path
        # is wrong. The database's file is created by ``upgrade`` (init, db upgrade, run's start-up).
        engine = _create(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        # No server-side prepared statements: after five runs psycopg would prepare the read side's queries
        # and PostgreSQL's generic plan, blind to the as-of date, made /quahan 40 % slower (measured).
        return _create(parsed, pool_pre_ping=True, connect_args={"prepare_threshold": None})
    raise UserError(f'cơ sở dữ liệu "{backend}" chưa được hỗ trợ; dùng SQLite hoặc PostgreSQL')


def _create_private(database: Path) -> None:
    """The database's folder (0700) and an empty database file (0600, which SQLite reads as an empty
    database), unless they exist: SQLite itself would create the file 0644 less the umask, readable by
    every account, and it gives its -journal, -wal and -shm files the mode of the database file. An
    existing file or folder keeps its mode: an operator may have chosen 0640 for the service's group."""
    try:
        database.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    except OSError as exc:
        raise UserError(f"không tạo được tệp cơ sở dữ liệu {database} ({os_reason(exc)}); hãy kiểm tra đường dẫn "
                        "và quyền ghi vào thư mục.") from None


def _create(url: URL, **options: Any) -> Engine:
    try:
        return create_engine(url, **options)
    except (NoSuchModuleError, ImportError):
        raise UserError(
            f'không có trình điều khiển cơ sở dữ liệu "{url.drivername}"; hãy dùng postgresql+psycopg://… '
            "hoặc sqlite:///…"
        ) from None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextlib.contextmanager
def _prepared(session: Session) -> Iterator[None]:
    """Within this block a many-row INSERT is prepared once on PostgreSQL instead of parsed per row.

    Engines turn server-side preparing off (see make_engine); a notice day's 40,000 outbox rows written
    unprepared took twice as long (5.2 s against 2.6 s, measured). Other databases are left as they are.
    """
    driver = session.connection().connection.driver_connection
    if session.get_bind().dialect.name != "postgresql" or driver is None:
        yield
        return
    threshold = driver.prepare_threshold
    driver.prepare_threshold = 0
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


def insert_many(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """INSERT ``rows`` (each with the same keys, every column with a default among them) in one executemany.

    SQLAlchemy's own executemany converts every value of every row in Python; on a notice day's 40,000
    outbox rows that was a third of the insert on SQLite (1.55 s against 0.94 s, measured). Here each
    column's conversion runs once per distinct value (the rows share their timestamps) and the driver
    gets the statement as its own SQL. Errors still come as SQLAlchemy's (an IntegrityError is one)
    and statement events still fire.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    compiled = insert(table).compile(dialect=dialect, column_keys=keys)
    names = list(compiled.positiontup) if compiled.positiontup is not None else list(compiled.binds)
    if sorted(names) != sorted(keys):
        raise ValueError(f"insert into {table.name}: the rows must give {sorted(set(names) - set(keys))}")
    converters: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = [
        (n, convert, {}) for n, key in enumerate(names)
        if (convert := table.c[key].type.dialect_impl(dialect).bind_processor(dialect)) is not None]
    pick = itemgetter(*names)
    params: list[Any] = []
    for row in rows:
        values = list(pick(row)) if len(names) > 1 else [pick(row)]
        for n, process, done in converters:
            raw = values[n]
            if raw is not None:
                if raw not in done:
                    done[raw] = process(raw)
                values[n] = done[raw]
        params.append(tuple(values) if dialect.positional else dict(zip(names, values, strict=True)))
    with _prepared(session):
        connection.exec_driver_sql(str(compiled), params)


def _alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision; safe to run on every start. A SQLite file is created
    first, private to the service's account."""
    from alembic import command

    if engine.dialect.name == "sqlite":
        from reminder_service.services.db.urls import sqlite_file

        path = sqlite_file(engine.url)
        if path is not None and engine.url.query.get("mode") != "ro":
            _create_private(path)

    try:
        command.upgrade(_alembic_config(engine), "head")
    except DBAPIError as exc:
        # The driver's own words, which may quote the host or the database name: never the password.
        url = engine.url.render_as_string(hide_password=False)
        raise UserError(
            f"không kết nối hoặc không nâng cấp được cơ sở dữ liệu {shown(url)} ({scrub(str(exc.orig), url)}); "
            "hãy kiểm tra [database].url hoặc REMINDER_SERVICE_DATABASE_URL và máy chủ cơ sở dữ liệu."
        ) from None


def alembic_head(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def missing_file(engine: Engine) -> Path | None:
    """The SQLite file the URL names when it does not exist yet; connecting would create it empty."""
    if engine.dialect.name != "sqlite":
        return None

    path = sqlite_file(engine.url)
    return path if path is not None and not path.exists() else None


def is_current(engine: Engine) -> bool:
    """Whether the database exists at the newest schema (False for an empty database, or a SQLite file
    that does not exist, which is then not created: a read must leave no empty file behind)."""
    if missing_file(engine) is not None:
        return False
    with engine.connect() as connection:
        try:
            version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except (OperationalError, ProgrammingError):
            return False
    return version == SCHEMA_HEAD
