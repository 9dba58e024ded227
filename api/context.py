"""Per-app state handed to every handler: the services plus what the API derives from them."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from api.errors import Problem
from api.live.browser import BrowserSessions
from api.live.hub import LiveHub
from api.metrics import Metrics
from api.quotas import UploadQuota
from api.ratelimit import LoginLimiter, Throttle
from api.services import ApiServices
from api.tokens import TokenIssuer
from api.waiting import PositionWaits
from commands.api_token_store import is_api_token
from commands.errors import Unauthenticated
from commands.permissions import Actor
from commands.services import Commands


@dataclass(frozen=True)
class Context:
    services: ApiServices
    tokens: TokenIssuer
    limiter: LoginLimiter
    live: LiveHub
    metrics: Metrics
    uploads: UploadQuota
    registrations: Throttle
    resets_by_address: Throttle
    resets_by_email: Throttle
    waits: PositionWaits
    # The web app's sessions, when it is mounted: a page's cookie opens `/ws`.
    browser_sessions: BrowserSessions | None = None

    @classmethod
    def build(cls, services: ApiServices, browser_sessions: BrowserSessions | None = None
              ) -> Context:
        settings = services.settings
        namespace = settings.redis_namespace

        def throttle(name: str, limit: int) -> Throttle:
            return Throttle(services.redis, name=name, limit=limit,
                            window=settings.throttle_window, namespace=namespace)

        return cls(
            services=services,
            tokens=TokenIssuer(settings.secret_key, settings.token_lifetime),
            limiter=LoginLimiter(
                services.redis,
                per_email=settings.login_failures_per_email,
                per_address=settings.login_failures_per_address,
                window=settings.login_window,
                namespace=namespace,
            ),
            live=LiveHub(services.pool),
            metrics=Metrics(services),
            uploads=UploadQuota(
                services.redis,
                per_window=settings.uploads_per_window,
                window=settings.upload_window,
                namespace=namespace,
            ),
            registrations=throttle("registrations", settings.registrations_per_address),
            resets_by_address=throttle("resets-by-address", settings.resets_per_address),
            resets_by_email=throttle("resets-by-email", settings.resets_per_email),
            browser_sessions=browser_sessions,
            waits=PositionWaits(services.pool.conninfo),
        )

    @property
    def commands(self) -> Commands:
        return self.services.commands

    def caller(self, token: str) -> Actor:
        """Who a bearer token acts for, as the account is now: an access token (JWT) or an API
        token (`trail_pat_…`). Unauthenticated, or a 401 Problem, when it may not act."""
        if is_api_token(token):
            return self.commands.accounts.actor(self.commands.api_tokens.holder(token))
        user_id, issued_at = self.tokens.verified(token)
        # The account as it is now: a deactivated user's tokens stop working at once, a role
        # change applies to the very next request, and a password reset voids older tokens.
        return self.commands.accounts.actor(user_id, issued_at)

    def subject(self, token: str) -> UUID | None:
        """The user a bearer token may act for now; None for a token that may not (forged,
        expired, revoked, voided by a password change, or its account deactivated or
        pending). The scope of `Idempotency-Key`: a stored answer is replayed only to a
        caller that may still act, so a token that lost its authority gets its 401, never
        the answer it once had."""
        try:
            return self.caller(token).id
        except (Problem, Unauthenticated):
            return None
