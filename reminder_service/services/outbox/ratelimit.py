"""Per-channel send limits: an overall rate, a minimum interval per address, and pauses a server asked for.

Telegram allows about 30 messages a second overall, one a second per chat and 20 a minute per group
chat; python-telegram-bot's limiter does not do the per-chat parts, so the dispatcher and the chat bot
ask this limiter before every send.

The overall limit is a sliding-window log ("at most N sends in any window of P seconds") rather than a
refilling bucket: a bucket that starts full lets its capacity *plus* a period's refill through in one
window, and a bucket of one suffers float drift at the boundary. The log keeps the promise exactly and
still allows the full rate. Time is a monotonic float from an injectable clock; waiting goes through an
injectable sleep, so tests run on virtual time.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

# A wait shorter than this is rounded up, so a virtual clock always moves and a loop always ends.
_MIN_SLEEP = 1e-6
# While a stop may come, sleep in slices no longer than this, so a stop is noticed promptly.
_ABORT_POLL = 0.5
# Above this many remembered addresses, forget the ones whose interval has passed.
_PRUNE_ABOVE = 10_000


def is_group_chat(address: str) -> bool:
    """Telegram gives groups, supergroups and channels negative ids, people positive ones."""
    return address.strip().startswith("-")


@dataclass(frozen=True)
class ChannelLimits:
    """``max_per_period`` None: no overall limit. ``per_address_interval`` 0: none per address.
    ``group_max_per_period`` None: no limit per group chat (an address ``is_group_chat`` says is one)
    beyond the per-address interval; otherwise at most that many in any ``group_period`` seconds."""

    max_per_period: int | None = None
    period: float = 1.0
    per_address_interval: float = 0.0
    group_max_per_period: int | None = None
    group_period: float = 60.0

    def __post_init__(self) -> None:
        if self.max_per_period is not None and self.max_per_period < 1:
            raise ValueError("max_per_period must be at least 1")
        if self.group_max_per_period is not None and self.group_max_per_period < 1:
            raise ValueError("group_max_per_period must be at least 1")
        if self.period <= 0 or self.group_period <= 0 or self.per_address_interval < 0:
            raise ValueError("periods must be positive and per_address_interval not negative")

    def counts_group(self, address: str) -> bool:
        return self.group_max_per_period is not None and is_group_chat(address)


# Telegram allows 30 messages a second overall, one a second per chat and 20 a minute per group. A send
# is counted from its completion (see ``finished``), and the server received it before it answered, so
# two sends counted a full period apart also arrived at least that far apart: pacing at exactly the
# published limits never exceeds them at the server, however long each request takes. (Counting from
# the grant instead would need a margin for the time a request spends on its way, measured at 10-120 ms.)
TELEGRAM_LIMITS = ChannelLimits(max_per_period=30, period=1.0, per_address_interval=1.0,
                                group_max_per_period=20, group_period=60.0)
EMAIL_LIMITS = ChannelLimits()  # unlimited unless the mail server's policy says otherwise
DEFAULT_LIMITS: Mapping[str, ChannelLimits] = {"telegram": TELEGRAM_LIMITS, "email": EMAIL_LIMITS}


@dataclass
class _ChannelState:
    limits: ChannelLimits
    recent: deque[float]
    last_by_address: dict[str, float] = field(default_factory=dict)
    paused_until: float = -math.inf
    address_paused_until: dict[str, float] = field(default_factory=dict)
    # Granted sends whose request has not completed: they may reach the server at any moment until then.
    in_flight: dict[str, int] = field(default_factory=dict)
    # Per group chat, the completion times of its last ``group_max_per_period`` sends.
    group_recent: dict[str, deque[float]] = field(default_factory=dict)


class RateLimiter:
    def __init__(
        self,
        limits: Mapping[str, ChannelLimits] = DEFAULT_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._sleep = sleep
        self._channels: dict[str, _ChannelState] = {}

    def _state(self, channel: str) -> _ChannelState:
        state = self._channels.get(channel)
        if state is None:
            limits = self._limits.get(channel, ChannelLimits())
            state = _ChannelState(limits, deque(maxlen=limits.max_per_period or 1))
            self._channels[channel] = state
        return state

    def delay(self, channel: str, address: str) -> float:
        """Seconds until a send to ``address`` would be allowed; 0 when it is allowed now."""
        now = self._clock()
        state = self._state(channel)
        limits = state.limits
        ready = max(state.paused_until, state.address_paused_until.get(address, -math.inf))
        busy = sum(state.in_flight.values())
        if limits.max_per_period is not None:
            if busy >= limits.max_per_period:
                ready = max(ready, now + _MIN_SLEEP)
            elif len(state.recent) + busy >= limits.max_per_period:
                # The oldest counted send must leave the window before one more may go.
                ready = max(ready, state.recent[busy] + limits.period if busy < len(state.recent)
                            else now + _MIN_SLEEP)
        if limits.per_address_interval and state.in_flight.get(address):
            ready = max(ready, now + _MIN_SLEEP)
        last = state.last_by_address.get(address)
        if limits.per_address_interval and last is not None:
            ready = max(ready, last + limits.per_address_interval)
        if (cap := limits.group_max_per_period) is not None and is_group_chat(address):
            sent = state.group_recent.get(address) or ()
            busy_here = state.in_flight.get(address, 0)
            # Once the sends in flight are counted, this one may go when the send it would make the
            # (N+1)-th of the window leaves it.
            oldest = len(sent) + busy_here - cap
            if busy_here >= cap:
                ready = max(ready, now + _MIN_SLEEP)
            elif oldest >= 0:
                ready = max(ready, sent[oldest] + limits.group_period)
        return max(0.0, ready - now)

    def finished(self, channel: str, address: str) -> None:
        """A granted send completed (delivered or not). It is counted from now, not from its grant: the
        server saw it somewhere between the two, so counting from completion can never under-count."""
        state = self._state(channel)
        left = state.in_flight.get(address, 0) - 1
        if left > 0:
            state.in_flight[address] = left
        else:
            state.in_flight.pop(address, None)
        self.record(channel, address)

    def record(self, channel: str, address: str) -> None:
        """Count a send made now."""
        now = self._clock()
        state = self._state(channel)
        if state.limits.max_per_period is not None:
            state.recent.append(now)
        if state.limits.counts_group(address):
            self._record_group(state, address, now)
        if state.limits.per_address_interval:
            if len(state.last_by_address) > _PRUNE_ABOVE:
                horizon = now - state.limits.per_address_interval
                state.last_by_address = {a: t for a, t in state.last_by_address.items() if t > horizon}
            state.last_by_address[address] = now

    @staticmethod
    def _record_group(state: _ChannelState, address: str, now: float) -> None:
        limits = state.limits
        if len(state.group_recent) > _PRUNE_ABOVE:
            horizon = now - limits.group_period
            state.group_recent = {a: d for a, d in state.group_recent.items() if d and d[-1] > horizon}
        sent = state.group_recent.get(address)
        if sent is None:
            sent = state.group_recent[address] = deque(maxlen=limits.group_max_per_period)
        sent.append(now)

    async def acquire(
        self,
        channel: str,
        address: str,
        *,
        max_wait: float = math.inf,
        abort: Callable[[], bool] | None = None,
    ) -> bool:
        """Wait for a turn and take it (True); False, without taking one, when the turn would come
        later than ``max_wait`` seconds from now or ``abort()`` turns true while waiting."""
        deadline = self._clock() + max_wait
        while True:
            if abort is not None and abort():
                return False
            wait = self.delay(channel, address)
            if wait <= 0:
                # No await between the check and the count: concurrent acquirers cannot both pass.
                state = self._state(channel)
                limits = state.limits
                if limits.max_per_period is not None or limits.per_address_interval or limits.counts_group(address):
                    state.in_flight[address] = state.in_flight.get(address, 0) + 1
                else:
                    self.record(channel, address)
                return True
            if self._clock() + wait > deadline:
                return False
            await self._sleep(max(min(wait, _ABORT_POLL) if abort is not None else wait, _MIN_SLEEP))

    def pause(self, channel: str, address: str, seconds: float) -> None:
        """The server asked us not to write to this address for ``seconds`` (Telegram's retry_after)."""
        state = self._state(channel)
        until = self._clock() + seconds
        pauses = state.address_paused_until
        if len(pauses) > _PRUNE_ABOVE:
            now = self._clock()
            state.address_paused_until = pauses = {a: t for a, t in pauses.items() if t > now}
        pauses[address] = max(until, pauses.get(address, -math.inf))

    def pause_channel(self, channel: str, seconds: float) -> None:
        """The server asked us to stop sending on the whole channel for ``seconds``."""
        state = self._state(channel)
        state.paused_until = max(state.paused_until, self._clock() + seconds)
