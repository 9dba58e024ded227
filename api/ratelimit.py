"""Limits on what a caller may ask for before it has a token. The rules live in `commands`
(`logins` for sign-in failures, `throttles` for registrations and reset emails), shared with
the web app's pages, so both count the same requests."""

from __future__ import annotations

from commands.logins import PREFIX, LoginLimiter
from commands.throttles import Throttle

__all__ = ["PREFIX", "LoginLimiter", "Throttle"]
