"""The only code that relies on library internals, fenced here so an upgrade breaks one place.

- `prepared`: SQL that Tortoise generates, run again with new values (Tortoise's executor
  and query builder);
- `pg_pool`: the asyncpg engine Tortoise loads, with a bounded, fair wait for connections
  (asyncpg's `Pool._acquire`);
- `pool_usage`: connections in use, for the metrics (Tortoise clients' `_pool`, `_connection`);
- `fastapi_params`: FastAPI's per-request parameter inspection, memoized
  (`fastapi.dependencies.utils`).

tests/internals/ pins what each relies on; pyproject.toml bounds the versions they were
checked against (FastAPI, Tortoise, asyncpg).
"""
