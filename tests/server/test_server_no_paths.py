"""No answer, event, record or output file names a folder of the server by its absolute path.

Runs that succeed, fail on a read outside the allowed folders, on a missing file and on an OSError are made
through the real server; every response, the SSE streams, run.json, events.jsonl and the metadata embedded in
the images written are then searched for the server's folder.
"""
from __future__ import annotations

import io
import json

import pytest

from flowbanana import provenance
from serverkit import events, finish, make_workflow, save_workflow, submit


def upload(client, photo) -> dict:
    data = io.BytesIO()
    photo.save(data, format="PNG")
    response = client.post("/api/uploads", content=data.getvalue(), headers={"content-type": "image/png"})
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def leaky(start_server):
    """A server of its own, whose folder is the string no client should ever see."""
    server = start_server()
    secrets = {str(server.root), str(server.root.resolve())}

    def assert_clean(text: str, where: str) -> None:
        for secret in secrets:
            assert secret not in text, f"{where} names the server's folder: {text[:400]}"
    server.assert_clean = assert_clean
    return server


def test_no_response_record_event_or_file_names_the_servers_folders(leaky, photo):
    server, clean = leaky, leaky.assert_clean
    texts: list[tuple[str, str]] = []
    with server.client() as client:
        uploaded = upload(client, photo)
        texts.append(("upload", json.dumps(uploaded)))
        assert "/" not in uploaded["path"]  # a name, loaded by that name

        runs = {
            "upload by name": (save_workflow(filename="up.png"), {"load.path": uploaded["path"]}),
            "read outside": ({**save_workflow(), "nodes": {
                "where": {"type": "text.text", "params": {"text": "/etc/hostname"}},
                "load": {"type": "image.load", "inputs": {"path": "where.text"}},
                "save": {"type": "image.save", "inputs": {"image": "load.image"}}}}, {}),
            "missing file": (save_workflow(path="nothing-here.png"), {}),
            "os error": (save_workflow(filename="x" * 300 + ".png"), {}),  # the file name is too long to write
            "missing folder": (make_workflow({
                "folder": {"type": "image.load_folder", "params": {"folder": "no-such-folder"}},
                "sheet": {"type": "image.grid", "inputs": {"images": "folder.images"}},
                "show": {"type": "image.preview", "inputs": {"image": "sheet.image"}}}), {}),
        }
        records = {}
        for name, (workflow, inputs) in runs.items():
            accepted = client.post("/api/runs", json={"workflow": workflow, "inputs": inputs})
            texts.append((f"{name}: submit", accepted.text))
            if accepted.status_code != 202:
                continue
            run_id = accepted.json()["id"]
            texts.append((f"{name}: events", json.dumps(events(client, run_id))))
            records[name] = finish(client, run_id)
            texts.append((f"{name}: record", json.dumps(records[name])))
        assert records["upload by name"]["status"] == "done", records["upload by name"]
        assert records["read outside"]["nodes"]["load"]["status"] == "failed"
        assert "outside the folders this run may read (" in records["read outside"]["nodes"]["load"]["error"]
        assert records["os error"]["nodes"]["save"]["status"] == "failed"

        client.put("/api/workflows/shots", json=save_workflow(filename="named.png"))
        named = client.post("/api/runs", json={"name": "shots", "inputs": {"load.path": uploaded["path"]}})
        texts.append(("by name: submit", named.text))
        record = finish(client, named.json()["id"])
        assert record["status"] == "done" and record["base_dir"] == "workflows", record
        beside = finish(client, submit(client, name="shots")["id"])  # photo.png: not beside it, but in inputs/
        assert beside["status"] == "done" and beside["workflow"]["nodes"]["load"]["params"]["path"] == "photo.png"
        again = client.post(f"/api/runs/{record['id']}/rerun")
        texts.append(("rerun", again.text))
        assert finish(client, again.json()["id"])["status"] == "done"

        refused = client.post("/api/runs", json={"workflow": save_workflow(path="../secret.png")})
        texts.append(("refused", refused.text))
        texts.append(("validate", client.post("/api/validate", json=save_workflow(path="~nosuchuser/x")).text))
        texts.append(("list", client.get("/api/runs").text))
        texts.append(("workflows", client.get("/api/workflows").text))
        for response in (client.get(f["url"]) for r in records.values() for f in r["files"]):
            workflow, run = provenance.read(io.BytesIO(response.content))
            texts.append((f"{response.url} metadata", json.dumps([workflow, run])))
    for folder in server.runs.iterdir():
        for name in ("run.json", "events.jsonl"):
            if (folder / name).is_file():
                texts.append((f"{folder.name}/{name}", (folder / name).read_text()))
    assert len(texts) > 20
    for where, text in texts:
        clean(text, where)
