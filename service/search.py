"""The listing queries that search (`q`, `search`), as SQL per dialect, served by indexes.

The indexes live in the database and are kept by it (the migration `*_add_search.py`):

- PostgreSQL: a `pg_trgm` GIN index on `text` serves `ILIKE '%q%'`; a GIN index on
  `to_tsvector(<language>, text)` serves `search` through `websearch_to_tsquery`.
- SQLite: FTS5 tables over `notes` kept by triggers: `notes_search_trigram` (trigram
  tokenizer) finds the candidates of `q`, which `LIKE` then checks, so the contract's
  matching is unchanged; `notes_search_words` (unicode61, diacritics removed) serves `search`.

On PostgreSQL every search runs in a transaction of its own under `SET LOCAL
statement_timeout`: a pattern no index can narrow (one or two characters) costs at most that,
and is then answered with a 503 that says why. `plan_cache_mode = force_custom_plan` makes
the planner see each pattern (a generic plan for a parameter cannot choose the index).
In id order, a page first reads a bounded window of notes in id order, then, if matches are
too sparse to fill it there, asks the search index alone (`_postgres_by_id`).

Relevance order is keyset pagination on (rank, id), both descending; the `Link` carries the
last note's rank as `after_rank`. PostgreSQL's rank (`ts_rank_cd`) depends on the note alone;
SQLite's `bm25` also on the table's statistics (see docs/api.md, "Search").
"""

# ruff: noqa: S608 (the SQL is assembled from constant fragments; every value is a parameter,
# and the one name inlined, the text search configuration, is a setting checked as an identifier)
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import asyncpg
from tortoise import BaseDBAsyncClient, connections
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from service.errors import SearchTimedOut, ValidationFailed
from service.search_syntax import WebSearch

COLUMNS = "n.id, n.text, n.completed, n.created_at, n.updated_at, n.version"
TRIGRAM_MIN_LENGTH = 3  # shorter patterns have no trigram: no index can narrow them
WINDOW_ROWS_PER_NOTE = 40  # PostgreSQL, id order: matches rarer than 1 in 40 use the index


@dataclass(frozen=True)
class SearchLimits:
    """What the service's settings decide about searches."""

    timeout_ms: int = 1_000
    language: str = "simple"  # a PostgreSQL text search configuration with an index


@dataclass(frozen=True)
class SearchQuery:
    owner: str
    limit: int  # rows to fetch (one more than a page)
    substring: str = ""
    words: WebSearch | None = None
    by_relevance: bool = False
    descending: bool = False
    completed: bool | None = None
    after: int | None = None
    after_rank: float | None = None


