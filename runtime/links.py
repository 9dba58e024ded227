"""Links Trail puts in emails, built from `TRAIL_BASE_URL` (never from request headers); they
open the web app's pages."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from runtime.settings import Settings


@dataclass(frozen=True)
class Links:
    base_url: str

    @classmethod
    def of(cls, settings: Settings) -> Links:
        return cls(settings.base_url or f"http://{settings.host}:{settings.port}")

    def ticket(self, ticket_key: str) -> str:
        """The ticket's page in the web app (`/t/WEB-42`); without a session it leads through
        the sign-in page and back."""
        return f"{self.base_url}/t/{quote(str(ticket_key), safe='')}"

    def password_reset(self, token: str) -> str:
        """The web app's page that sets a new password with this token."""
        return f"{self.base_url}/password-reset/confirm?{urlencode({'token': token})}"
