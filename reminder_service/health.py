"""``reminder-service health``: is the service doing its job? Facts in, checks out.

``gather`` collects the facts (``read_database`` here, the register folder, the channel probes in
``reminder_service.probes``) for the command and for the console's «Vận hành» (``webserver.health_of``,
with a shorter probe timeout); ``evaluate`` is pure: given the facts and ``now`` it returns one check per
concern, each ok / warning / failure with a Vietnamese line, in the order an operator reads them.
Times are Vietnamese wall-clock time, as the database stores them.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from calendars.workdays import WorkCalendar
from reminder_service.app import App
from reminder_service.domain.clock import wall
from reminder_service.domain.errors import UserError
from reminder_service.domain.escalation.policy import Stage
from reminder_service.services.db.engine import SCHEMA_HEAD, is_current
from reminder_service.services.db.models import DeliveryAttempt, OutboxMessage, Person
from reminder_service.services.db.urls import scrub, shown
from reminder_service.services.present.elapsed import duration
from reminder_service.services.registry.people import ROLE_LABELS
from reminder_service.services.watch import LAST_IMPORT, LAST_TICK, state_moments

State = Literal["ok", "warning", "failure"]
STATES: tuple[State, ...] = ("ok", "warning", "failure")
_MAX_ERROR = 200


@dataclass(frozen=True)
class Thresholds:
    max_tick_age: timedelta = timedelta(minutes=15)  # three missed ticks of five minutes
    backlog_warning: timedelta = timedelta(minutes=10)
    backlog_failure: timedelta = timedelta(minutes=60)
    dead_window: timedelta = timedelta(days=7)
    intake_working_days: int = 2


@dataclass(frozen=True)
class OutboxFacts:
    due: int = 0  # pending rows whose next attempt is due
    oldest_due: datetime | None = None
    expired: int = 0  # rows left in "sending" by a sender whose lease ran out
    oldest_expired: datetime | None = None  # the earliest lease end among them
    dead: int = 0  # rows that gave up within the dead window
    latest_dead_at: datetime | None = None
    latest_dead_error: str | None = None


@dataclass(frozen=True)
class DatabaseFacts:
    schema_current: bool
    last_tick: datetime | None = None
    last_import: datetime | None = None
    outbox: OutboxFacts = field(default_factory=OutboxFacts)


@dataclass(frozen=True)
class FolderFacts:
    """The configured incoming-register folder, as this process sees it."""

    path: str
    exists: bool
    writable: bool


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    state: State
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    database_url: str  # with any password hidden
    schema: str
    database: DatabaseFacts | None  # None: the database could not be read
    database_error: str | None = None
    folder: FolderFacts | None = None  # None: no [register] watch_dir
    channels: tuple[Check, ...] = ()  # the probes' results, already checks
    # Whether e-mail or Telegram is configured: with neither, every message only goes to the console.
    real_channel: bool = True
    # (stage, role) of every ladder stage naming a role that no active person holds.
    unheld_roles: tuple[tuple[str, str], ...] = ()


def _stamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def _when(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y %H:%M")


def _minutes(span: timedelta) -> float:
    return round(max(span, timedelta()).total_seconds() / 60, 1)


def shorten(text: str | None, limit: int = _MAX_ERROR) -> str | None:
    if text is None:
        return None
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def overall(checks: Sequence[Check]) -> State:
    return max((c.state for c in checks), key=STATES.index, default="ok")


def _database(facts: Facts) -> Check:
    details: dict[str, Any] = {"url": facts.database_url, "schema": facts.schema, "schema_current": None,
                               "error": None}
    if facts.database is None:
        return Check("database", "Cơ sở dữ liệu", "failure",
                     f"Không mở được cơ sở dữ liệu {facts.database_url} ({facts.database_error}); hãy kiểm tra "
                     "[database].url hoặc REMINDER_SERVICE_DATABASE_URL và máy chủ cơ sở dữ liệu.",
                     {**details, "error": facts.database_error})
    details["schema_current"] = facts.database.schema_current
    if not facts.database.schema_current:
        return Check("database", "Cơ sở dữ liệu", "failure",
                     f"Cơ sở dữ liệu chưa được khởi tạo hoặc chưa nâng cấp lên lược đồ {facts.schema}; "
                     "hãy chạy: reminder-service init.", details)
    return Check("database", "Cơ sở dữ liệu", "ok",
                 f"Kết nối được; lược đồ mới nhất ({facts.schema}).", details)


def _last_tick(db: DatabaseFacts, now: datetime, limits: Thresholds) -> Check:
    details: dict[str, Any] = {"last_tick": _stamp(db.last_tick), "age_minutes": None,
                               "max_minutes": _minutes(limits.max_tick_age)}
    if db.last_tick is None:
        return Check("last_tick", "Lượt xử lý gần nhất", "failure",
                     "Dịch vụ chưa chạy lượt xử lý nào; hãy khởi động dịch vụ (reminder-service run).", details)
    age = now - db.last_tick
    details["age_minutes"] = _minutes(age)
    if age > limits.max_tick_age:
        return Check("last_tick", "Lượt xử lý gần nhất", "failure",
                     f"Lượt xử lý gần nhất lúc {_when(db.last_tick)}, cách đây {duration(age)} (quá "
                     f"{duration(limits.max_tick_age)}); dịch vụ có thể đã dừng: hãy kiểm tra "
                     "systemctl status reminder-service.", details)
    return Check("last_tick", "Lượt xử lý gần nhất", "ok",
                 f"Lúc {_when(db.last_tick)}, cách đây {duration(age)}.", details)


def _outbox(db: DatabaseFacts, now: datetime, limits: Thresholds) -> Check:
    box = db.outbox
    waits = [now - t for t in (box.oldest_due, box.oldest_expired) if t is not None]
    oldest = max(waits, default=timedelta())
    details = {"due": box.due, "oldest_due": _stamp(box.oldest_due), "expired_leases": box.expired,
               "oldest_wait_minutes": _minutes(oldest)}
    if box.due == 0 and box.expired == 0:
        return Check("outbox", "Hàng đợi gửi", "ok", "Không có tin nào đến hạn mà chưa gửi.", details)
    parts = [f"{box.due} tin đến hạn chưa gửi"] if box.due else []
    if box.expired:
        parts.append(f"{box.expired} tin đang gửi đã hết thời hạn giữ (tiến trình gửi có thể đã dừng giữa chừng)")
    text = "; ".join(parts) + f"; tin chờ lâu nhất đã chờ {duration(oldest)}"
    if oldest > limits.backlog_failure:
        return Check("outbox", "Hàng đợi gửi", "failure",
                     f"{text} (quá {duration(limits.backlog_failure)}): hãy kiểm tra dịch vụ và các kênh gửi.",
                     details)
    if oldest > limits.backlog_warning or box.expired:
        return Check("outbox", "Hàng đợi gửi", "warning",
                     f"{text} (ngưỡng cảnh báo {duration(limits.backlog_warning)}).", details)
    return Check("outbox", "Hàng đợi gửi", "ok", f"{text}; đang được gửi.", details)


def _dead(db: DatabaseFacts, limits: Thresholds) -> Check:
    box = db.outbox
    days = limits.dead_window.days
    details = {"count": box.dead, "days": days, "latest_at": _stamp(box.latest_dead_at),
               "latest_error": shorten(box.latest_dead_error)}
    if box.dead == 0:
        return Check("dead_letters", "Tin gửi thất bại", "ok", f"Không có tin gửi thất bại trong {days} ngày qua.",
                     details)
    latest = f" lúc {_when(box.latest_dead_at)}" if box.latest_dead_at is not None else ""
    return Check("dead_letters", "Tin gửi thất bại", "warning",
                 f"{box.dead} tin gửi thất bại trong {days} ngày qua; lỗi gần nhất{latest}: "
                 f"{shorten(box.latest_dead_error) or 'không rõ'}. Xem: reminder-service outbox list --state dead; "
                 "sau khi khắc phục: reminder-service outbox retry --all-dead.", details)


def _intake(folder: FolderFacts, db: DatabaseFacts | None, now: datetime, limits: Thresholds,
            workdays: WorkCalendar) -> Check:
    imported = db.last_import if db is not None else None
    details: dict[str, Any] = {"folder": folder.path, "exists": folder.exists, "writable": folder.writable,
                               "last_import": _stamp(imported), "working_days_since": None}
    problems: list[str] = []
    state: State = "ok"
    if not folder.exists:
        state = "failure"
        problems.append(f"Thư mục sổ văn bản đến {folder.path} không tồn tại; hãy tạo thư mục hoặc sửa "
                        "[register].watch_dir")
    elif not folder.writable:
        state = "failure"
        problems.append(f"Không có quyền ghi vào thư mục {folder.path}, nên không chuyển được tệp đã nhập; "
                        "hãy cấp quyền ghi cho tài khoản chạy dịch vụ")
    if db is None:
        pass  # the database line already says why the last import is unknown
    elif imported is None:
        state = "failure" if state == "failure" else "warning"
        problems.append("Chưa có lần nhập sổ văn bản đến nào thành công; các bậc nhắc quá hạn sẽ chờ đến "
                        "khi nhập được")
    else:
        since = workdays.working_days_between(imported.date(), now.date())
        details["working_days_since"] = since
        if since > limits.intake_working_days:
            state = "failure" if state == "failure" else "warning"
            problems.append(f"Lần nhập thành công gần nhất lúc {_when(imported)}, đã {since} ngày làm việc "
                            f"(quá {limits.intake_working_days} ngày); hãy kiểm tra việc xuất sổ văn bản đến "
                            "vào thư mục")
        elif state == "ok":
            problems.append(f"Thư mục {folder.path}; lần nhập thành công gần nhất lúc {_when(imported)}")
    if not problems:
        problems.append(f"Thư mục {folder.path} sẵn sàng")
    return Check("intake", "Sổ văn bản đến", state, "; ".join(problems) + ".", details)


def evaluate(facts: Facts, now: datetime, workdays: WorkCalendar, limits: Thresholds = Thresholds()) -> list[Check]:
    """Every check, in reading order; ``now`` is any aware or naive Vietnamese time."""
    local = wall(now)
    checks = [_database(facts)]
    db = facts.database if facts.database is not None and facts.database.schema_current else None
    if db is not None:
        checks += [_last_tick(db, local, limits), _outbox(db, local, limits), _dead(db, limits)]
    if facts.folder is not None:
        checks.append(_intake(facts.folder, db, local, limits, workdays))
    else:
        checks.append(Check("intake", "Sổ văn bản đến", "ok",
                            "Không cấu hình thư mục sổ văn bản đến ([register].watch_dir); không kiểm tra.",
                            {"folder": None}))
    checks.extend(facts.channels)
    if not facts.real_channel:
        checks.append(Check("delivery", "Kênh gửi", "failure",
                            "Chưa cấu hình kênh gửi thật: không có máy chủ thư ([email]) và Telegram chưa bật "
                            "([telegram]); mọi tin nhắn chỉ in ra màn hình, không ai nhận được. Hãy cấu hình ít nhất "
                            "một kênh.", {"real_channel": False}))
    if facts.unheld_roles:
        stages_of: dict[str, list[str]] = {}
        for stage, role in facts.unheld_roles:
            stages_of.setdefault(role, []).append(stage)
        listed = "; ".join(f"{ROLE_LABELS.get(role, role).lower()} ({role}) ở bước {', '.join(stages)}"
                           for role, stages in stages_of.items())
        checks.append(Check("roles", "Người nhận theo bước nhắc", "warning",
                            f"Các bước nhắc sau gửi cho vai trò chưa có người nào đang hoạt động: {listed}. "
                            "Hãy thêm người (reminder-service people add) hoặc sửa [escalation].",
                            {"unheld": [f"{stage}:{role}" for stage, role in facts.unheld_roles]}))
    return checks


def unheld_roles(stages: Sequence[Stage], held: Collection[str]) -> tuple[tuple[str, str], ...]:
    """(stage, role) for each role a stage names that no active person holds. Pure."""
    return tuple((stage.name, role) for stage in stages for role in stage.roles if role not in held)


# -- reading the database's facts ------------------------------------------------------------------


def read_database(session: Session, now: datetime, limits: Thresholds = Thresholds()) -> DatabaseFacts:
    """The facts of a database already known to be at the current schema."""
    local = wall(now)
    state = state_moments(session, LAST_TICK, LAST_IMPORT)
    box = OutboxMessage
    due, oldest_due = session.execute(
        select(func.count(), func.min(box.next_attempt_at)).where(box.state == "pending",
                                                                  box.next_attempt_at <= local)).one()
    expired, oldest_expired = session.execute(
        select(func.count(), func.min(box.lease_until)).where(box.state == "sending", box.lease_until < local)).one()
    # When a row gave up: its last "dead" attempt (a retried row may have given up before).
    died = (select(DeliveryAttempt.outbox_id, func.max(DeliveryAttempt.at).label("at"))
            .where(DeliveryAttempt.outcome == "dead").group_by(DeliveryAttempt.outbox_id).subquery())
    when = func.coalesce(died.c.at, box.created_at)
    recent = (select(box.last_error, when.label("at")).outerjoin(died, died.c.outbox_id == box.id)
              .where(box.state == "dead", when >= local - limits.dead_window))
    dead = session.scalar(select(func.count()).select_from(recent.subquery())) or 0
    latest = session.execute(recent.order_by(when.desc(), box.id.desc()).limit(1)).first()
    return DatabaseFacts(
        schema_current=True, last_tick=state[LAST_TICK],
        last_import=state[LAST_IMPORT],
        outbox=OutboxFacts(due=due, oldest_due=oldest_due, expired=expired, oldest_expired=oldest_expired, dead=dead,
                           latest_dead_at=latest.at if latest is not None else None,
                           latest_dead_error=latest.last_error if latest is not None else None),
    )


def held_roles(session: Session) -> set[str]:
    """The roles at least one active person holds."""
    return set(session.scalars(select(Person.role).where(Person.active.is_(True)).distinct()))


# --- gathering the facts (the command line and the console) ---------------------------------------


def _error_text(exc: BaseException, url: str) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = (scrub(str(cause), url).strip().splitlines() or [""])[0]
    return shorten(f"{type(cause).__name__}: {first}" if first else type(cause).__name__) or ""


def _read_facts(app: App, now: datetime, limits: Thresholds) -> tuple[str, DatabaseFacts | None, str | None]:
    """The database's facts, or why they could not be read; never raises."""
    try:
        engine = app.engine
    except (UserError, OSError) as exc:  # the message shows the URL already, without its password
        return "(không tạo được kết nối)", None, str(exc).rstrip(".")
    url = shown(app.config.database_url)
    try:
        if not is_current(engine):
            return url, DatabaseFacts(schema_current=False), None
        with app.session() as session:
            return url, read_database(session, now, limits), None
    except Exception as exc:  # any failure to read is what this command reports, not a traceback
        return url, None, _error_text(exc, app.config.database_url)


