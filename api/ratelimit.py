"""Login attempt limits: the rule lives in `commands.logins`, shared with the web app's
sign-in page, so both count the same failures."""

from __future__ import annotations

from commands.logins import PREFIX, LoginLimiter

__all__ = ["PREFIX", "LoginLimiter"]
