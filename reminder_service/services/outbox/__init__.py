"""Delivering the outbox: claim with a lease, send within rate limits, retry with backoff, record it all."""

from reminder_service.services.outbox.dispatch import Dispatcher, DispatchReport
from reminder_service.services.outbox.ratelimit import DEFAULT_LIMITS, TELEGRAM_LIMITS, ChannelLimits, RateLimiter
from reminder_service.services.outbox.retry import RetryPolicy

__all__ = [
    "DEFAULT_LIMITS", "TELEGRAM_LIMITS", "ChannelLimits", "DispatchReport", "Dispatcher", "RateLimiter",
    "RetryPolicy",
]
