"""Per-app state handed to every handler: the services plus what the API derives from them."""

from __future__ import annotations

from dataclasses import dataclass

from api.quotas import UploadQuota
from api.ratelimit import LoginLimiter
from api.services import ApiServices
from api.tokens import TokenIssuer
from commands.services import Commands


@dataclass(frozen=True)
class Context:
    services: ApiServices
    tokens: TokenIssuer
    limiter: LoginLimiter
    uploads: UploadQuota

    @classmethod
    def build(cls, services: ApiServices) -> Context:
        settings = services.settings
        return cls(
            services=services,
            tokens=TokenIssuer(settings.secret_key, settings.token_lifetime),
            limiter=LoginLimiter(
                services.redis,
                per_email=settings.login_failures_per_email,
                per_address=settings.login_failures_per_address,
                window=settings.login_window,
            ),
            uploads=UploadQuota(
                services.redis,
                per_window=settings.uploads_per_window,
                window=settings.upload_window,
            ),
        )

    @property
    def commands(self) -> Commands:
        return self.services.commands
