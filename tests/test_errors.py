"""The problem registry: every kind of problem is defined once, and completely."""

from __future__ import annotations

import pytest

from service.api.problems import Problem
from service.errors import (
    DatabaseUnavailable,
    FieldErrorDict,
    HttpError,
    IdempotencyKeyReused,
    NoteNotFound,
    NotFound,
    NotReady,
    ServiceError,
    ValidationFailed,
    problem_kinds,
)

KINDS = problem_kinds()


def test_each_kind_has_its_own_slug() -> None:
    slugs = [kind.slug for kind in KINDS]
    assert len(slugs) == len(set(slugs))
    assert NoteNotFound not in KINDS  # it is a not-found, with its own detail
    assert {ServiceError, NotFound, ValidationFailed, IdempotencyKeyReused} <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.slug)
def test_each_kind_is_documented_with_an_example_of_itself(kind: type[ServiceError]) -> None:
    example = Problem.model_validate(kind.example())
    assert example.type == f"/problems/{kind.slug}"
    assert (example.status, example.title, example.detail) == (kind.status, kind.title, kind.detail)
    assert (example.errors is not None) == (kind.status == 422)
    assert kind.explanation


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.slug)
def test_a_raised_error_carries_no_header_its_kind_does_not_document(
    kind: type[ServiceError],
) -> None:
    """(`WWW-Authenticate` and `Allow` depend on the request: their raisers add them.)"""
    error = HttpError(500) if kind is HttpError else kind()
    assert set(error.headers) <= {name for name, _ in kind.header_docs}


def test_an_error_says_what_happened_this_time() -> None:
    error = NoteNotFound(7)
    assert (error.status, error.slug, error.detail) == (404, "not-found", "Note 7 does not exist.")
    assert DatabaseUnavailable().headers == {"Retry-After": "2"}
    assert NotReady("draining").headers == {"Retry-After": "5"}
    assert IdempotencyKeyReused().errors == list(IdempotencyKeyReused.example_errors or ())


def test_a_validation_failure_counts_its_fields() -> None:
    one: FieldErrorDict = {"loc": ["body", "text"], "msg": "required", "type": "missing"}
    assert (
        ValidationFailed.of_fields([one]).detail == "The request has 1 invalid field; see errors."
    )
    assert ValidationFailed.of_fields([one, one]).detail.startswith(
        "The request has 2 invalid fields"
    )
