"""Command line: `python -m service migrate` and `python -m service serve`."""

from __future__ import annotations

import argparse
import asyncio

import uvicorn

from service.config import Settings
from service.migrate import apply_migrations


def migrate(settings: Settings) -> None:
    applied = asyncio.run(apply_migrations(settings))
    if applied:
        for name in applied:
            print(f"Applied migration {name}")
    else:
        print("The database is up to date.")


def serve(settings: Settings) -> None:
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=settings.HOST,
        port=settings.PORT,
        log_level=settings.LOG_LEVEL,
        server_header=False,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="apply pending migrations (safe from several replicas)")
    serve_parser = commands.add_parser("serve", help="serve HTTP on HOST:PORT")
    serve_parser.add_argument(
        "--migrate", action="store_true", help="apply pending migrations before serving"
    )
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "migrate" or args.migrate:
        migrate(settings)
    if args.command == "serve":
        serve(settings)
