"""Runs that last: newest-first pages, and what a restart (clean or a crash) leaves of each run."""
from __future__ import annotations

import json
import signal
import time

import pytest

from serverkit import events, finish, make_workflow, save_workflow, sleepy_workflow, submit
from test_server_api import _until


def number_workflow(value: int) -> dict:
    return make_workflow({"n": {"type": "test.number", "params": {"value": value}},
                          "show": {"type": "test.show", "inputs": {"value": "n.value"}}}, name=f"number {value}")


def test_list_is_newest_first_and_paginated(start_server):
    server = start_server()
    with server.client() as client:
        ids = [finish(client, submit(client, number_workflow(i))["id"])["id"] for i in range(5)]
        page = client.get("/api/runs", params={"limit": 2}).json()
        assert page["total"] == 5 and page["next"] == 2
        assert [r["id"] for r in page["runs"]] == ids[::-1][:2]
        rest = client.get("/api/runs", params={"limit": 2, "offset": 2}).json()
        last = client.get("/api/runs", params={"limit": 2, "offset": 4}).json()
        assert [r["id"] for r in rest["runs"] + last["runs"]] == ids[::-1][2:] and last["next"] is None
        assert page["runs"][0]["name"] == "number 4" and page["runs"][0]["status"] == "done"
        assert "workflow" not in page["runs"][0]  # summaries stay small
        assert client.get("/api/runs", params={"limit": 0}).status_code == 422
        assert client.get("/api/runs", params={"offset": -1}).status_code == 422


def test_thumbnail_points_at_the_first_image(client):
    run = finish(client, submit(client, save_workflow())["id"])
    listed = client.get("/api/runs").json()["runs"][0]
    assert listed["id"] == run["id"] and listed["thumbnail"] == run["files"][0]["url"] and listed["files"] == 1
    assert client.get(listed["thumbnail"]).status_code == 200


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["crash", "clean stop"])
def test_restart_lists_old_runs_and_marks_the_unfinished_interrupted(start_server, how):
    server = start_server(max_runs=1)
    with server.client() as client:
        done = finish(client, submit(client, save_workflow())["id"])
        running = submit(client, sleepy_workflow())
        for _ in _until(client, running["id"], "node_started", "nap"):
            pass
        waiting = submit(client, number_workflow(7))
    on_disk = server.runs / running["id"] / "run.json"
    deadline = time.monotonic() + 30  # records are written behind the run, a fraction of a second late
    while json.loads(on_disk.read_text())["nodes"].get("first", {}).get("status") != "done":
        assert time.monotonic() < deadline, "the record never showed node 'first' done"
        time.sleep(0.05)
    server.restart(how)
    with server.client() as client:
        listed = {r["id"]: r for r in client.get("/api/runs").json()["runs"]}
        assert [listed[i]["status"] for i in (done["id"], running["id"], waiting["id"])] == \
            ["done", "interrupted", "interrupted"]
        record = client.get(f"/api/runs/{running['id']}").json()
        assert record["nodes"]["first"]["status"] == "done" and record["nodes"]["nap"]["status"] == "interrupted"
        assert "server stopped" in record["error"]
        assert client.get(f"/api/runs/{done['id']}/files/out_1.png").status_code == 200
        replay = events(client, running["id"])  # the old run's stream, read back from its log
        assert replay[0]["event"] == "run_started" and replay[-1]["event"] == "run_finished"
        assert replay[-1]["status"] == "interrupted" and [e["seq"] for e in replay] == list(range(len(replay)))
        again = client.post(f"/api/runs/{running['id']}/rerun").json()
        for event in _until(client, again["id"], "node_started", "nap"):
            if event["node"] == "first":
                assert event["event"] == "node_cached"  # what finished before the restart is not paid again
        client.post(f"/api/runs/{again['id']}/cancel")
        assert finish(client, again["id"])["status"] == "cancelled"


def test_a_run_record_is_a_complete_json_file_at_every_step(server, client):
    run = submit(client, save_workflow())
    events(client, run["id"])
    record = json.loads((server.runs / run["id"] / "run.json").read_text())
    assert record["status"] == "done" and record["workflow"] == save_workflow()
    assert set(record) >= {"workflow", "inputs", "nodes", "files", "usage", "created", "started", "finished"}
    assert not list((server.runs / run["id"]).glob("*.tmp"))
    lines = (server.runs / run["id"] / "events.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["event"] == "run_finished"


def test_delete_an_ended_run(server, client):
    run = finish(client, submit(client, save_workflow())["id"])
    busy = submit(client, sleepy_workflow())
    assert client.delete(f"/api/runs/{busy['id']}").status_code == 409
    assert client.delete(f"/api/runs/{run['id']}").status_code == 204
    assert client.get(f"/api/runs/{run['id']}").status_code == 404
    assert not (server.runs / run["id"]).exists()
    assert run["id"] not in [r["id"] for r in client.get("/api/runs", params={"limit": 500}).json()["runs"]]
    client.post(f"/api/runs/{busy['id']}/cancel")
    finish(client, busy["id"])
    assert client.delete(f"/api/runs/{busy['id']}").status_code == 204
