"""The Python side the editor uses: RunService in-process, and add_api on an app of one's own."""
from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from flowbanana.server import RunService, ServerSettings, add_api
from flowbanana.workflow import from_dict

from serverkit import free_port, make_workflow, save_workflow, sleepy_workflow


@pytest.fixture
def settings(tmp_path, photo) -> ServerSettings:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    photo.save(inputs / "photo.png")
    return ServerSettings(workflows_dir=tmp_path / "workflows", runs_dir=tmp_path / "runs", input_dirs=(inputs,),
                          cache_dir=tmp_path / "cache")


@pytest.fixture
def service(settings, catalogue) -> RunService:
    return RunService(settings, catalogue)


async def test_submit_watch_and_read_back(service):
    seen = []
    record = service.submit(from_dict(save_workflow()), origin="editor", on_event=lambda e: seen.append(e.kind))
    streamed = [e["event"] async for e in service.events(record.id)]
    done = await service.wait(record.id)
    assert done.status == "done" and done.origin == "editor"
    assert seen == streamed and streamed[-1] == "run_finished"
    assert [p.name for p in service.files(record.id)] == ["out_1.png"] and service.files(record.id)[0].is_file()
    assert service.thumbnail(record.id) == "out_1.png"
    assert service.open_workflow(record.id).to_dict() == save_workflow()
    runs, total = service.list_runs(limit=10)
    assert total == 1 and runs[0].id == record.id


async def test_live_execution_and_subscription(service):
    record = service.submit(sleepy_workflow(), provider="offline")
    kinds = []
    for event in [e async for e in _take(service.events(record.id), "node_started", "nap")]:
        kinds.append(event["event"])
    assert service.execution(record.id).results["first"].outputs == {"value": 3.0}
    late = []
    service.subscribe(record.id, lambda e: late.append(e.kind))
    service.cancel(record.id)
    assert (await service.wait(record.id)).status == "cancelled"
    assert "node_cancelled" in late and late[-1] == "run_finished"
    assert service.execution(record.id) is None


async def test_a_live_stream_resumes_after_a_given_event(service):
    record = service.submit(sleepy_workflow())
    seen = [e async for e in _take(service.events(record.id), "node_started", "nap")]

    async def rest():
        return [e async for e in service.events(record.id, after=1)]
    resumed = asyncio.create_task(rest())
    await asyncio.sleep(0)
    service.cancel(record.id)
    events = await resumed
    assert [e["seq"] for e in events] == list(range(2, len(events) + 2))
    assert events[:len(seen) - 2] == seen[2:] and events[-1]["event"] == "run_finished"
    assert events[-1]["status"] == "cancelled"


async def test_rerun_and_close_marks_interrupted(service):
    first = await service.wait(service.submit(save_workflow()).id)
    again = await service.wait(service.rerun(first.id).id)
    assert again.nodes["load"]["status"] == "cached" and again.origin == f"rerun of {first.id}"
    running = service.submit(sleepy_workflow())
    waiting = [service.submit(sleepy_workflow()) for _ in range(3)]  # max_runs=2: some wait
    async for _ in _take(service.events(running.id), "node_started", "nap"):
        pass
    await service.close()
    statuses = {service.get(r.id).status for r in [running, *waiting]}
    assert statuses == {"interrupted"}
    reopened = RunService(service.settings, service.catalogue)  # as after a restart
    assert reopened.get(running.id).status == "interrupted" and reopened.get(first.id).status == "done"


async def test_a_long_chain_is_recorded_whole(service):
    nodes = {"n0": {"type": "test.number", "params": {"value": 1}}}
    nodes.update({f"n{i}": {"type": "test.add", "params": {"offset": 1},
                            "inputs": {"a": f"n{i - 1}." + ("value" if i == 1 else "sum")}} for i in range(1, 300)})
    nodes["show"] = {"type": "test.show", "inputs": {"value": "n299.sum"}}
    record = await service.wait(service.submit(make_workflow(nodes)).id)
    assert record.status == "done" and {n["status"] for n in record.nodes.values()} == {"done"}
    assert len(record.nodes) == 301 and record.nodes["show"]["outputs"] == {"value": 300.0}
    kinds = [e["event"] async for e in service.events(record.id)]
    assert kinds.count("node_finished") == 301 and kinds[-1] == "run_finished"
    on_disk = RunService(service.settings, service.catalogue).get(record.id)  # what a restart would read
    assert on_disk.to_json() == record.to_json()


async def test_unknown_runs_raise_key_error(service):
    with pytest.raises(KeyError):
        service.get("20260101-000000-abcdef")
    with pytest.raises(KeyError):
        service.get("../../etc")


def test_add_api_guards_the_whole_app(tmp_path, catalogue):
    """What `flowbanana ui` does: the API mounted on an app with other pages, all behind the same door."""
    app = FastAPI()

    @app.get("/editor")
    def editor() -> dict:
        return {"page": "editor"}

    settings = ServerSettings(host="127.0.0.2", port=free_port("127.0.0.2"), workflows_dir=tmp_path / "wf",
                              runs_dir=tmp_path / "runs", cache_dir=None)
    service = add_api(app, settings, catalogue)
    assert app.state.flowbanana is service and settings.token  # generated: the bind is not loopback
    server = uvicorn.Server(uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.02)
        with httpx.Client(base_url=settings.base_url) as client:
            assert client.get("/editor").status_code == 401
            assert client.get("/api/health").status_code == 401
            auth = {"authorization": f"Bearer {settings.token}"}
            assert client.get("/editor", headers=auth).json() == {"page": "editor"}
            run = client.post("/api/runs", headers=auth, json={"workflow": make_workflow(
                {"n": {"type": "test.number"}, "s": {"type": "test.show", "inputs": {"value": "n.value"}}})})
            assert run.status_code == 202
    finally:
        server.should_exit = True
        thread.join(10)


async def _take(stream, kind: str, node: str):
    async for event in stream:
        yield event
        if event["event"] == kind and event["node"] == node:
            return
