"""Each saved workflow as its own endpoint: a request schema from its interface, in /openapi.json, checked first."""
from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from serverkit import finish, make_workflow

NAP = make_workflow(
    {"s": {"type": "test.sleep", "params": {"seconds": 0.01, "label": "sleeper"}},
     "p": {"type": "test.pick"},
     "show": {"type": "test.show", "inputs": {"value": "s.label"}},
     "both": {"type": "test.collect", "inputs": {"items": ["s.label", "p.how"]}}},
    name="Nap", description="Sleeps, then says who slept.",
    inputs={"label": {"node": "s", "param": "label", "description": "Who sleeps"},
            "nap-time": {"node": "s", "param": "seconds", "description": "How long"},
            "how": {"node": "p", "param": "how"},
            "after": {"node": "s", "input": "after"}},
    outputs={"who": {"node": "s", "output": "label", "description": "Who slept"}})


@pytest.fixture
def nap(server):
    (server.workflows / "nap.json").write_text(json.dumps(NAP))
    return "nap"


def test_each_saved_workflow_has_a_typed_operation_in_openapi(client, nap):
    spec = client.get("/openapi.json").json()
    operation = spec["paths"]["/api/workflows/nap/run"]["post"]
    assert operation["summary"] == "Run 'Nap'" and "Sleeps, then says who slept." in operation["description"]
    assert "`who` (TEXT): Who slept" in operation["description"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    inputs = spec["components"]["schemas"][body["properties"]["inputs"]["$ref"].rsplit("/", 1)[1]]
    assert inputs["additionalProperties"] is False and set(inputs["properties"]) == {"label", "nap-time", "how"}
    assert inputs["properties"]["nap-time"] | {"title": None} == {
        "type": "number", "minimum": 0, "default": 0.01, "description": "How long", "title": None}
    assert inputs["properties"]["how"]["enum"] == ["calm", "wild"] and inputs["properties"]["how"]["default"] == "calm"
    assert inputs["properties"]["label"]["type"] == "string"


def test_a_workflow_saved_while_serving_appears_at_once(client, server):
    assert "/api/workflows/later/run" not in client.get("/openapi.json").json()["paths"]
    assert client.put("/api/workflows/later", json={**NAP, "name": "Later"}).status_code in (200, 201)
    assert "/api/workflows/later/run" in client.get("/openapi.json").json()["paths"]


def test_running_a_workflow_by_its_endpoint(client, nap):
    response = client.post("/api/workflows/nap/run", json={"inputs": {"label": "dormouse", "nap-time": 0, "how": "wild"},
                                                          "options": {"provider": "offline"}})
    assert response.status_code == 202, response.text
    record = finish(client, response.json()["id"])
    assert record["status"] == "done" and record["inputs"] == {"label": "dormouse", "nap-time": 0, "how": "wild"}
    assert record["nodes"]["show"]["outputs"]["value"] == "dormouse"
    assert record["outputs"]["who"] == {"node": "s", "output": "label", "type": "TEXT", "description": "Who slept",
                                        "value": "dormouse"}            # the workflow's outputs, by name
    assert record["nodes"]["both"]["outputs"]["count"] == 2
    left_out = client.post("/api/workflows/nap/run", json={})
    assert left_out.status_code == 202 and finish(client, left_out.json()["id"])["nodes"]["show"]["outputs"] == {
        "value": "sleeper"}                                 # inputs left out keep the workflow's own values


@pytest.mark.parametrize("body, port, words", [
    ({"inputs": {"nap-time": "soon"}}, "nap-time", "input 'nap-time': input should be a valid number, got 'soon'."),
    ({"inputs": {"nap-time": -1}}, "nap-time", "greater than or equal to 0"),
    ({"inputs": {"how": "loud"}}, "how", "input should be 'calm' or 'wild'"),
    ({"inputs": {"label": 7}}, "label", "input should be a valid string, got 7."),
    ({"inputs": {"after": "x"}}, "after", "the workflow has no input 'after'."),
    ({"inputs": {"nope": 1}}, "nope", "the workflow has no input 'nope'."),
    ({"input": {}}, None, "input: extra inputs are not permitted."),
])
def test_requests_that_do_not_fit_the_interface_are_refused_with_problems(client, nap, body, port, words):
    response = client.post("/api/workflows/nap/run", json=body)
    assert response.status_code == 422, response.text
    problems = response.json()["problems"]
    assert any(words in p["message"] and p["port"] == port for p in problems), problems


def test_every_problem_is_reported_at_once(client, nap):
    response = client.post("/api/workflows/nap/run", json={"inputs": {"nap-time": "soon", "how": "loud", "x": 1}})
    assert response.status_code == 422 and {p["port"] for p in response.json()["problems"]} == {"nap-time", "how", "x"}


def test_unknown_and_broken_workflows(client, server):
    assert client.post("/api/workflows/ghost/run", json={}).status_code == 404
    assert client.post("/api/workflows/..%2Fsecret/run", json={}).status_code in (400, 404)
    (server.workflows / "broken.json").write_text("{")
    broken = client.post("/api/workflows/broken/run", json={})
    assert broken.status_code == 422 and "not valid JSON" in broken.json()["problems"][0]["message"]
    assert "/api/workflows/broken/run" not in client.get("/openapi.json").json()["paths"]


def test_the_workflows_list_carries_each_interface_and_its_endpoint(client, nap):
    listed = {w["name"]: w for w in client.get("/api/workflows").json()["workflows"]}
    entry = listed["nap"]
    assert entry["run"].endswith("/api/workflows/nap/run")
    assert [i["name"] for i in entry["interface"]["inputs"]] == ["label", "nap-time", "how", "after"]
    assert entry["interface"]["outputs"][0]["name"] == "who"


def test_a_workflow_using_a_saved_subgraph_runs_by_its_endpoint(client, server, nap):
    (server.workflows / "double-nap.json").write_text(json.dumps(make_workflow(
        {"a": {"type": "workflow", "workflow": "nap.json", "params": {"label": "first"}},
         "b": {"type": "workflow", "workflow": "nap.json"},
         "show": {"type": "test.collect", "inputs": {"items": ["a.who", "b.who"]}}},
        name="Double nap", inputs={"second": {"node": "b", "param": "label"}})))
    spec = client.get("/openapi.json").json()
    assert "/api/workflows/double-nap/run" in spec["paths"]
    response = client.post("/api/workflows/double-nap/run", json={"inputs": {"second": "dozy"}})
    assert response.status_code == 202, response.text
    record = finish(client, response.json()["id"])
    assert record["status"] == "done" and record["nodes"]["b/s"]["outputs"]["label"] == "dozy"
    assert record["nodes"]["a/s"]["outputs"]["label"] == "first"


@pytest.mark.parametrize("inputs, words", [
    ({"nope": 1}, "inputs.nope: the workflow has no input 'nope'."),
    ({"s.zzz": 1}, "inputs.s.zzz: no param 'zzz' on node 's'."),
])
def test_inputs_that_do_not_fit_a_submitted_run_are_told_in_the_requests_words(client, nap, inputs, words):
    response = client.post("/api/runs", json={"name": nap, "inputs": inputs})
    assert response.status_code == 422, response.text
    text = " ".join(f"{p['message']} {p['hint']}" for p in response.json()["problems"])
    assert words in text and "--set" not in text and "flowbanana run" not in text, text


FRAME = make_workflow(
    {"square": {"type": "image.crop", "params": {"mode": "aspect", "aspect": "1:1"}},
     "save": {"type": "image.save", "inputs": {"image": "square.image"}, "params": {"filename": "square.png"}}},
    name="Frame", inputs={"photo": {"node": "square", "input": "image", "description": "The picture to square"}})


def test_an_image_input_port_takes_an_uploaded_file(client, server, photo):
    """An IMAGE input port (fed by a link when the workflow is a node) is a required path in the schema; the
    path POST /api/uploads returned feeds it through an image.load node."""
    (server.workflows / "frame.json").write_text(json.dumps(FRAME))
    spec = client.get("/openapi.json").json()
    body = spec["components"]["schemas"]["FrameRun"]
    inputs = spec["components"]["schemas"][body["properties"]["inputs"]["$ref"].rsplit("/", 1)[1]]
    assert inputs["required"] == ["photo"] and inputs["properties"]["photo"]["type"] == "string"
    assert inputs["properties"]["photo"]["format"] == "path"
    assert inputs["properties"]["photo"]["description"].startswith("The picture to square An image file (a path")

    missing = client.post("/api/workflows/frame/run", json={})
    assert missing.status_code == 422 and missing.json()["problems"][0]["port"] == "photo", missing.text
    wrong = client.post("/api/workflows/frame/run", json={"inputs": {"photo": 7}})
    assert wrong.status_code == 422
    assert "path of an image file" in wrong.json()["problems"][0]["hint"]

    data = io.BytesIO()
    photo.save(data, format="PNG")
    uploaded = client.post("/api/uploads", content=data.getvalue(), headers={"content-type": "image/png"}).json()
    response = client.post("/api/workflows/frame/run", json={"inputs": {"photo": uploaded["path"]}})
    assert response.status_code == 202, response.text
    record = finish(client, response.json()["id"])
    assert record["status"] == "done", record
    square = client.get(f"/api/runs/{record['id']}/files/square.png")
    assert Image.open(io.BytesIO(square.content)).size == (48, 48)  # the 64x48 upload, cropped square
