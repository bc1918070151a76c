"""schemathesis over one of our OpenAPI documents: each operation in turn (its lazy pytest
fixture does not run on pytest 9), checking no 500 and that every answer matches the
documented status codes, content types and schemas."""

from __future__ import annotations

from collections.abc import Callable

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def check_document(
    app, url: str, headers, real: Callable[[str, str], object], examples: int
) -> int:
    """Drive every operation of the document at `url` with `examples` generated requests;
    half of them get path ids that exist (`real(path, name)`). `headers`: a dict, or a
    function of the operation's path giving one per request (an operation that ends the
    session signs in afresh). Returns how many operations."""
    schema = schemathesis.openapi.from_wsgi(url, app)
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        _drive(operation, headers, real, examples)
    return len(operations)


def _drive(operation, headers: dict, real, examples: int) -> None:
    @given(case=operation.as_strategy(), use_real=st.booleans())
    @settings(
        max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(case, use_real):
        if use_real and case.path_parameters:  # half the time, ids that exist
            case.path_parameters = {k: real(operation.path, k) for k in case.path_parameters}
        sent = headers(operation.path) if callable(headers) else headers
        case.call_and_validate(headers=sent, checks=CHECKS)

    run()
