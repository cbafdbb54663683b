"""The callback data the service's inline buttons carry, in one place: ``<prefix>:<id>``.

Telegram limits callback data to 64 bytes; a prefix and a decimal id stay far below. ``decode`` reads
whatever a client sends back (an old button, a forged press, junk) and never raises: what it cannot
read is None, and whatever it names is still checked against the database by whoever acts on it.
"""

from __future__ import annotations

import re
from functools import lru_cache

from reminder_service.domain.escalation.policy import UNIT_ROLES

# Inline buttons under a Telegram message: rows of (label, callback data). Other channels ignore them.
Buttons = tuple[tuple[tuple[str, str], ...], ...]

# Under a reminder to the unit's own people: "the unit has sent the report" (a claim, not a submission).
CLAIM = "claim"
# Under every reminder: show the obligation's details.
DETAIL = "detail"
# Under the claim notice to the receiver: confirm receipt (records a submission) or reject the claim.
CLAIM_CONFIRM = "claimok"
CLAIM_REJECT = "claimno"
PREFIXES = frozenset({CLAIM, DETAIL, CLAIM_CONFIRM, CLAIM_REJECT})

MAX_BYTES = 64  # Telegram's limit on callback data
_DATA = re.compile(r"([a-z]{1,20}):([1-9][0-9]{0,17})")

# Button labels (what the person reads).
CLAIM_LABEL = "Đã gửi"
DETAIL_LABEL = "Chi tiết"
CONFIRM_LABEL = "Xác nhận đã nhận"
REJECT_LABEL = "Chưa nhận được"


def encode(prefix: str, ident: int) -> str:
    """``claim:42``. Raises ValueError for an unknown prefix or an id that is not a positive integer:
    that is a bug of ours, never a user's input."""
    if prefix not in PREFIXES:
        raise ValueError(f"unknown callback prefix {prefix!r}")
    if isinstance(ident, bool) or not isinstance(ident, int) or ident <= 0:
        raise ValueError(f"callback id must be a positive integer, not {ident!r}")
    data = f"{prefix}:{ident}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data longer than Telegram's 64 bytes")
    return data


def decode(data: object) -> tuple[str, int] | None:
    """(prefix, id) from callback data, or None for anything that is not data we made."""
    if not isinstance(data, str) or len(data) > MAX_BYTES:
        return None
    match = _DATA.fullmatch(data)
    if match is None or match.group(1) not in PREFIXES:
        return None
    return match.group(1), int(match.group(2))


@lru_cache(maxsize=256)  # a tick asks once per channel of each person, one obligation after another
def reminder_buttons(obligation_id: int, role: str) -> Buttons:
    """The buttons under a Telegram reminder: "Đã gửi" and "Chi tiết" on one row for the unit head and
    the focal officer; only "Chi tiết" for the copies to the receiver and leadership."""
    detail = (DETAIL_LABEL, encode(DETAIL, obligation_id))
    # The unit's own people may say the report was sent; copies to the office only get the details.
    if role in UNIT_ROLES:
        return (((CLAIM_LABEL, encode(CLAIM, obligation_id)), detail),)
    return ((detail,),)


def claim_decision_buttons(claim_id: int) -> Buttons:
    """The receiver's one-tap answer to a claim: confirm receipt, or say nothing has arrived."""
    return (((CONFIRM_LABEL, encode(CLAIM_CONFIRM, claim_id)), (REJECT_LABEL, encode(CLAIM_REJECT, claim_id))),)
