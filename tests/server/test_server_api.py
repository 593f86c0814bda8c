"""The API end to end against a real server process: submit, follow, download, cancel, list, re-run."""
from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from PIL import Image

from serverkit import PACKS, events, finish, make_workflow, save_workflow, sleepy_workflow, submit


def test_nodes_is_the_cli_catalogue(client, server):
    cli = subprocess.run([sys.executable, "-m", "flowbanana", "nodes", "--json", "--nodes-dir", str(PACKS),
                          "--workflows", str(server.workflows)], capture_output=True, text=True, check=True)
    assert client.get("/api/nodes").json() == json.loads(cli.stdout)


def test_validate_reports_every_problem(client):
    body = make_workflow({"a": {"type": "test.upper", "params": {"nope": 1}},
                          "b": {"type": "no.such"}})
    report = client.post("/api/validate", json=body).json()
    assert report["valid"] is False
    codes = {(p["code"], p["node"]) for p in report["problems"]}
    assert {("unknown_param", "a"), ("missing_input", "a"), ("unknown_type", "b"), ("no_output", None)} <= codes
    assert all(p["message"] for p in report["problems"])


def test_validate_is_the_cli_validate(client, tmp_path):
    body = make_workflow({"a": {"type": "test.upper", "params": {"suffix": 3}}, "b": {"type": "text.nope"}})
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(body))
    cli = subprocess.run([sys.executable, "-m", "flowbanana", "validate", str(path), "--json", "--nodes-dir",
                          str(PACKS)], capture_output=True, text=True)
    assert cli.returncode == 2
    assert client.post("/api/validate", json=body).json()["problems"] == json.loads(cli.stdout)[str(path)]


def test_validate_accepts_a_good_workflow(client):
    assert client.post("/api/validate", json=save_workflow()).json() == {"valid": True, "problems": []}


def test_submit_follow_download(client, photo):
    run = submit(client, save_workflow())
    assert run["status"] in ("queued", "running") and run["links"]["events"].endswith("/events")
    kinds = [e["event"] for e in events(client, run["id"])]
    assert kinds[0] == "run_started" and kinds[-1] == "run_finished"
    assert kinds.count("node_finished") == 2
    record = client.get(f"/api/runs/{run['id']}").json()
    assert record["status"] == "done"
    assert {n: v["status"] for n, v in record["nodes"].items()} == {"load": "done", "save": "done"}
    assert [f["name"] for f in record["files"]] == ["out_1.png"]
    assert record["nodes"]["save"]["meta"]["files"] == ["out_1.png"]  # relative: no server path leaves
    assert record["nodes"]["save"]["outputs"] == {"path": "out_1.png"}
    assert record["nodes"]["save"]["files"] == record["files"] and record["nodes"]["load"]["files"] == []
    assert record["usage"]["provider"] and record["cost"] == 0.0
    download = client.get(record["files"][0]["url"])
    assert download.status_code == 200 and download.headers["content-type"] == "image/png"
    with Image.open(io.BytesIO(download.content)) as image:
        assert image.size == photo.size and image.convert("RGB").getpixel((10, 20)) == photo.getpixel((10, 20))


def test_usage_and_cost_of_a_gemini_run_and_its_rerun(start_server, fake_gemini):
    server = start_server(env={"GEMINI_API_KEY": fake_gemini.key, "GOOGLE_GEMINI_BASE_URL": fake_gemini.url})
    body = make_workflow({"gen": {"type": "gemini.generate", "params": {"prompt": "a teapot", "count": 2,
                                                                       "model": "gemini-3.1-flash-image"}},
                          "save": {"type": "image.save", "inputs": {"image": "gen.image"}}})
    with server.client() as client:
        first = finish(client, submit(client, body)["id"])  # provider auto: a key is set, so Gemini
        assert first["status"] == "done" and len(first["files"]) == 2
        assert first["usage"]["provider"] != "offline preview" and first["usage"]["calls"] == 2
        assert first["cost"] == pytest.approx(2 * 0.067, rel=0.01) and first["usage"]["tokens"]
        assert first["nodes"]["gen"]["meta"]["calls"] == 2 and first["nodes"]["gen"]["meta"]["model"]
        listed = client.get("/api/runs").json()["runs"][0]
        assert listed["cost"] == first["cost"]
        again = finish(client, client.post(f"/api/runs/{first['id']}/rerun").json()["id"])
        assert again["nodes"]["gen"]["status"] == "cached" and again["cost"] == 0 and again["usage"]["calls"] == 0
    assert len(fake_gemini.calls) == 2


def test_late_listener_gets_the_whole_stream(client):
    run = submit(client, save_workflow())
    first = events(client, run["id"])
    again = events(client, run["id"])  # the run has ended: replayed from its log
    assert again == first and [e["seq"] for e in again] == list(range(len(again)))
    assert events(client, run["id"], last_event_id=2) == first[3:]


