"""«Vận hành», the receiving office's alone: the checks of `reminder-service health`, the outbox (counts by
state and channel, the messages that gave up and sending them again), the last tick and register import,
and the watched register folder.

The checks come from the process (``Console.health``: this adapter may not import ``health``); they probe
the mail server and Telegram with a short timeout, in a worker thread, after the database has been read.
Sending again goes through ``outbox.admin.retry_dead`` as `outbox retry` does, audited with the person.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from reminder_service.adapters.web import flash
from reminder_service.adapters.web.actions import web_actor
from reminder_service.adapters.web.auth import console_of, form_of, guarded
from reminder_service.adapters.web.context import Console
from reminder_service.adapters.web.pages import NavItem, render
from reminder_service.domain.clock import wall
from reminder_service.domain.escalation.policy import CHANNEL_NAMES
from reminder_service.services.outbox.admin import STATES, RetryResult, dead_letters, retry_dead, state_counts
from reminder_service.services.present.delivery_errors import hint
from reminder_service.services.present.elapsed import ago
from reminder_service.services.present.words import CHANNEL_WORDS, OUTBOX_STATE_WORDS
from reminder_service.services.watch import LAST_IMPORT, LAST_TICK, folder_view, state_moments

NAV = (NavItem("/van-hanh", "Vận hành", need="operate"),)
PATH = "/van-hanh"
DEAD_SHOWN = 50
CHECK_WORDS = {"ok": "Đạt", "warning": "Cảnh báo", "failure": "Lỗi"}
CHECK_MARKS = {"ok": "✓", "warning": "!", "failure": "✗"}


def _values(console: Console, fresh: bool) -> dict[str, Any]:
    now = wall(console.clock())
    with console.workspace.session() as session:
        counts = state_counts(session)
        dead, dead_total = dead_letters(session, limit=DEAD_SHOWN)
        moments = state_moments(session, LAST_TICK, LAST_IMPORT)
    # After the database work, outside its transaction: the probes take up to a few seconds.
    checks = list(console.health(now, fresh)) if console.health is not None else None
    channels = sorted({channel for _, channel in counts}, key=lambda c: (c not in CHANNEL_NAMES, c))
    return {
        "now": now, "checks": checks, "check_words": CHECK_WORDS, "check_marks": CHECK_MARKS,
        "counts": counts, "channels": channels, "states": STATES,
        "totals": {state: sum(n for (s, _), n in counts.items() if s == state) for state in STATES},
        "dead": [(row, hint(row.last_error)) for row in dead], "dead_total": dead_total,
        "dead_by_channel": {ch: counts[("dead", ch)] for ch in channels if counts.get(("dead", ch))},
        "tick": moments[LAST_TICK], "tick_ago": ago(moments[LAST_TICK], now),
        "imported": moments[LAST_IMPORT], "imported_ago": ago(moments[LAST_IMPORT], now),
        "folder": folder_view(console.watch_dir) if console.watch_dir is not None else None,
        "state_words": OUTBOX_STATE_WORDS, "channel_words": CHANNEL_WORDS,
    }


@guarded("operate")
async def operations_page(request: Request) -> Response:
    # «Kiểm tra lại» asks the mail server and Telegram afresh; otherwise their last answer (a minute) stands.
    values = await run_in_threadpool(_values, console_of(request), request.query_params.get("kiem_tra") == "1")
    return render(request, "operations.html", values)


def retry_request(wanted: str, channel: str) -> tuple[list[int] | None, str | None] | str:
    """The form's one choice, a message's number («tin») or a channel («kenh»), as retry_dead's ids and
    channel; or the sentence that says what is wrong. Pure."""
    wanted, channel = wanted.strip(), channel.strip()
    if wanted and channel:
        return "Hãy chọn một tin hoặc một kênh để gửi lại, không chọn cả hai."
    if wanted:
        if not wanted.isdigit() or len(wanted) > 9 or int(wanted) == 0:
            return f"«{wanted[:20]}» không phải số của một tin. Hãy bấm «Gửi lại» ở dòng của tin đó."
        return [int(wanted)], None
    if channel in CHANNEL_NAMES:
        return None, channel
    if channel:
        return f"Không có kênh gửi «{channel[:20]}». Hãy bấm nút gửi lại của một kênh trên trang."
    return "Hãy chọn một tin hoặc một kênh để gửi lại."


def retry_notice(result: RetryResult, channel: str | None) -> tuple[str, str]:
    """What the page says after sending again, as (kind, sentence). Pure."""
    if result.missing:
        return "error", (f"Không có tin số {result.missing[0]} (có thể đã được dọn khỏi hàng đợi); "
                         "chưa thay đổi tin nào.")
    if result.refused:
        number, state = result.refused[0]
        return "error", (f"Tin số {number} đang ở trạng thái «{OUTBOX_STATE_WORDS.get(state, state)}», không còn "
                         "thất bại (có thể đã được gửi lại); chưa thay đổi tin nào.")
    which = f" qua {CHANNEL_WORDS.get(channel, channel)}" if channel else ""
    if not result.retried:
        return "error", f"Không có tin thất bại nào{which} để gửi lại; chưa thay đổi tin nào."
    what = (f"tin số {result.retried[0]}" if len(result.retried) == 1 and channel is None
            else f"{len(result.retried)} tin thất bại{which}")
    return "ok", (f"Đã đưa {what} trở lại hàng đợi, số lần thử đặt lại về 0; dịch vụ gửi ở lượt gửi tới "
                  "(vài giây, khi dịch vụ đang chạy).")


@guarded("operate")
async def retry(request: Request) -> Response:
    console = console_of(request)
    form = await form_of(request)
    actor = web_actor(request)
    asked = retry_request(str(form.get("tin") or ""), str(form.get("kenh") or ""))
    if isinstance(asked, str):
        kind, notice = "error", asked
    else:
        ids, channel = asked

        def run() -> RetryResult:
            with console.workspace.session() as session:
                return retry_dead(session, ids=ids, channel=channel, actor=actor, now=console.clock())

        kind, notice = retry_notice(await run_in_threadpool(run), channel)
    # Back to the top of the page, where the notice is shown (an anchor further down would hide it).
    return flash.leave(RedirectResponse(PATH, status_code=303), notice, kind=kind, secure=console.secure)


ROUTES = [
    Route(PATH, operations_page),
    Route(f"{PATH}/gui-lai", retry, methods=["POST"]),
]
