"""Command line: `python -m service migrate`, `serve`, `healthcheck` and `create-key CLIENT`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from service.api.waiting import waiting_app
from service.api_keys import InvalidKeyConfiguration, digest_of, generate_key, parse_entries
from service.config import Settings
from service.db import DatabaseNotReachable, database_answers, wait_for_database
from service.draining import begin_draining
from service.healthcheck import add_arguments as add_healthcheck_arguments
from service.healthcheck import check as healthcheck
from service.logs import configure_logging
from service.migrate import apply_migrations


def wait_for_the_database(settings: Settings) -> None:
    """Block until the database accepts connections; exit 1 with the reason when it never does."""
    try:
        asyncio.run(wait_for_database(settings))
    except DatabaseNotReachable as exc:
        raise SystemExit(f"error: {exc}") from None


def migrate(settings: Settings) -> None:
    wait_for_the_database(settings)
    applied = asyncio.run(apply_migrations(settings))
    if applied:
        for name in applied:
            print(f"Applied migration {name}")
    else:
        print("The database is up to date.")


class DrainingServer(uvicorn.Server):
    """Uvicorn, with readiness turning 503 the moment a shutdown signal arrives."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        begin_draining()
        super().handle_exit(sig, frame)


def _exit_cleanly(sig: int, frame: FrameType | None) -> None:
    # Uvicorn re-raises the SIGTERM it handled once it has shut down gracefully; with the
    # default handler the process would then die "killed by SIGTERM" instead of exiting 0.
    raise SystemExit(0)


def wait_for_the_database_answering_not_ready(settings: Settings) -> bool:
    """Like `wait_for_the_database`, while answering HTTP on HOST:PORT: live, not ready.
    False when a shutdown signal ended the wait (then there is nothing to serve).
    A database that answers at once gets no placeholder: nothing but the service ever answers."""
    if settings.is_sqlite or asyncio.run(database_answers(settings)):
        return True
    try:
        return asyncio.run(_wait_answering_not_ready(settings))
    except DatabaseNotReachable as exc:
        raise SystemExit(f"error: {exc}") from None


async def _wait_answering_not_ready(settings: Settings) -> bool:
    placeholder = uvicorn.Server(
        uvicorn.Config(
            waiting_app,
            host=settings.HOST,
            port=settings.PORT,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
        )
    )
    answering = asyncio.create_task(placeholder.serve())
    waiting = asyncio.create_task(wait_for_database(settings))
    await asyncio.wait({answering, waiting}, return_when=asyncio.FIRST_COMPLETED)
    if not waiting.done():  # the placeholder stopped first: SIGTERM or SIGINT
        waiting.cancel()
        return False
    placeholder.should_exit = True
    await answering  # the port is free again for the real server
    waiting.result()  # raises DatabaseNotReachable
    return True


def serve(settings: Settings) -> None:
    wait_for_the_database(settings)  # at once, unless the database went away again
    config = uvicorn.Config(
        "service.main:create_app",
        factory=True,
        host=settings.HOST,
        port=settings.PORT,
        log_level=settings.LOG_LEVEL,
        log_config=None,  # the app configures logging: JSON lines (service.logs)
        access_log=False,  # ours, with the request id and route: service.api.middleware.edge
        server_header=False,
        timeout_graceful_shutdown=settings.SHUTDOWN_GRACE_SECONDS,
    )
    signal.signal(signal.SIGTERM, _exit_cleanly)
    DrainingServer(config).run()


@contextmanager
def _tortoise_quiet() -> Iterator[None]:
    tortoise = logging.getLogger("tortoise")
    level = tortoise.level
    tortoise.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        tortoise.setLevel(level)


def create_key(client: str) -> None:
    key = generate_key()
    entry = f"{client}:{digest_of(key)}"
    try:
        parse_entries(entry, source="create-key")
    except InvalidKeyConfiguration as exc:
        raise SystemExit(str(exc)) from None
    print(f"API key for client {client!r} (shown once: hand it to the client, do not store it):")
    print(f"  {key}")
    print("Configure the service with this entry (API_KEYS, comma-separated, or a line of")
    print("API_KEYS_FILE); it holds only the key's SHA-256, never the key:")
    print(f"  {entry}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply pending migrations (safe from several replicas)")
    serve_parser = commands.add_parser("serve", help="serve HTTP on HOST:PORT")
    serve_parser.add_argument(
        "--migrate", action="store_true", help="apply pending migrations before serving"
    )
    health_parser = commands.add_parser(
        "healthcheck", help="exit 0 when the server on PORT answers 200 (for container probes)"
    )
    add_healthcheck_arguments(health_parser)
    key_parser = commands.add_parser(
        "create-key", help="generate an API key for a client and print its configuration entry"
    )
    key_parser.add_argument("client", help="the client's name: 1-64 of A-Za-z0-9._-")
    args = parser.parse_args(argv)
    if args.command == "create-key":
        create_key(args.client)
        return
    settings = Settings()
    if args.command == "healthcheck":
        healthcheck(settings, args.path, args.timeout)
        return
    # The wait for the database logs its attempts.
    configure_logging(settings.LOG_LEVEL, flush_interval=settings.LOG_FLUSH_INTERVAL_SECONDS)
    if args.command == "serve":
        signal.signal(signal.SIGTERM, _exit_cleanly)
        if not wait_for_the_database_answering_not_ready(settings):
            return
    if args.command == "migrate" or args.migrate:
        with _tortoise_quiet():  # its start and shutdown lines would bury the command's output
            migrate(settings)
    if args.command == "serve":
        serve(settings)
