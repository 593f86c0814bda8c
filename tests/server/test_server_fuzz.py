"""Every route in the OpenAPI spec, fed what schemathesis makes of it: never a 500. Few examples, to stay quick.

The schema is read from the running server and each operation driven through hypothesis directly, rather than
through schemathesis' pytest plugin, whose lazy fixtures break on newer pytest releases.
"""
from __future__ import annotations

from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from serverkit import Server, finish, make_workflow, prepare, save_workflow, submit

# text that paths and names choke on: NUL, ~user, .., separators, control and astral characters, long runs
HOSTILE_TEXT = st.lists(st.sampled_from(["\0", "~", "..", "/", "\\", ".", "a", "photo.png", "{", "}", "%", "é",
                                        "\U0001f34c", "\n", "\x1b", " ", "nosuchuser"]), max_size=12).map("".join) | \
    st.sampled_from(["x" * 5000, "~" + "u" * 300, "/" * 200])
PATH_PARAMS = {"image.load": "path", "image.load_folder": "folder", "mask.load": "path", "list.from_csv": "path"}


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, photo):
    server = prepare(Server(tmp_path_factory.mktemp("fuzz")), photo).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def run_id(fuzzed) -> str:
    """A finished run, whose files route the fuzzing asks for hostile names."""
    with fuzzed.client() as client:
        return finish(client, submit(client, save_workflow())["id"])["id"]


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


@given(node_type=st.sampled_from(sorted(PATH_PARAMS)), value=HOSTILE_TEXT, as_input=st.booleans(),
       filename=HOSTILE_TEXT)
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
def test_hostile_paths_and_names_never_answer_500(fuzzed, run_id, node_type, value, as_input, filename):
    """Workflow-shaped bodies whose file params and file names are hostile text: a 202 or a 4xx, never a 500."""
    param = PATH_PARAMS[node_type]
    workflow = make_workflow({"read": {"type": node_type, "params": {param: "photo.png" if as_input else value}},
                              "load": {"type": "image.load", "params": {"path": "photo.png"}},
                              "save": {"type": "image.save", "params": {"filename": filename or "x.png"},
                                       "inputs": {"image": "load.image"}}})
    body = {"workflow": workflow, "inputs": {f"read.{param}": value} if as_input else {}}
    with fuzzed.client() as client:
        for response in (client.post("/api/runs", json=body), client.post("/api/validate", json=workflow),
                         client.get(f"/api/runs/{run_id}/files/{quote(value)}"),
                         client.get(f"/api/workflows/{quote(value, safe='')}")):
            assert response.status_code < 500, f"{response.request.url}: {response.status_code} {response.text}"
            if response.status_code >= 400:  # a problem the client can read, not an HTML or text page
                assert response.json()["detail"], response.text
