"""Links Trail puts in emails, built from `TRAIL_BASE_URL` (never from request headers)."""

from __future__ import annotations

from dataclasses import dataclass

from runtime.settings import Settings


@dataclass(frozen=True)
class Links:
    base_url: str

    @classmethod
    def of(cls, settings: Settings) -> Links:
        return cls(settings.base_url or f"http://{settings.host}:{settings.port}")

    def ticket(self, ticket_id: object) -> str:
        return f"{self.base_url}/tickets/{ticket_id}"

    def password_reset(self) -> str:
        """Where a person pastes the token of a reset email."""
        return f"{self.base_url}/docs#/auth/confirmPasswordReset"
