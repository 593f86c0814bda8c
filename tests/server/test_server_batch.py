"""Batch runs over HTTP (`"options": {"batch": true}`): the server's run queue, the real SDK, the fake Batch API."""
from __future__ import annotations

import time

import pytest

from serverkit import events, finish, make_workflow, submit

CATALOGUE = make_workflow({
    "products": {"type": "list.from_csv", "params": {"path": "products.csv", "column": "product"}},
    "skus": {"type": "list.from_csv", "params": {"path": "products.csv", "column": "sku"}},
    "generate": {"type": "gemini.generate", "params": {"aspect_ratio": "1:1"}, "inputs": {"prompt": "products.items"}},
    "save": {"type": "image.save", "params": {"filename": "{name}.png"},
             "inputs": {"image": "generate.image", "name": "skus.items"}}})


@pytest.fixture
def batch_server(start_server, fake_gemini, fake_batches):
    server = start_server(env={"GEMINI_API_KEY": fake_gemini.key, "GOOGLE_GEMINI_BASE_URL": fake_gemini.url})
    (server.inputs / "products.csv").write_text("sku,product\nmug,a mug\nlamp,a lamp\nshoe,a shoe\n")
    return server


def test_a_batch_run_sends_one_job_and_finishes_like_any_run(batch_server, fake_gemini, fake_batches):
    with batch_server.client() as client:
        run = submit(client, CATALOGUE, options={"batch": True})
        stream = events(client, run["id"])
        record = client.get(f"/api/runs/{run['id']}").json()
        listed_runs = client.get("/api/runs").json()["runs"]
    assert record["status"] == "done" and record["options"]["batch"] is True
    assert sorted(f["name"] for f in record["files"]) == ["lamp.png", "mug.png", "shoe.png"]
    assert [len(job.keys) for job in fake_batches.creates] == [3] and not fake_gemini.calls
    assert record["usage"]["batch"]["calls"] == 3
    assert record["cost"] == pytest.approx(record["usage"]["batch"]["direct_cost_usd"] / 2, abs=0.001)
    assert record["direct_cost"] == pytest.approx(record["usage"]["batch"]["direct_cost_usd"])  # beside the batch price
    [listed] = listed_runs
    assert listed["cost"] == record["cost"] and listed["direct_cost"] == record["direct_cost"]
    news = [e["message"] for e in stream if e["event"] == "batch_status"]
    assert news[0].startswith("submitted batch job batches/fake0001: 3 calls") and news == record["batch"]


def test_a_cancelled_batch_run_leaves_its_job_at_google_and_a_rerun_picks_it_up(batch_server, fake_gemini,
                                                                             fake_batches):
    fake_batches.hold()
    with batch_server.client() as client:
        run = submit(client, CATALOGUE, options={"batch": True})
        deadline = time.monotonic() + 60
        while not fake_batches.creates:
            assert time.monotonic() < deadline, batch_server.log.read_text()
            time.sleep(0.05)
        client.post(f"/api/runs/{run['id']}/cancel")
        stopped = finish(client, run["id"])
        assert stopped["status"] == "cancelled" and "run it again to pick them up" in stopped["error"]
        fake_batches.release()
        again = finish(client, client.post(f"/api/runs/{run['id']}/rerun").json()["id"])
    assert again["status"] == "done" and len(again["files"]) == 3
    assert len(fake_batches.creates) == 1  # the rerun found the job instead of submitting it again


def test_a_batch_run_needs_gemini(client):
    vase = make_workflow({"gen": {"type": "gemini.generate", "params": {"prompt": "a vase"}},
                          "save": {"type": "image.save", "inputs": {"image": "gen.image"}}})
    response = client.post("/api/runs", json={"workflow": vase, "options": {"batch": True, "provider": "offline"}})
    assert response.status_code == 422 and "needs Gemini" in response.json()["problems"][0]["message"]


def test_nodes_the_batch_api_cannot_take_are_named_with_the_direct_field_and_go_direct_when_listed(batch_server,
                                                                                                 fake_gemini,
                                                                                                 fake_batches):
    mixed = make_workflow({**CATALOGUE["nodes"],  # grounding, which the Batch API does not offer
                           "news": {"type": "gemini.generate", "params": {"prompt": "today's weather", "search": "web"}},
                           "save_news": {"type": "image.save", "params": {"filename": "news.png"},
                                         "inputs": {"image": "news.image"}}})
    with batch_server.client() as client:
        refused = finish(client, submit(client, mixed, options={"batch": True})["id"])
        assert refused["status"] == "failed" and not fake_batches.creates and not fake_gemini.calls
        assert "the Batch API cannot take the calls of 1 node ('news': its search is on" in refused["error"]
        assert 'Add "options": {"batch": true, "direct": ["news"]} to send its calls direct' in refused["error"]
        assert "--direct" not in refused["error"]  # the command line's words are not for HTTP
        assert list(refused["not_batched"]) == ["news"] and "grounding" in refused["not_batched"]["news"]
        unknown = client.post("/api/runs", json={"workflow": mixed, "options": {"batch": True,
                                                                                 "direct": ["news", "nope"]}})
        without_batch = client.post("/api/runs", json={"workflow": mixed, "options": {"direct": ["news"]}})
        done = finish(client, submit(client, mixed, options={"batch": True, "direct": ["news"]})["id"])
        again = finish(client, client.post(f"/api/runs/{done['id']}/rerun").json()["id"])
    [problem] = unknown.json()["problems"]
    assert unknown.status_code == 422 and problem["node"] == "nope" and problem["code"] == "direct"
    assert "direct 'nope': the workflow has no node 'nope'" in problem["message"]
    assert without_batch.status_code == 422 and '"direct" goes with "batch"' in without_batch.json()["problems"][0][
        "message"]
    assert done["status"] == "done" and done["options"]["direct"] == ["news"], done.get("error")
    assert sorted(f["name"] for f in done["files"]) == ["lamp.png", "mug.png", "news.png", "shoe.png"]
    [job] = fake_batches.creates
    assert len(job.keys) == 3 and [c.search for c in fake_gemini.calls] == [{"web"}]  # news went direct, once
    assert again["status"] == "done" and again["options"]["direct"] == ["news"] and len(fake_batches.creates) == 1