def test_invalid_workflow_is_refused_with_problems(client):
    response = client.post("/api/runs", json={"workflow": make_workflow({"t": {"type": "text.text"}})})
    assert response.status_code == 422
    assert [p["code"] for p in response.json()["problems"]] == ["no_output"]


@pytest.mark.parametrize("body, code", [
    ({"inputs": {"subject": "x"}}, "request"),
    ({"workflow": {"format": "flowbanana/workflow", "version": 2, "nodes": {}}, "name": "x"}, "request"),
    ({"workflow": {"format": "something else"}}, "format"),
    ({"workflow": save_workflow("{index:300000000}.png")}, "bad_value"),  # 299 bytes that once made 200 MB
])
def test_malformed_run_requests(client, body, code):
    response = client.post("/api/runs", json=body)
    assert response.status_code == 422 and response.json()["problems"][0]["code"] == code


def test_unknown_provider_is_refused(client):
    response = client.post("/api/runs", json={"workflow": save_workflow(), "options": {"provider": "nope"}})
    assert response.status_code == 422 and response.json()["problems"][0]["code"] == "provider"


def test_inputs_override_params(client):
    body = make_workflow({"t": {"type": "text.text", "params": {"text": "plain"}},
                          "up": {"type": "test.upper", "inputs": {"text": "t.text"}},
                          "show": {"type": "test.show", "inputs": {"value": "up.text"}}},
                         inputs={"subject": {"node": "t", "param": "text"}})
    run = submit(client, body, inputs={"subject": "teapot", "up.suffix": "!"})
    record = finish(client, run["id"])
    assert record["nodes"]["show"]["outputs"] == {"value": "TEAPOT!"}
    assert record["inputs"] == {"subject": "teapot", "up.suffix": "!"}
    bad = client.post("/api/runs", json={"workflow": body, "inputs": {"nope": 1}})
    assert bad.status_code == 422 and bad.json()["problems"][0]["code"] == "set"


def test_a_failing_node_stops_only_what_depends_on_it(client):
    body = make_workflow({"t": {"type": "text.text", "params": {"text": "boom"}},
                          "up": {"type": "test.upper", "inputs": {"text": "t.text"}},
                          "bad": {"type": "test.show", "inputs": {"value": "up.text"}},
                          "good": {"type": "test.show", "inputs": {"value": "t.text"}}})
    record = finish(client, submit(client, body)["id"])
    assert record["status"] == "failed"
    assert record["nodes"]["up"]["status"] == "failed" and "boom" in record["nodes"]["up"]["error"]
    assert record["nodes"]["up"]["hint"] == "Pick another word."
    assert record["nodes"]["bad"]["status"] == "skipped" and record["nodes"]["good"]["status"] == "done"


def test_cancel_a_running_run(client):
    run = submit(client, sleepy_workflow())
    for event in _until(client, run["id"], "node_started", "nap"):
        pass
    response = client.post(f"/api/runs/{run['id']}/cancel")
    assert response.status_code == 202
    record = finish(client, run["id"])
    assert record["status"] == "cancelled"
    assert record["nodes"]["first"]["status"] in ("done", "cached")
    assert record["nodes"]["nap"]["status"] == "cancelled" and record["nodes"]["show"]["status"] == "skipped"
    assert client.post(f"/api/runs/{run['id']}/cancel").status_code == 409


def test_queue_runs_a_few_at_a_time(start_server):
    server = start_server(max_runs=1)
    with server.client() as client:
        first = submit(client, sleepy_workflow())
        for _ in _until(client, first["id"], "node_started", "nap"):
            pass
        second = submit(client, save_workflow())
        assert client.get(f"/api/runs/{second['id']}").json()["status"] == "queued"  # first holds the only slot
        client.post(f"/api/runs/{first['id']}/cancel")
        assert finish(client, second["id"])["status"] == "done"
        waiting = submit(client, sleepy_workflow())
        behind = submit(client, save_workflow())
        assert client.post(f"/api/runs/{behind['id']}/cancel").status_code == 202
        record = finish(client, behind["id"])
        assert record["status"] == "cancelled" and record["started"] is None and record["files"] == []
        client.post(f"/api/runs/{waiting['id']}/cancel")


def test_rerun_reuses_the_cache(client):
    body = make_workflow({"n": {"type": "test.number", "params": {"value": 2}},
                          "add": {"type": "test.add", "inputs": {"a": "n.value"}, "params": {"offset": 1}},
                          "show": {"type": "test.show", "inputs": {"value": "add.sum"}}})
    first = finish(client, submit(client, body)["id"])
    response = client.post(f"/api/runs/{first['id']}/rerun")
    assert response.status_code == 202
    second = finish(client, response.json()["id"])
    assert second["origin"] == f"rerun of {first['id']}" and second["workflow"] == first["workflow"]
    assert {n: v["status"] for n, v in second["nodes"].items()} == {"n": "cached", "add": "cached", "show": "cached"}
    assert second["nodes"]["show"]["outputs"] == {"value": 3.0}


