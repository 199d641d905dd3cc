"""Migration 3_20261206044500_add_search: the search indexes, hand-written (no model changes).

PostgreSQL: `pg_trgm` (a trusted extension since PostgreSQL 13: the migrating role needs
CREATE on the database, as its owner has) and two GIN indexes, built with CREATE INDEX
CONCURRENTLY so that writes go on while they build. CONCURRENTLY cannot run inside a
transaction block, nor in a multi-statement query string (which PostgreSQL runs as one
transaction): so this migration runs outside Aerich's transaction (`RUN_IN_TRANSACTION =
False`) and `upgrade` sends its statements one at a time, on one connection, without the
pool's command timeout. Each index is dropped first, so a
run that was interrupted (leaving an INVALID index) is repaired by running it again.

SQLite: two external-content FTS5 tables over `notes`, filled from the rows already there
and kept by triggers (so rows written by plain SQL are searchable too), in one transaction.
"""

from tortoise import BaseDBAsyncClient

RUN_IN_TRANSACTION = False
_BUILD_TIMEOUT_SECONDS = 24 * 3600.0

_POSTGRES_STEPS = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    'DROP INDEX CONCURRENTLY IF EXISTS "notes_search_trigram"',
    'CREATE INDEX CONCURRENTLY "notes_search_trigram" ON "notes" USING gin ("text" gin_trgm_ops)',
    'DROP INDEX CONCURRENTLY IF EXISTS "notes_search_words"',
    'CREATE INDEX CONCURRENTLY "notes_search_words" ON "notes" '
    "USING gin (to_tsvector('simple'::regconfig, \"text\"))",
)

_SQLITE_UPGRADE = """
        BEGIN;
        CREATE VIRTUAL TABLE "notes_search_trigram" USING fts5(
            text, content='notes', content_rowid='id', tokenize='trigram');
        INSERT INTO "notes_search_trigram"("notes_search_trigram") VALUES ('rebuild');
        CREATE VIRTUAL TABLE "notes_search_words" USING fts5(
            text, content='notes', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
        INSERT INTO "notes_search_words"("notes_search_words") VALUES ('rebuild');
        CREATE TRIGGER notes_search_insert AFTER INSERT ON notes BEGIN
            INSERT INTO "notes_search_trigram"(rowid, text) VALUES (new.id, new.text);
            INSERT INTO "notes_search_words"(rowid, text) VALUES (new.id, new.text);
        END;
        CREATE TRIGGER notes_search_delete AFTER DELETE ON notes BEGIN
            INSERT INTO "notes_search_trigram"("notes_search_trigram", rowid, text)
                VALUES ('delete', old.id, old.text);
            INSERT INTO "notes_search_words"("notes_search_words", rowid, text)
                VALUES ('delete', old.id, old.text);
        END;
        CREATE TRIGGER notes_search_update AFTER UPDATE OF id, text ON notes BEGIN
            INSERT INTO "notes_search_trigram"("notes_search_trigram", rowid, text)
                VALUES ('delete', old.id, old.text);
            INSERT INTO "notes_search_words"("notes_search_words", rowid, text)
                VALUES ('delete', old.id, old.text);
            INSERT INTO "notes_search_trigram"(rowid, text) VALUES (new.id, new.text);
            INSERT INTO "notes_search_words"(rowid, text) VALUES (new.id, new.text);
        END;
        COMMIT;"""

UPGRADE = {
    "postgres": ";\n".join(_POSTGRES_STEPS) + ";",
    "sqlite": _SQLITE_UPGRADE,
}

DOWNGRADE = {
    "postgres": """
        DROP INDEX IF EXISTS "notes_search_words";
        DROP INDEX IF EXISTS "notes_search_trigram";""",
    "sqlite": """
        DROP TRIGGER IF EXISTS notes_search_update;
        DROP TRIGGER IF EXISTS notes_search_delete;
        DROP TRIGGER IF EXISTS notes_search_insert;
        DROP TABLE IF EXISTS "notes_search_words";
        DROP TABLE IF EXISTS "notes_search_trigram";""",
}


def _dialect(db: BaseDBAsyncClient | None) -> str:
    # Aerich calls upgrade(None) when it reads the PostgreSQL history back.
    return "postgres" if db is None else db.capabilities.dialect


async def upgrade(db: BaseDBAsyncClient) -> str:
    if db is not None and _dialect(db) == "postgres":
        async with db.acquire_connection() as connection:
            for statement in _POSTGRES_STEPS:
                # Not the pool's command timeout (DB_COMMAND_TIMEOUT, seconds): an index on
                # millions of notes takes minutes to build.
                await connection.execute(statement, timeout=_BUILD_TIMEOUT_SECONDS)
        return "SELECT 1"  # done above, one statement at a time
    return UPGRADE[_dialect(db)]


