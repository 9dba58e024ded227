"""Delivery knobs (email and webhooks) from the environment, for operators and for tests that run
the processes: each variable that is set overrides its field; a bad value is a `SettingsError`
naming the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from runtime.settings import Settings, SettingsError
from workers.config import Delivery, WebhookDelivery

K = TypeVar("K")

_DELIVERY_ENV = {
    "TRAIL_EMAIL_MAX_ATTEMPTS": "max_attempts",
    "TRAIL_EMAIL_MIN_BACKOFF": "min_backoff",
    "TRAIL_EMAIL_MAX_BACKOFF": "max_backoff",
    "TRAIL_EMAIL_REQUEUE_AFTER": "requeue_after",
    "TRAIL_EMAIL_OUTAGE_PROBE": "outage_probe",
    "TRAIL_EMAIL_SMTP_TIMEOUT": "smtp_timeout",
    "TRAIL_EMAIL_RELAY_INTERVAL": "relay_interval",
    "TRAIL_EMAIL_NAMESPACE": "namespace",
    "TRAIL_WORKER_THREADS": "worker_threads",
}


_WEBHOOK_ENV = {
    "TRAIL_WEBHOOK_MAX_ATTEMPTS": "max_attempts",
    "TRAIL_WEBHOOK_MIN_BACKOFF": "min_backoff",
    "TRAIL_WEBHOOK_MAX_BACKOFF": "max_backoff",
    "TRAIL_WEBHOOK_TIMEOUT": "timeout",
    "TRAIL_WEBHOOK_THREADS": "threads",
    "TRAIL_WEBHOOK_POLL_INTERVAL": "poll_interval",
}


def delivery_from_env(environ: Mapping[str, str] = os.environ) -> Delivery:
    """`Delivery` with each TRAIL_EMAIL_* / TRAIL_WORKER_THREADS variable that is set."""
    return _knobs(Delivery, _DELIVERY_ENV, environ, {})


def webhook_delivery_from_env(
    settings: Settings, environ: Mapping[str, str] = os.environ
) -> WebhookDelivery:
    """`WebhookDelivery` with each TRAIL_WEBHOOK_* variable that is set."""
    return _knobs(WebhookDelivery, _WEBHOOK_ENV, environ,
                  {"allow_private": settings.webhook_allow_private})


def _knobs(
    kind: type[K], names: Mapping[str, str], environ: Mapping[str, str], fixed: dict[str, Any]
) -> K:
    values: dict[str, Any] = {
        field: environ[variable].strip()
        for variable, field in names.items()
        if environ.get(variable, "").strip()
    }
    try:
        # Not strict: numbers arrive as strings; constraints (>= 1, > 0) are checked here.
        return msgspec.convert({**values, **fixed}, type=kind, strict=False)
    except msgspec.ValidationError as error:
        message = str(error)
        for variable, field in names.items():
            message = message.replace(f"`$.{field}`", variable)
        raise SettingsError(message) from None
