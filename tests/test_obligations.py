"""Obligations sync and ad hoc obligations, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from calendars.rules import DateRange
from reminder_service.app import App
from reminder_service.services.audit import Actor
from reminder_service.services.db.models import AuditEntry, Obligation, Submission, Unit
from reminder_service.services.obligations import add_adhoc, sync_obligations
from reminder_service.services.submissions import record_submission
from tests.conftest import Cli

NOW = datetime(2021, 1, 4, 9, 0)
ACTOR = Actor("test", "cli")


def _units(app: App) -> None:
    with app.session() as session:
        session.add_all([
            Unit(code="XA_AN_BINH", name="UBND xã An Bình", kind="commune", updated_at=NOW),
            Unit(code="TT_PHU_LOC", name="UBND thị trấn Phú Lộc", kind="commune", updated_at=NOW),
            Unit(code="VHTT", name="Phòng Văn hóa – Thông tin", kind="monitor", sections="7.1", updated_at=NOW),
        ])


def _rows(app: App, year: int = 2021) -> dict[tuple[str, str], Obligation]:
    with app.session() as session:
        rows = session.execute(select(Unit.code, Obligation).join(Unit).where(Obligation.year == year)).all()
        return {(code, o.code): o for code, o in rows}


def test_sync_materialises_each_units_obligations_from_the_calendar(app: App) -> None:
    _units(app)
    with app.session() as session:
        result = sync_obligations(session, app.calendar(2021), ACTOR, NOW)
    # Communes owe plan, q1, h1, q3, annual; a monitor q1, h1, q3, annual; supplements only on request.
    assert (result.created, result.updated, result.deactivated) == (14, 0, 0)
    rows = _rows(app)
    assert sorted(code for unit, code in rows if unit == "VHTT") == ["annual", "h1", "q1", "q3"]
    q1 = rows[("XA_AN_BINH", "q1")]
    assert (q1.nominal_deadline, q1.effective_deadline) == (date(2021, 3, 13), date(2021, 3, 15))
    assert (q1.window_start, q1.window_end) == (date(2020, 12, 15), date(2021, 3, 10))
    annual = rows[("TT_PHU_LOC", "annual")]
    assert (annual.estimate_start, annual.estimate_end) == (date(2021, 11, 15), date(2021, 12, 14))
    assert q1.title == "Báo cáo CCHC Quý I/2021" and q1.projected is False


def test_sync_is_idempotent_and_audited_once(app: App) -> None:
    _units(app)
    with app.session() as session:
        sync_obligations(session, app.calendar(2021), ACTOR, NOW)
    with app.session() as session:
        again = sync_obligations(session, app.calendar(2021), ACTOR, NOW)
        audits = session.scalar(select(func.count()).select_from(AuditEntry))
    assert (again.created, again.updated, again.deactivated, again.unchanged) == (0, 0, 0, 14)
    assert audits == 1


def test_deactivated_unit_keeps_its_history_and_comes_back(app: App) -> None:
    _units(app)
    with app.session() as session:
        sync_obligations(session, app.calendar(2021), ACTOR, NOW)
        q1 = session.scalar(select(Obligation).join(Unit).where(Unit.code == "XA_AN_BINH", Obligation.code == "q1"))
        assert q1 is not None
        record_submission(session, q1, received_at=datetime(2021, 3, 12, 10), doc_no="12/BC-UBND", note=None,
                          actor=ACTOR, now=datetime(2021, 3, 12, 11))
        session.execute(update(Unit).where(Unit.code == "XA_AN_BINH").values(active=False))
    with app.session() as session:
        result = sync_obligations(session, app.calendar(2021), ACTOR, NOW)
    assert result.deactivated == 5
    rows = _rows(app)
    assert rows[("XA_AN_BINH", "q1")].active is False
    with app.session() as session:
        assert session.scalar(select(func.count()).select_from(Submission)) == 1
        session.execute(update(Unit).where(Unit.code == "XA_AN_BINH").values(active=True))
    with app.session() as session:
        back = sync_obligations(session, app.calendar(2021), ACTOR, NOW)
    assert back.updated == 5 and _rows(app)[("XA_AN_BINH", "q1")].active is True


def test_sync_follows_a_changed_kind(app: App) -> None:
    _units(app)
    with app.session() as session:
        sync_obligations(session, app.calendar(2021), ACTOR, NOW)
        session.execute(update(Unit).where(Unit.code == "VHTT").values(kind="commune"))
    with app.session() as session:
        result = sync_obligations(session, app.calendar(2021), ACTOR, NOW)
    # The plan is new for it; the four shared reports are rewritten with the commune's terms.
    assert result.created == 1
    annual = _rows(app)[("VHTT", "annual")]
    assert annual.window_end == date(2021, 11, 20)


def test_projected_year_is_marked(app: App) -> None:
    _units(app)
    with app.session() as session:
        sync_obligations(session, app.calendar(2026), ACTOR, NOW)
    h1 = _rows(app, 2026)[("XA_AN_BINH", "h1")]
    assert h1.projected is True
    assert (h1.nominal_deadline, h1.effective_deadline) == (date(2026, 6, 13), date(2026, 6, 15))


def test_adhoc_obligation_gets_an_effective_deadline(app: App) -> None:
    _units(app)
    with app.session() as session:
        units = list(session.scalars(select(Unit).where(Unit.kind == "commune")))
        add_adhoc(session, code="adhoc1", title="Báo cáo bổ sung số liệu CCHC năm 2021", units=units, year=2021,
                  deadline=date(2021, 12, 18), window=DateRange(date(2021, 12, 1), date(2021, 12, 14)),
                  workdays=app.workdays, actor=ACTOR, now=NOW)
    row = _rows(app)[("TT_PHU_LOC", "adhoc1")]
    assert (row.nominal_deadline, row.effective_deadline) == (date(2021, 12, 18), date(2021, 12, 20))
    assert row.origin == "adhoc"
    # Sync leaves ad hoc obligations alone.
    with app.session() as session:
        sync_obligations(session, app.calendar(2021), ACTOR, NOW)
    assert _rows(app)[("TT_PHU_LOC", "adhoc1")].active is True


def test_cli_sync_and_add(db_cli: Cli, app: App) -> None:
    _units(app)
    result = db_cli("obligations", "sync", "--year", "2021", "--year", "2022")
    assert result.code == 0, result.err
    assert "Năm 2021: thêm 14" in result.out and "Năm 2022: thêm 14" in result.out
    result = db_cli("obligations", "add", "--title", "Báo cáo đột xuất về CCHC", "--kind", "commune",
                    "--deadline", "13/11/2021", "--window", "01/10/2021..31/10/2021")
    assert result.code == 0, result.err
    assert 'Đã tạo nghĩa vụ "adhoc1" năm 2021 cho 2 đơn vị' in result.out
    assert "hạn thực tế 15/11/2021" in result.out


def test_cli_add_refuses_bad_input(db_cli: Cli, app: App) -> None:
    _units(app)
    cases = [
        (("--title", "X", "--deadline", "13/11/2021"), "hãy chọn đúng một trong --units hoặc --kind"),
        (("--title", "X", "--units", "XA_KHONG_CO", "--deadline", "13/11/2021"), "không có đơn vị mã: xa_khong_co"),
        (("--title", "X", "--kind", "commune", "--deadline", "13/11/2021", "--window", "14/12/2021..01/12/2021"),
         "sau ngày kết thúc"),
        (("--title", "X", "--kind", "commune", "--deadline", "hôm nay"), "Không hiểu ngày “hôm nay”"),
    ]
    for args, expected in cases:
        result = db_cli("obligations", "add", *args)
        assert result.code == 2, args
        assert expected in result.err, (args, result.err)
    with app.session() as session:
        assert session.scalar(select(func.count()).select_from(Obligation)) == 0


def test_commands_say_to_initialise_an_empty_database(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMINDER_SERVICE_DATABASE_URL", f"sqlite:///{tmp_path}/empty.sqlite3")
    result = cli("obligations", "sync", "--year", "2021")
    assert result.code == 2
    assert "reminder-service init" in result.err
