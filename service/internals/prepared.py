"""Tortoise queries whose SQL is generated once per shape, then run again with new values.

Tortoise builds a query's SQL anew (with pypika) every time it is awaited: for a point read
that costs more CPU than the driver's whole round trip. A hot read always has the same
shape, only its values change; so `PreparedQuery` asks Tortoise for the SQL of the shape
once per database dialect, building the query with a sample value standing in for each
parameter, and afterwards runs that SQL on Tortoise's connection with the request's values.
Rows come back as plain dicts (no model instances): callers validate them straight into
their response schema.

A sample must reach the SQL as a parameter of its own, unchanged (it cannot for, e.g., a
LIKE pattern that Tortoise escapes and wraps in `%`): preparing refuses the shape otherwise.

`PreparedInsert` does the same for a model's INSERT: the statement Tortoise's executor
generates and caches for the model, run with values converted by the model's own fields and
its defaults for those left out, without the model instance (`Model.create` builds one, with
its change tracking and signal dispatch, a good part of a create: docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tortoise import BaseDBAsyncClient, connections
from tortoise.fields import Field
from tortoise.models import Model
from tortoise.queryset import ValuesQuery


class UnpreparableQuery(ValueError):
    """A sample value did not come out of Tortoise as one parameter of the SQL."""


class _Slot:
    """Where a named value goes among the SQL's parameters."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class PreparedQuery:
    def __init__(
        self, build: Callable[..., ValuesQuery[Any]], *, connection: str, **samples: object
    ) -> None:
        """`build(**values)` makes the query; `samples` are one example value per name,
        each distinct from every other value the query holds."""
        self._build = build
        self._connection = connection
        self._samples = samples
        self._by_dialect: dict[str, tuple[str, list[Any]]] = {}

    async def fetch(self, **values: object) -> list[dict[str, Any]]:
        db = connections.get(self._connection)
        dialect = db.capabilities.dialect
        prepared = self._by_dialect.get(dialect) or self._prepare(db)
        sql, parameters = prepared
        arguments = [values[p.name] if isinstance(p, _Slot) else p for p in parameters]
        rows: list[dict[str, Any]] = await db.execute_query_dict(sql, arguments)
        return rows

    def _prepare(self, db: BaseDBAsyncClient) -> tuple[str, list[Any]]:
        query = self._build(**self._samples)
        query._db = db
        query._make_query()
        sql, generated = query.query.get_parameterized_sql()
        parameters: list[Any] = []
        unused = dict(self._samples)
        for value in generated:
            name = next((n for n, s in unused.items() if _same(s, value)), None)
            if name is None:
                parameters.append(value)  # a constant of the shape
            else:
                parameters.append(_Slot(name))
                del unused[name]
        if unused:
            raise UnpreparableQuery(f"not plain parameters of the SQL: {', '.join(unused)}")
        self._by_dialect[db.capabilities.dialect] = (sql, parameters)
        return sql, parameters


def _same(sample: object, value: object) -> bool:
    return type(sample) is type(value) and sample == value


class PreparedInsert:
    def __init__(self, model: type[Model], *, connection: str) -> None:
        self._model = model
        self._connection = connection
        self._by_dialect: dict[str, tuple[str, list[str]]] = {}

    async def insert(
        self, values: Mapping[str, Any], *, using: BaseDBAsyncClient | None = None
    ) -> dict[str, Any]:
        """Insert one row of `values` (by field name); a column not given takes the model's
        default, as `Model.create` would. `using` runs it on a transaction's connection.
        Returns the row as stored, with its generated key."""
        db = using or connections.get(self._connection)
        sql, columns = self._by_dialect.get(db.capabilities.dialect) or self._prepare(db)
        fields = self._model._meta.fields_map
        row = {name: values[name] if name in values else _default(fields[name]) for name in columns}
        arguments = [fields[name].to_db_value(row[name], self._model) for name in columns]
        generated = await db.execute_insert(sql, arguments)
        # asyncpg answers the RETURNING row, SQLite the row id.
        row[self._model._meta.pk_attr] = (
            generated if isinstance(generated, int) else int(generated[0])
        )
        return row

    def _prepare(self, db: BaseDBAsyncClient) -> tuple[str, list[str]]:
        executor = db.executor_class(model=self._model, db=db)
        prepared = (executor.insert_query, list(executor.regular_columns))
        self._by_dialect[db.capabilities.dialect] = prepared
        return prepared


def _default(field: Field[Any]) -> Any:
    """The value `Model.create` gives a field the caller left out."""
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return datetime.now(UTC)
    if field.default is not None:
        return field.default() if callable(field.default) else field.default
    if field.null:
        return None
    raise ValueError(f"{field.model_field_name!r} has no value and no default")
