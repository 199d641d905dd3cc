# syntax=docker/dockerfile:1
# Build: docker build -t notes-service .   Run: see docker-compose.yml and docs/operations.md.

FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock ./
# The client (client/) is a workspace member: --locked reads its manifest to check the lock,
# but it is a dev dependency only, so nothing of it is installed or copied into the image.
COPY client/pyproject.toml ./client/
RUN uv sync --locked --no-dev

FROM python:3.11-slim AS runtime
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATABASE_URL=sqlite:///app/data/notes.sqlite3
RUN groupadd --system --gid 10001 notes \
    && useradd --system --uid 10001 --gid notes --no-create-home --home-dir /app notes
WORKDIR /app
COPY --from=build /app/.venv /app/.venv
COPY aerich.ini pyproject.toml ./
COPY service ./service
COPY migrations ./migrations
RUN mkdir -p /app/data && chown notes:notes /app/data
USER 10001:10001
VOLUME ["/app/data"]
EXPOSE 8000
# `healthcheck` asks the server on PORT (whatever it is set to) for /health/live.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-m", "service", "healthcheck"]
STOPSIGNAL SIGTERM
# Applies pending migrations (under a database lock), then serves.
CMD ["python", "-m", "service", "serve", "--migrate"]
