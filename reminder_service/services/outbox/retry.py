"""How long a failing message is retried, and how far apart."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter: after the n-th failure wait uniform(0, base * 2**(n-1)),
    capped; the floor keeps an unlucky draw of ~0 from retrying inside the same second.

    A message is given up after ``max_attempts`` failures, but not before ``keep_trying_seconds`` have
    passed since it was written: eight attempts of this backoff last about half an hour, and an outage of
    the channel (the SMTP relay down for the morning, Telegram failing for two hours) fails every message
    alike, so the attempts alone would make all of them dead long before the channel is back."""

    max_attempts: int = 8
    base_seconds: float = 30.0
    cap_seconds: float = 6 * 3600.0
    floor_seconds: float = 1.0
    keep_trying_seconds: float = 0.0

    def gives_up(self, failures: int, trying_for: float) -> bool:
        return failures >= self.max_attempts and trying_for >= self.keep_trying_seconds

    def backoff(self, failures: int, rng: random.Random) -> float:
        ceiling = min(self.cap_seconds, self.base_seconds * 2.0 ** min(failures - 1, 60))
        return max(self.floor_seconds, rng.uniform(0.0, ceiling))


# What the service runs with: a day of trying, so an outage through a working day loses nothing.
SERVICE_RETRY = RetryPolicy(keep_trying_seconds=24 * 3600.0)