def like_pattern(substring: str) -> str:
    """`%substring%` with `\\`, `%` and `_` matching themselves (escape character `\\`)."""
    escaped = substring.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def fetch(query: SearchQuery, limits: SearchLimits) -> list[dict[str, Any]]:
    """The rows of a page (with `rank` when ordered by relevance)."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "postgres":
        return await _postgres_fetch(query, limits)
    sql, values = _sqlite_sql(query)
    try:
        rows: list[dict[str, Any]] = await connection.execute_query_dict(sql, values)
    except OperationalError as error:  # defence in depth: the parser quotes every term
        if "fts5" not in str(error):
            raise
        raise _unparseable_search() from error
    return rows


async def _postgres_fetch(query: SearchQuery, limits: SearchLimits) -> list[dict[str, Any]]:
    try:
        async with in_transaction("default") as connection:
            await _bound(connection, limits.timeout_ms)
            if query.by_relevance:
                return await _rows(connection, *_postgres_sql(query, limits.language))
            return await _postgres_by_id(connection, query, limits.language)
    except (asyncpg.QueryCanceledError, OperationalError) as error:
        cause = error if isinstance(error, asyncpg.QueryCanceledError) else error.__cause__
        if isinstance(cause, asyncpg.QueryCanceledError):
            raise SearchTimedOut.after(limits.timeout_ms) from error
        raise


async def _postgres_by_id(
    connection: BaseDBAsyncClient, query: SearchQuery, language: str
) -> list[dict[str, Any]]:
    """A page in id order, whether matches are dense or sparse.

    With a LIMIT, the planner walks the id index and filters, expecting to meet enough matches
    soon: right for a common word, a scan of the whole table for a rare one (its estimate
    of a word's frequency is coarse). So: the next WINDOW_ROWS_PER_NOTE x limit notes in id
    order first (a bounded read that serves dense matches); if they do not fill the page,
    matches are sparse, and the rest comes from the search index alone (a bitmap scan, whose
    cost follows the number of matches), with index scans off."""
    window = WINDOW_ROWS_PER_NOTE * query.limit
    boundary_rows = await _rows(connection, *_postgres_boundary_sql(query, window))
    if not boundary_rows:  # what is left fits in the window
        return await _rows(connection, *_postgres_sql(query, language))
    boundary = boundary_rows[0]["id"]
    near = await _rows(connection, *_postgres_sql(query, language, upto=boundary))
    if len(near) >= query.limit:
        return near
    await connection.execute_script("SET LOCAL enable_indexscan = off")
    rest = replace(query, limit=query.limit - len(near))
    return near + await _rows(connection, *_postgres_sql(rest, language, beyond=boundary))


async def _rows(connection: BaseDBAsyncClient, sql: str, values: list[Any]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = await connection.execute_query_dict(sql, values)
    return rows


async def _bound(connection: BaseDBAsyncClient, timeout_ms: int) -> None:
    await connection.execute_script(
        f"SET LOCAL statement_timeout = {int(timeout_ms)}; "
        "SET LOCAL plan_cache_mode = force_custom_plan"
    )


def _unparseable_search() -> ValidationFailed:
    return ValidationFailed.of_fields(
        [{"loc": ["query", "search"], "msg": "The search cannot be parsed", "type": "search"}]
    )


def _postgres_boundary_sql(query: SearchQuery, window: int) -> tuple[str, list[Any]]:
    """The id `window` notes further on in the page's order (none: fewer are left)."""
    values: list[Any] = [query.owner]
    conditions = ["n.owner = $1"]
    if query.completed is not None:
        values.append(query.completed)
        conditions.append(f"n.completed = ${len(values)}")
    if query.after is not None:
        values.append(query.after)
        conditions.append(f"n.id {'<' if query.descending else '>'} ${len(values)}")
    values.append(window - 1)
    order = "DESC" if query.descending else "ASC"
    sql = (
        f"SELECT n.id FROM notes n WHERE {' AND '.join(conditions)} "
        f"ORDER BY n.id {order} LIMIT 1 OFFSET ${len(values)}"
    )
    return sql, values


def _postgres_sql(
    query: SearchQuery, language: str, *, upto: int | None = None, beyond: int | None = None
) -> tuple[str, list[Any]]:
    """The page's SQL; in id order, `upto` and `beyond` cut it at an id (up to it included,
    or past it)."""
    values: list[Any] = []

    def value(item: Any) -> str:
        values.append(item)
        return f"${len(values)}"

    conditions = [f"n.owner = {value(query.owner)}"]
    if query.completed is not None:
        conditions.append(f"n.completed = {value(query.completed)}")
    if query.substring:
        conditions.append(f"n.text ILIKE {value(like_pattern(query.substring))}")
    rank = ""
    if query.words is not None:
        config = f"'{language}'::regconfig"
        tsquery = f"websearch_to_tsquery({config}, {value(query.words.websearch_text())})"
        vector = f"to_tsvector({config}, n.text)"
        conditions.append(f"{vector} @@ {tsquery}")
        rank = f"ts_rank_cd({vector}, {tsquery})"
    if query.by_relevance:
        inner = f"SELECT {COLUMNS}, {rank} AS rank FROM notes n WHERE {' AND '.join(conditions)}"
        keyset = ""
        if query.after is not None:
            rank_value = value(query.after_rank)
            # float8: a rank from the Link compares exactly, any other number without overflow
            keyset = f" WHERE (m.rank::float8, m.id) < ({rank_value}, {value(query.after)})"
        limit = value(query.limit)
        sql = f"SELECT * FROM ({inner}) m{keyset} ORDER BY m.rank DESC, m.id DESC LIMIT {limit}"
        return sql, values
    after, before = (">", "<") if not query.descending else ("<", ">")
    if query.after is not None:
        conditions.append(f"n.id {after} {value(query.after)}")
    if upto is not None:
        conditions.append(f"n.id {before}= {value(upto)}")
    if beyond is not None:
        conditions.append(f"n.id {after} {value(beyond)}")
    order = "DESC" if query.descending else "ASC"
    sql = (
        f"SELECT {COLUMNS} FROM notes n WHERE {' AND '.join(conditions)} "
        f"ORDER BY n.id {order} LIMIT {value(query.limit)}"
    )
    return sql, values


def _sqlite_sql(query: SearchQuery) -> tuple[str, list[Any]]:
    """The page's SQL, driven by an FTS5 table: it yields rowids in order (either way) and
    takes the `after` bound itself, so a page stops at its limit, whether matches are rare or
    common. A `q` also checks `LIKE` (the contract's matching; the trigram index only finds
    candidates)."""
    driver, expression = "", ""
    if query.words is not None:
        driver, expression = "notes_search_words", query.words.fts5_expression()
    elif len(query.substring) >= TRIGRAM_MIN_LENGTH:
        driver, expression = "notes_search_trigram", '"' + query.substring.replace('"', '""') + '"'
    values: list[Any] = []
    conditions = []
    if driver:
        conditions.append(f"{driver} MATCH ?")
        values.append(expression)
    conditions.append("n.owner = ?")
    values.append(query.owner)
    if query.completed is not None:
        conditions.append("n.completed = ?")
        values.append(query.completed)
    if query.substring:
        conditions.append("n.text LIKE ? ESCAPE '\\'")
        values.append(like_pattern(query.substring))
    source = f"{driver} f JOIN notes n ON n.id = f.rowid" if driver else "notes n"
    if query.by_relevance:
        inner = (
            f"SELECT {COLUMNS}, -bm25({driver}) AS rank FROM {source} "
            f"WHERE {' AND '.join(conditions)}"
        )
        keyset = ""
        if query.after is not None:
            keyset = " WHERE (m.rank, m.id) < (?, ?)"
            values += [query.after_rank, query.after]
        values.append(query.limit)
        sql = f"SELECT * FROM ({inner}) m{keyset} ORDER BY m.rank DESC, m.id DESC LIMIT ?"
        return sql, values
    key = "f.rowid" if driver else "n.id"
    if query.after is not None:
        conditions.append(f"{key} {'<' if query.descending else '>'} ?")
        values.append(query.after)
    order = "DESC" if query.descending else "ASC"
    values.append(query.limit)
    sql = (
        f"SELECT {COLUMNS} FROM {source} WHERE {' AND '.join(conditions)} "
        f"ORDER BY {key} {order} LIMIT ?"
    )
    return sql, values
