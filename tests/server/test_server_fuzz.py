"""Every route in the OpenAPI spec, fed what schemathesis makes of it: never a 500. Few examples, to stay quick.

The schema is read from the running server and each operation driven through hypothesis directly, rather than
through schemathesis' pytest plugin, whose lazy fixtures break on newer pytest releases.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from serverkit import Server, prepare


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, photo):
    server = prepare(Server(tmp_path_factory.mktemp("fuzz")), photo).start()
    yield server
    server.stop()


def test_no_route_answers_500(fuzzed):
    schema = schemathesis.openapi.from_url(f"{fuzzed.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, "the spec should list every /api route"
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck),
                  database=None)
        def no_server_error(case):
            response = case.call(base_url=fuzzed.url, timeout=30)
            case.validate_response(response, checks=[not_a_server_error])
            assert response.status_code < 500, f"{operation.label}: {response.status_code} {response.text[:200]}"

        no_server_error()
