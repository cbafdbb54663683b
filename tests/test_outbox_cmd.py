"""`reminder-service outbox list|retry|purge` on SQLite and PostgreSQL: filters, sending dead rows again
(and the next dispatch delivering them), refusing anything not dead, and a purge that only ever removes
finished history."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from reminder_service.app import App
from reminder_service.services.db.models import AuditEntry, DeliveryAttempt, OutboxMessage
from tests.conftest import Cli
from tests.district import HEAD, RECEIVER, district
from tests.fakes.bot_api import Failure, FakeBotApi

TOKEN = "123456:TEST-token-for-the-outbox-commands"
HEAD_CHAT = 7001
OLD = datetime(2021, 2, 1, 9, 0)
RECENT = datetime(2021, 3, 16, 9, 0)


def _row(app: App, state: str, channel: str = "email", at: datetime = OLD, *, attempts: int = 0,
         error: str | None = None) -> int:
    """An outbox row as the dispatcher leaves it, with one recorded attempt per try."""
    with app.session() as session:
        row = OutboxMessage(
            dedupe_key=f"test:{state}:{channel}:{at.isoformat()}:{attempts}", stage="overdue", channel=channel,
            address="an@songlam.example" if channel == "email" else "7001", state=state, attempts=attempts,
            next_attempt_at=at, last_error=error, created_at=at, sent_at=at if state == "sent" else None,
            lease_until=at if state == "sending" else None)
        session.add(row)
        session.flush()
        outcome = {"sent": "sent", "dead": "dead"}.get(state, "retry")
        session.add_all(DeliveryAttempt(outbox_id=row.id, attempt=n, at=at, outcome=outcome, worker="test")
                        for n in range(1, attempts + 1))
        return row.id


def _states(app: App) -> dict[int, str]:
    with app.session() as session:
        return {row_id: state for row_id, state in session.execute(select(OutboxMessage.id, OutboxMessage.state))}


def _attempts(app: App) -> int:
    with app.session() as session:
        return int(session.scalar(select(func.count()).select_from(DeliveryAttempt)) or 0)


def _audit(app: App, action: str) -> list[dict[str, Any]]:
    with app.session() as session:
        return [json.loads(d) for d in session.scalars(select(AuditEntry.details).where(AuditEntry.action == action))]


def test_list_filters_by_state_and_channel_newest_first(db_cli: Cli, app: App) -> None:
    sent = _row(app, "sent", attempts=1)
    dead = _row(app, "dead", "telegram", attempts=8, error="Telegram: BadRequest: chat not found " + "x" * 200)
    pending = _row(app, "pending", at=RECENT)
    result = db_cli("outbox", "list")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == "HÀNG ĐỢI TIN GỬI ĐI: 3 tin."
    assert [line.split()[0] for line in lines[4:]] == [str(pending), str(dead), str(sent)]
    assert "16/03/2021 09:00" in lines[4] and "Telegram: BadRequest: chat not found xxx" in lines[5]
    assert "x" * 60 not in result.out  # the last error is shortened in the table
    only_dead = db_cli("outbox", "list", "--state", "dead", "--format", "json")
    records = json.loads(only_dead.out)
    assert [r["id"] for r in records] == [dead] and records[0]["state"] == "dead" and records[0]["attempts"] == 8
    assert records[0]["last_error"].endswith("x" * 200) and records[0]["next_attempt_at"] is None
    assert set(records[0]) >= {"channel", "recipient", "address", "stage", "unit", "obligation", "year"}
    email = json.loads(db_cli("outbox", "list", "-c", "email", "-f", "json").out)
    assert [r["id"] for r in email] == [pending, sent]
    assert json.loads(db_cli("outbox", "list", "-c", "email", "-f", "json").out)[0]["next_attempt_at"] == (
        "2021-03-16T09:00:00+07:00")
    limited = db_cli("outbox", "list", "--limit", "2")
    assert limited.out.startswith("HÀNG ĐỢI TIN GỬI ĐI: 2 tin mới nhất trong 3 tin.")
    none = db_cli("outbox", "list", "--state", "sending")
    assert none.out == "Không có tin nào trong hàng đợi gửi (trạng thái đang gửi (sending)).\n"
    bad = db_cli("outbox", "list", "--state", "failed")
    assert bad.code == 2 and "pending, sending, sent, dead, skipped" in bad.err
    assert db_cli("outbox", "list", "--limit", "many").code == 2


def test_a_dead_telegram_message_sent_again_is_delivered_by_the_next_pass(
    db_cli: Cli, app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    district(app, {**HEAD, "telegram_chat_id": str(HEAD_CHAT)}, RECEIVER)
    monkeypatch.setenv("REMINDER_SERVICE_TELEGRAM_TOKEN", TOKEN)
    with FakeBotApi(token=TOKEN) as bot:
        config = tmp_path / "config.toml"
        config.write_text(f'[telegram]\nenabled = true\nbase_url = "{bot.base_url}"\n', encoding="utf-8")
        bot.fail_chat(HEAD_CHAT, Failure.chat_not_found())
        assert db_cli("--config", str(config), "run", "--once", "--at", "16/03/2021 09:00").code == 0
        dead = json.loads(db_cli("outbox", "list", "--state", "dead", "-f", "json").out)
        ids = sorted(r["id"] for r in dead)
        assert {(r["unit"], r["recipient"], r["channel"]) for r in dead} == {("XA_AN_BINH", HEAD["name"], "telegram")}
        assert "q1" in {r["obligation"] for r in dead} and all("Chat not found" in r["last_error"] for r in dead)
        health = db_cli("--config", str(config), "health", "--at", "16/03/2021 09:05")
        assert health.code == 0 and f"{len(ids)} tin gửi thất bại trong 7 ngày qua" in health.out

        bot.clear_failures()
        retried = db_cli("outbox", "retry", *map(str, ids), "--at", "16/03/2021 09:10")
        assert retried.code == 0, retried.err
        assert retried.out.startswith(f"Đã đưa {len(ids)} tin thất bại trở lại hàng đợi")
        pending = json.loads(db_cli("outbox", "list", "--state", "pending", "-f", "json").out)
        assert sorted((r["id"], r["attempts"], r["next_attempt_at"]) for r in pending) == [
            (i, 0, "2021-03-16T09:10:00+07:00") for i in ids]
        assert _audit(app, "outbox_retried")[0]["ids"] == ids
        assert db_cli("--config", str(config), "run", "--once", "--at", "16/03/2021 09:10").code == 0
        assert any("Quý I/2021" in c.params["text"] for c in bot.sent(chat_id=HEAD_CHAT))
    states = _states(app)
    assert [states[i] for i in ids] == ["sent"] * len(ids)
    assert db_cli("outbox", "list", "--state", "dead").out.startswith("Không có tin nào")


def test_retry_refuses_rows_that_are_not_dead_and_changes_nothing(db_cli: Cli, app: App) -> None:
    dead = _row(app, "dead", attempts=8, error="550 no such user")
    sent = _row(app, "sent", attempts=1)
    pending = _row(app, "pending", at=RECENT)
    before = _states(app)
    mixed = db_cli("outbox", "retry", str(dead), str(sent), str(pending), "999")
    assert mixed.code == 2 and "Traceback" not in mixed.err
    assert "không có tin số 999" in mixed.err
    assert f"tin số {sent} đang ở trạng thái đã gửi (sent), không phải thất bại (dead)" in mixed.err
    assert f"tin số {pending} đang ở trạng thái chờ gửi (pending)" in mixed.err
    assert "chưa thay đổi tin nào" in mixed.err
    assert _states(app) == before and _audit(app, "outbox_retried") == []
    assert db_cli("outbox", "retry").code == 2
    assert db_cli("outbox", "retry", "abc").code == 2
    both = db_cli("outbox", "retry", str(dead), "--all-dead")
    assert both.code == 2 and "không dùng cả hai" in both.err
    assert db_cli("outbox", "retry", str(dead), "--channel", "email").code == 2
    assert _states(app) == before


def test_retry_all_dead_of_one_channel(db_cli: Cli, app: App) -> None:
    email = [_row(app, "dead", "email", attempts=8), _row(app, "dead", "email", RECENT, attempts=3)]
    telegram = _row(app, "dead", "telegram", attempts=1)
    result = db_cli("outbox", "retry", "--all-dead", "--channel", "email")
    assert result.code == 0 and result.out.startswith("Đã đưa 2 tin thất bại")
    states = _states(app)
    assert [states[i] for i in email] == ["pending", "pending"] and states[telegram] == "dead"
    again = db_cli("outbox", "retry", "--all-dead", "--channel", "email")
    assert again.code == 0 and again.out == "Không có tin thất bại nào của kênh E-mail để gửi lại.\n"
    assert db_cli("outbox", "retry", "--all-dead").out.startswith("Đã đưa 1 tin thất bại")
    assert _audit(app, "outbox_retried")[0] == {"all_dead": True, "channel": "email", "ids": email}


def test_purge_is_a_dry_run_without_yes_and_never_touches_unfinished_rows(db_cli: Cli, app: App) -> None:
    old_sent = _row(app, "sent", attempts=2)
    old_skipped = _row(app, "skipped", "telegram")
    recent_sent = _row(app, "sent", at=RECENT, attempts=1)
    kept = {recent_sent: "sent", _row(app, "pending"): "pending", _row(app, "dead", attempts=8): "dead",
            _row(app, "sending"): "sending"}
    dry = db_cli("outbox", "purge", "--sent-before", "01/03/2021")
    assert dry.code == 0
    assert dry.out.startswith("Sẽ xóa 2 tin trước ngày 01/03/2021 (1 đã gửi, 1 bỏ qua) cùng 2 lượt gửi đã ghi.")
    assert "--yes" in dry.out
    assert len(_states(app)) == 6 and _attempts(app) == 11 and _audit(app, "outbox_purged") == []
    done = db_cli("outbox", "purge", "--sent-before", "2021-03-01", "--yes")
    assert done.code == 0 and done.out.startswith("Đã xóa 2 tin trước ngày 01/03/2021")
    states = _states(app)
    assert old_sent not in states and old_skipped not in states and states == kept
    assert _attempts(app) == 9  # the dead row's eight and the recent one's
    assert _audit(app, "outbox_purged")[0]["sent"] == 1
    nothing = db_cli("outbox", "purge", "--sent-before", "01/03/2021", "--yes")
    assert nothing.out == "Không có tin đã gửi hoặc bỏ qua nào trước ngày 01/03/2021; không có gì để xóa.\n"
    everything = db_cli("outbox", "purge", "--sent-before", "01/01/2026", "--yes")
    assert everything.out.startswith("Đã xóa 1 tin") and set(_states(app).values()) == {"pending", "dead", "sending"}


def test_purge_refuses_a_date_after_today_or_none(db_cli: Cli) -> None:
    future = db_cli("outbox", "purge", "--sent-before", "01/01/2099", "--yes")
    assert future.code == 2 and "là ngày sau hôm nay" in future.err
    assert db_cli("outbox", "purge").code == 2
    assert db_cli("outbox", "purge", "--sent-before", "31/02/2021").code == 2