async def downgrade(db: BaseDBAsyncClient) -> str:
    return DOWNGRADE[_dialect(db)]


MODELS_STATE = (
    "eJzlWW1z2jgQ/isaf7l0LskAISTXfIKUa7lL4Kah1047HY+whdHEllxLhDC9/Pfbld8N5q"
    "BtWnL9FLPateR99uVZ5bMVSJf56njgsiCUmgl9GTGqmfWcfLYEDfChVueQWDQMcw0UaDrx"
    "jRHPtG3HqJtlOlE6oo4GjSn1FQORy5QT8VBzKdCuS2J1MpFz4RItCRUk29pZHv3Jls/JYk"
    "Y10TNGpjxSmkTs05zBXwXbgb5LFlTBX7VgEXOPcWNXOrAzF94j7jEXHFRsLT0GZhHs9OGD"
    "JRcCHmH1li2tjx/hgQuX3YM7zHJ8ENemOl4Mb+0pZ75bAoC7+AIjt/UyNLIe9wZC/2508f"
    "smtiP9eSBy/XCpZ1JkBlxolHoMzoNbgkxHc0RAzH0/gS0FJf6UXCU+c8HGZVM69xFHtI4P"
    "kMss2x6OxvZNf2zb1grGqUUBkkTkSIHxAUdVxgEeHuHot1br5OSs1TjpnJ+2z85OzxvnoG"
    "vOu7p09hAfJvdW/Crjs8HLwXCMB5IQhHGcouDB2FBNYysDTe79DMEyAJczGq13f2ZQQQA+"
    "rYpA6u9NEKSCHIM8db4cBGsMke34HKNZY6Sr+IkRCNSVlKnBJ6D3ts+Ep2fws9Pe4Pq/u6"
    "8vX3VfH3Taz8r+HyYrLbOESOSex5TZwe+J+j57ffvQL7m2dXq6hW9Bq9a5Zq3s3Snsz6Iw"
    "SgrDtl6umO2zt62bV92j1mmHyKmJ7LSET6S7JFC9Qxop5h6SBdczkrxU7UnsC2hF9rrCX1"
    "v1Cxb/Xfp/cOHBsxpIkkYcUJeRA67hYUkmjHhSMKK4cNizbfGIe0Wr2T5rn5902lmLyCSb"
    "OkPaBXL/R0yFsAOzMVhWURiz+xoYVgz3OkMQjFajGacEuwdq5pvUiDkP9oQt/b/BueP+O9"
    "N0A6U++cW4P7juvjMpESyTlavR8GWqXsiTy6tRr4JPgTitgPMCVjQP2HqAypYVdNzE9Dh9"
    "2COs3owvL0zShPPIw2oWyDumsF9jKTMUFfk2aH8DzAbX/Ztx9/qvEnAvuuM+rrRKoKXSg0"
    "6lvmUvIW8H41cEf5L3o2Hf+F0q7UVmx1xv/N7CM9G5lraQC5u6Reel4lT0gIR5elsgbSiY"
    "UOd2QSPXXlmRLVmnu7oUtIKqhArqGTTRm3jOZDAayvUDk5FvHJKwDG43F9UThzVTx8qUkT"
    "FSaA+wWBA4Mgh9hqGdrO40hDzVCcTqKsU9wVwyWZqMUiy64w68VrA7FkEizdWawfExO8/T"
    "nj8sKqRYBnKurK8cQ5LqbFDB9LggUkBL4tiMoNil4j1haRpowC7QpPp7zQmaeCPSbBw2Gg"
    "3iwKdAXWKROiSAjs+wzyA5iyl1gGCQxYxDHQupA2gpLSOADyjEDuShDFMTNm5sgZTRqwUr"
    "Wa2whmK5q1yoSAlfJ2o4Q9GuAt4EDB8LvUyyA3xvZ6YRZKlCuCIuQPb1pKA3Gl2V+EBvUG"
    "Vqb657fUDGoAJKXJcuWX52+nYISYHpk1S5bbMDlN0RVMGk+T0R2pb06RXWVgyDeeh+YRiU"
    "LZ90GJjbZPiF1GOJFVd43yBZ9ykUahl8MRbg6xX6aHuWWbD4fjcezR3xvtE00gqbJ1j+2q"
    "wCfZHV6V8U6Y+p9x1Z557MT10WcWdmrZmgkpXDTTMUzXUec4j6KeaiXf8z82gzT20tqKfW"
    "9cVgr9j1Pv0HAJNqBw8n6v9D7za3nTc2TRurs4bA67hVD/9xMxrWjRmZSZXRcEeTf4jP1R"
    "5d5W/t7Q3ORWdsvhyu3gNXqAe+oPejm9nDv/I9nGs="
)
