"""Every route in the OpenAPI spec, fed what schemathesis makes of it: never a 500. Few examples, to stay quick."""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from conftest import Server, prepare


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, photo):
    server = prepare(Server(tmp_path_factory.mktemp("fuzz")), photo).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_schema(fuzzed):
    return schemathesis.openapi.from_url(f"{fuzzed.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=6, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_route_answers_500(case, fuzzed):
    response = case.call(base_url=fuzzed.url, timeout=30)
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500
