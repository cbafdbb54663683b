"""Errors a user can cause and fix; the CLI prints their message (Vietnamese) and exits with 2."""

from calendars.words import os_reason as os_reason


class UserError(Exception):
    """Bad input from a person: the message says where and what to do."""

