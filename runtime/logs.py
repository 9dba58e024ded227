"""Structured logs (structlog) for every Trail process: each line has its level, a UTC time, the
logger's name and whatever the code bound (a request's id, a write's command ids). JSON lines
with TRAIL_LOG_FORMAT=json, for a log shipper; readable console lines otherwise.

Standard-library loggers (Trail's own, uvicorn's, psycopg's) go through the same renderer, so a
process writes one format. The API hands structlog's part to Litestar (`logging_config`).
"""

from __future__ import annotations

import logging
import logging.config
from typing import Any

import structlog
from litestar.logging.config import StructLoggingConfig

from runtime.settings import LogFormat

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def _renderer(log_format: LogFormat) -> Any:
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False)


def _structlog_processors() -> list[Any]:
    return [
        structlog.stdlib.filter_by_level,
        *_SHARED,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.UnicodeDecoder(),
        # The stdlib handler's ProcessorFormatter renders: one renderer for both kinds of logger.
        structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
    ]


def configure_logging(log_format: LogFormat, level: str = "INFO") -> None:
    """Route this process's logs (structlog's and the standard library's) to stderr."""
    # No record carries its source file, line, thread or process, so don't pay for finding them
    # (the logging HOWTO's "Optimization"): the frame walk was most of an access line's cost.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    extra = [structlog.processors.format_exc_info] if log_format == "json" else []
    logging.config.dictConfig({
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "trail": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *extra,
                    _renderer(log_format),
                ],
                "foreign_pre_chain": [*_SHARED, structlog.stdlib.ExtraAdder()],
            }
        },
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "trail"}},
        "root": {"handlers": ["stderr"], "level": level},
        # uvicorn's own handlers would print a second, unstructured copy; its access line
        # repeats Trail's own (api/observe.py), so it is off: with no handler anywhere on its
        # path, uvicorn does not even format it.
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    })
    structlog.configure(**_structlog_options())


def litestar_logging(log_format: LogFormat) -> StructLoggingConfig:
    """The same structlog set-up as Litestar's logging config (the API process)."""
    return StructLoggingConfig(
        **_structlog_options(),
        # Unexpected errors are logged once, by the API's error map, with their request id.
        log_exceptions="never",
        standard_lib_logging_config=None,
        pretty_print_tty=False,
    )


def _structlog_options() -> dict[str, Any]:
    return {
        "processors": _structlog_processors(),
        "logger_factory": structlog.stdlib.LoggerFactory(),
        "wrapper_class": structlog.stdlib.BoundLogger,
        "cache_logger_on_first_use": True,
    }
