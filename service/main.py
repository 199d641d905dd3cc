"""The application: `create_app()` wires settings, the database lifecycle, routes and handlers.

Run it with `python -m service serve`, or `uvicorn service.main:create_app --factory`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from tortoise.contrib.fastapi import RegisterTortoise

from service import changes
from service.api import metrics
from service.api.error_handlers import install_error_handlers
from service.api.middleware.edge import EdgeMiddleware
from service.api.middleware.startup_refusal import StartupRefused
from service.api.openapi.document import install_openapi
from service.api.routes import changes as change_routes
from service.api.routes import health, notes
from service.api.routes import metrics as metrics_routes
from service.api.routes.docs import DOCS_PATHS, install_docs
from service.api_keys import KeyRing, load_keyring
from service.change_notifier import follow_database
from service.config import Settings
from service.db import tortoise_config
from service.draining import end_draining
from service.gc_tuning import tune_for_serving
from service.idempotency import purge_periodically
from service.internals.db_spans import trace_statements
from service.internals.fastapi_params import remember_parameter_kinds
from service.logs import configure_logging, flush_logs
from service.migrate import pending_migrations
from service.tracing import flush_spans, install_tracing

logger = logging.getLogger("service")

DESCRIPTION = "Store notes: create, list, fetch, change and delete them over HTTP."


class SchemaOutOfDate(StartupRefused):
    """The database is behind the code's migrations: serving would be unsafe."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    async with RegisterTortoise(
        app,
        config=tortoise_config(settings),
        generate_schemas=False,  # Aerich owns the schema
        add_exception_handlers=False,  # ours never echo driver messages
    ):
        end_draining()
        _announce_authentication(app.state.keyring)
        pending = await pending_migrations()
        if pending:
            raise SchemaOutOfDate(
                f"The database is behind this code: {len(pending)} migration(s) not applied "
                f"({', '.join(pending)}). Run `python -m service migrate` first."
            )
        purge = asyncio.create_task(
            purge_periodically(
                timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS),
                settings.IDEMPOTENCY_PURGE_INTERVAL_SECONDS,
            ),
            name="purge-idempotency-keys",
        )
        background = [
            purge,
            asyncio.create_task(
                changes.purge_periodically(
                    timedelta(hours=settings.CHANGES_RETENTION_HOURS),
                    settings.CHANGES_PURGE_INTERVAL_SECONDS,
                ),
                name="purge-changes",
            ),
            asyncio.create_task(
                follow_database(changes.read_signals, settings.CHANGES_POLL_INTERVAL_SECONDS),
                name="follow-changes",
            ),
        ]
        tune_for_serving()
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with suppress(asyncio.CancelledError):
                    await task
            metrics.forget_this_process()
            flush_spans()
            flush_logs()


def _announce_authentication(keyring: KeyRing) -> None:
    if keyring.enabled:
        clients = ", ".join(sorted(keyring.clients))
        logger.info(
            "Authentication is on: API keys for %d client(s): %s", len(keyring.clients), clients
        )
    else:
        logger.warning(
            "Authentication is OFF: no API keys are configured, so anyone who can reach this "
            "service can read and change every note. Set API_KEYS or API_KEYS_FILE "
            "(see `python -m service create-key`)."
        )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    tracer = install_tracing(os.environ)  # None unless an exporter is configured
    if tracer is not None:
        trace_statements(tracer)
    configure_logging(
        settings.LOG_LEVEL,
        trace_ids=tracer is not None,
        flush_interval=settings.LOG_FLUSH_INTERVAL_SECONDS,
    )
    keyring = load_keyring(settings)  # a malformed key configuration stops the start here
    remember_parameter_kinds()
    app = FastAPI(
        title="Notes service",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=False,
        # Ours are Prometheus metrics, JSON logs and spans (service.api.middleware.telemetry,
        # service.tracing): FastAPI's native OpenTelemetry would look up the global providers
        # on every request, and its spans carry the raw path and query values (`q=...`).
        telemetry={"tracing": False, "metrics": False, "logs": False},
        docs_url=None,  # served by service.api.routes.docs, without any CDN
        redoc_url=None,
        openapi_tags=[
            {"name": "notes", "description": "Notes: the service's one resource."},
            {"name": "health", "description": "Liveness and readiness for orchestrators."},
            {"name": "metrics", "description": "Prometheus metrics for operators."},
        ],
    )
    # Set after construction: FastAPI warns that its `root_path` argument is deprecated, yet
    # only it serves a proxy that strips the prefix and one that keeps it alike.
    app.root_path = settings.ROOT_PATH
    app.state.settings = settings
    app.state.keyring = keyring
    app.router.redirect_slashes = False
    change_routes.install_routes(app)  # before /notes/{note_id}, which would take the path
    notes.install_routes(app)
    app.include_router(health.router)
    app.include_router(metrics_routes.router)
    install_docs(app)
    install_error_handlers(app)
    install_openapi(app, auth=keyring.enabled)
    # Every cross-cutting step, in its agreed order: service/api/middleware/edge.py.
    app.add_middleware(
        EdgeMiddleware,
        routes=app.router.routes,
        keyring=keyring,
        max_body_bytes=settings.MAX_BODY_BYTES,
        docs_paths=DOCS_PATHS,
        cors_origins=settings.cors_origins,
        tracer=tracer,
    )
    return app


def __getattr__(name: str) -> Any:
    # `uvicorn service.main:app` works too, without reading the environment at import time.
    if name == "app":
        return create_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