def _unheld(app: App) -> tuple[tuple[str, str], ...]:
    policy = app.config.escalation
    try:
        with app.session() as session:
            held = held_roles(session)
    except Exception:  # the database check above already says why it cannot be read
        return ()
    return unheld_roles((*policy.stages, *policy.incomplete_stages), held)


def _folder(app: App) -> FolderFacts | None:
    folder = app.config.watch_dir
    if folder is None:
        return None
    exists = folder.is_dir()
    return FolderFacts(str(folder), exists, exists and os.access(folder, os.W_OK | os.X_OK))


def gather(app: App, now: datetime, limits: Thresholds = Thresholds(), *, probe_seconds: float = 5.0,
           channels: tuple[Check, ...] | None = None) -> Facts:
    """Every fact the checks need, from the database, the folder and the channels; never raises.
    ``channels``: the channels' probes made already (the console keeps them a minute); None probes now."""
    if channels is None:
        from reminder_service.probes import probe_channels

        channels = probe_channels(app.config, wait=probe_seconds)
    url, database, error = _read_facts(app, now, limits)
    return Facts(database_url=url, schema=SCHEMA_HEAD, database=database, database_error=error,
                 folder=_folder(app), channels=channels,
                 # A configured installation (a config file) with neither channel is a server messaging nobody;
                 # the demo without a config file prints to the console by design.
                 real_channel=(app.config.email.configured or app.config.telegram.enabled
                               or app.config.path is None),
                 unheld_roles=_unheld(app) if database is not None and database.schema_current else ())
