"""Who may see and change what: the same rule for the chat bot, the web console and the API.

Receiver (Phòng Nội vụ): sees and changes everything. Leadership: sees everything, changes nothing.
Unit head and focal officer: see their own unit only, and change nothing but through a "Đã gửi" claim.
"""

from __future__ import annotations

from dataclasses import dataclass

from reminder_service.domain.escalation.policy import UNIT_ROLES

ROLES = ("receiver", "leadership", "unit_head", "focal")
ROLE_WORDS = {"receiver": "Phòng Nội vụ (tiếp nhận)", "leadership": "Lãnh đạo", "unit_head": "Thủ trưởng đơn vị",
              "focal": "Cán bộ đầu mối"}


@dataclass(frozen=True)
class Scope:
    """Whose units a view may show: None is every unit (receiver, leadership); a unit head or focal
    officer sees their own unit only (none at all when they are attached to no unit)."""

    unit_ids: frozenset[int] | None

    @classmethod
    def everything(cls) -> Scope:
        return cls(None)

    @classmethod
    def unit(cls, unit_id: int) -> Scope:
        return cls(frozenset({unit_id}))

    @classmethod
    def of(cls, role: str, unit_id: int | None) -> Scope:
        if role in UNIT_ROLES:
            return cls.unit(unit_id) if unit_id is not None else cls(frozenset())
        return cls.everything()

    def sees(self, unit_id: int) -> bool:
        return self.unit_ids is None or unit_id in self.unit_ids


@dataclass(frozen=True)
class Viewer:
    """A signed-in person, as the console and the API see them."""

    person_id: int
    name: str
    role: str
    unit_id: int | None

    @property
    def scope(self) -> Scope:
        return Scope.of(self.role, self.unit_id)

    @property
    def writes(self) -> bool:
        """Records submissions, waivers, imports, invitations: the receiving office alone."""
        return self.role == "receiver"

    @property
    def operates(self) -> bool:
        """Sees the service's own state (health, outbox, ticks): the receiving office alone."""
        return self.role == "receiver"

    @property
    def role_words(self) -> str:
        return ROLE_WORDS.get(self.role, self.role)