def test_no_cache_runs_everything(client):
    body = make_workflow({"n": {"type": "test.number", "params": {"value": 5}},
                          "show": {"type": "test.show", "inputs": {"value": "n.value"}}})
    finish(client, submit(client, body)["id"])
    record = finish(client, submit(client, body, options={"no_cache": True, "force": []})["id"])
    assert {v["status"] for v in record["nodes"].values()} == {"done"}
    forced = finish(client, submit(client, body, options={"force": ["n"]})["id"])
    assert forced["nodes"]["n"]["status"] == "done" and forced["nodes"]["show"]["status"] == "cached"


def test_saved_workflows_round_trip_and_run_by_name(client, server, photo):
    photo.save(server.workflows / "photo.png")  # a saved workflow reads relative paths next to itself
    body = save_workflow(filename="named.png")
    created = client.put("/api/workflows/product shot", json=body)
    assert created.status_code == 201 and created.json() == {"name": "product shot", "problems": []}
    assert (server.workflows / "product shot.json").is_file()
    assert client.put("/api/workflows/product shot", json=body).status_code == 200
    assert client.get("/api/workflows/product shot").json() == body
    listed = {w["name"]: w for w in client.get("/api/workflows").json()["workflows"]}
    assert listed["product shot"]["title"] == "api test"
    run = submit(client, name="product shot")
    record = finish(client, run["id"])
    assert record["status"] == "done" and [f["name"] for f in record["files"]] == ["named.png"]
    again = finish(client, client.post(f"/api/runs/{run['id']}/rerun").json()["id"])
    assert again["status"] == "done" and again["base_dir"] == record["base_dir"]  # still reads beside the file
    assert client.get("/api/workflows/nothing here").status_code == 404
    assert client.post("/api/runs", json={"name": "nothing here"}).status_code == 404


def test_saving_an_invalid_document_is_refused_but_an_incomplete_one_is_kept(client):
    refused = client.put("/api/workflows/broken", json={"format": "flowbanana/workflow", "version": 2,
                                                        "nodes": {"bad id!": {"type": "x.y"}}})
    assert refused.status_code == 422 and refused.json()["problems"][0]["code"] == "node_id"
    kept = client.put("/api/workflows/draft", json=make_workflow({"t": {"type": "text.text"}}))
    assert kept.status_code == 201 and [p["code"] for p in kept.json()["problems"]] == ["no_output"]


def test_unknown_runs_and_files_are_404(client):
    assert client.get("/api/runs/20260101-000000-abcdef").status_code == 404
    assert client.get("/api/runs/nonsense").status_code == 404
    assert client.get("/api/runs/nonsense/events").status_code == 404
    run = finish(client, submit(client, save_workflow())["id"])
    assert client.get(f"/api/runs/{run['id']}/files/missing.png").status_code == 404


def _until(client, run_id: str, kind: str, node: str):
    """Read the run's events until `node` reaches `kind` (then stop listening)."""
    with client.stream("GET", f"/api/runs/{run_id}/events") as response:
        for line in response.iter_lines():
            if line.startswith("data: "):
                event = json.loads(line[6:])
                yield event
                if event["event"] == kind and event["node"] == node:
                    return
    raise AssertionError(f"{node} never reached {kind}")


def test_a_run_past_its_bounds_fails_its_node_clearly_and_the_server_stays_up(start_server):
    """The 500-byte request that once took a server to 5 GB: 12 list items, each resized up. Past the image
    memory a run may hold (here --run-memory 8), or past the pixels one image may have, the resize fails with
    an error naming it; the other nodes, the record and the server are fine."""
    server = start_server(args=("--run-memory", "8"))
    body = make_workflow({
        "names": {"type": "list.from_lines", "params": {"text": "\n".join(["photo.png"] * 12)}},
        "load": {"type": "image.load", "inputs": {"path": "names.items"}},
        "big": {"type": "image.resize", "params": {"mode": "size", "width": 1024, "height": 1024},
                "inputs": {"image": "load.image"}},
        "show": {"type": "image.preview", "inputs": {"image": "big.image"}}})
    with server.client() as client:
        record = finish(client, submit(client, body)["id"])
        assert record["status"] == "failed" and record["nodes"]["load"]["status"] == "done"
        assert "of images, over its limit of 8 MB" in record["nodes"]["big"]["error"]
        body["nodes"]["big"]["params"].update(width=8192, height=8192)
        record = finish(client, submit(client, body)["id"])
        assert "8192×8192 pixels (67,108,864), over the limit of 64,000,000 pixels per image" in \
            record["nodes"]["big"]["error"]
        assert client.get("/api/health").status_code == 200
