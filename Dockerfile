# Trail: one image for every process (`trail api`, `trail projector`, `trail notifier`,
# `trail worker`, or `trail serve` for everything on embedded PostgreSQL/Redis).
FROM python:3.11-slim

# uv from PyPI, pinned so `uv sync --locked` reads the lock file the way it was written.
RUN pip install --no-cache-dir uv==0.13.9

ENV PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never

WORKDIR /app

# Dependencies first, in their own layer: source edits do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project

COPY domain ./domain
COPY eventlog ./eventlog
COPY commands ./commands
COPY projections ./projections
COPY api ./api
COPY workers ./workers
COPY runtime ./runtime
COPY blobstore ./blobstore
COPY outbound ./outbound
RUN uv sync --locked --no-dev

# Never run as root: the embedded PostgreSQL then runs as this user too, without useradd.
RUN useradd --system --create-home --home-dir /home/trail trail \
    && mkdir -p /data && chown trail:trail /data
USER trail
VOLUME ["/data"]

# UV_NO_SYNC: the environment is complete; `uv run` must not add the dev group (the project's
# default) at start-up. TRAIL_HOST: in a container the API must listen beyond loopback.
ENV UV_NO_SYNC=1 \
    TRAIL_DATA_DIR=/data \
    TRAIL_HOST=0.0.0.0
EXPOSE 8000

# Ready when the API answers /readyz (database up, schema migrated). The image has no curl: the
# system Python's urllib asks. Processes that serve no HTTP (projector, notifier, worker,
# webhooks) turn this off in docker-compose.yml.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/readyz' % os.environ.get('TRAIL_PORT', '8000'), timeout=2)"]

ENTRYPOINT ["uv", "run", "trail"]
CMD ["serve"]
