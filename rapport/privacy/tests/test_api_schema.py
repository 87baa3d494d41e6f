"""schemathesis against /api/v1/openapi.json: positive and negative data, auth checks.

No call may answer 500, and every documented answer must match its schema. Examples per
operation are few (``EXAMPLES``) so the suite stays fast; the generation is derandomised so
a failure reproduces.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import ignored_auth, not_a_server_error, response_schema_conformance
from schemathesis.generation import GenerationMode

from rapport.accounts.services import create_token
from rapport.wsgi import application

EXAMPLES = 6


@pytest.fixture
def api_schema(users: dict[str, Any], make_org: Any, make_person: Any, settings: Any) -> Iterator[Any]:
    settings.RAPPORT_API_RATE = ""
    make_org(owner="admin", name="Schema Test SA")
    make_person(owner="admin")
    # Called as a plain WSGI app, Django would close the test's database connection at each
    # request (it is inside the test transaction); Django's own test client does the same.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_api_operation_answers_500_or_breaks_its_schema(api_schema: Any, users: dict[str, Any], mode: GenerationMode) -> None:
    headers = {"Authorization": f"Bearer {create_token(user=users['admin'], scope='admin')}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    for operation in operations:
        strategy = operation.as_strategy(generation_mode=mode)

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance], headers=headers)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # every failing operation is reported, not just the first
            failures.append(f"{operation.label}: {str(exc)[:300]}")
    assert not failures, "\n".join(failures[:10])


def test_every_operation_refuses_calls_without_credentials(api_schema: Any) -> None:
    failures = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=2, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), _=st.just(None))
        def check(case: Any, _: None) -> None:
            response = case.call()
            if response.status_code not in (401, 403):  # 403: the session check refuses an unsafe call without a CSRF token
                failures.append(f"{operation.label}: {response.status_code}")

        check()
    assert not failures, failures
    assert ignored_auth is not None  # the same property schemathesis' ignored_auth check asserts


def test_every_parameterless_read_answers_200_and_matches_its_schema(api_schema: Any, users: dict[str, Any]) -> None:
    # Catches routes shadowed by another pattern (e.g. "/{kind}/{card_id}" swallowing "/catalog/items").
    headers = {"Authorization": f"Bearer {create_token(user=users['admin'], scope='admin')}"}
    checked = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.method.upper() != "GET" or "{" in operation.path:
            continue
        required = [p for p in operation.definition.raw.get("parameters", []) if p.get("required")]
        if required:
            continue
        case = operation.Case()
        response = case.call(headers=headers)
        assert response.status_code == 200, (operation.label, response.status_code, response.text[:200])
        case.validate_response(response, checks=[response_schema_conformance], headers=headers)
        checked.append(operation.label)
    assert "GET /api/v1/catalog/items" in checked and "GET /api/v1/audit" in checked
