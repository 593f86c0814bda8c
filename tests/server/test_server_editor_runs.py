"""RunService with the editor's options: run only some nodes, and read a local workflow's own folder."""
from __future__ import annotations

import pytest

from flowbanana.errors import WorkflowInvalid
from flowbanana.server import RunService, ServerSettings
from flowbanana.workflow import Link, Node, from_dict

from serverkit import save_workflow


@pytest.fixture
def service(tmp_path, catalogue) -> RunService:
    return RunService(ServerSettings(workflows_dir=tmp_path / "workflows", runs_dir=tmp_path / "runs",
                                     cache_dir=tmp_path / "cache"), catalogue)


@pytest.fixture
def local_workflow(tmp_path, photo):
    """A workflow saved in a folder of its own, outside every folder the server lets HTTP runs read."""
    folder = tmp_path / "project"
    folder.mkdir()
    photo.save(folder / "photo.png")
    workflow = from_dict(save_workflow())
    workflow.source = folder / "shots.json"
    return workflow


async def test_an_http_style_submission_does_not_read_the_workflows_own_folder(service, local_workflow, tmp_path):
    with pytest.raises(WorkflowInvalid, match="there is no file or folder 'photo.png'"):
        service.submit(local_workflow)  # it is looked for in the server's folder, not the project's
    local_workflow.nodes["load"].inputs = {"path": [Link("where", "text")]}
    local_workflow.nodes["where"] = Node("text.text", params={"text": "photo.png"})
    record = await service.wait(service.submit(local_workflow).id)
    assert record.base_dir == "workflows"  # the server's folder (by name), not the project's
    assert record.status == "failed" and record.nodes["load"]["status"] == "failed"
    local_workflow.nodes["load"].inputs = {}
    local_workflow.nodes["load"].params["path"] = str(tmp_path / "project" / "photo.png")
    with pytest.raises(WorkflowInvalid, match="outside the folders this server lets runs read"):
        service.submit(local_workflow)


async def test_a_local_run_reads_its_folder_runs_only_its_targets_and_reruns_the_same(service, local_workflow,
                                                                                     tmp_path):
    uploads = tmp_path / "uploads"
    record = service.submit(local_workflow, origin="editor", targets={"load"}, read_roots=(uploads,))
    done = await service.wait(record.id)
    assert done.status == "done", done.error
    assert done.nodes["load"]["status"] == "done" and "save" not in done.nodes  # only the target ran
    assert done.files == [] and done.base_dir == str(tmp_path / "project")
    assert done.options["targets"] == ["load"] and done.options["read_roots"] == [str(uploads.resolve())]

    again = await service.wait(service.rerun(record.id).id)
    assert again.status == "done" and again.origin == f"rerun of {record.id}"
    assert again.nodes["load"]["status"] == "cached" and "save" not in again.nodes

    whole = await service.wait(service.submit(local_workflow, origin="editor", read_roots=(uploads,)).id)
    assert whole.files == ["out_1.png"] and service.thumbnail(whole.id) == "out_1.png"


async def test_a_local_run_still_reads_nothing_outside_its_folder_and_read_roots(service, local_workflow, tmp_path):
    local_workflow.nodes["load"].params["path"] = str(tmp_path / "elsewhere.png")
    (tmp_path / "elsewhere.png").write_bytes((tmp_path / "project" / "photo.png").read_bytes())
    record = await service.wait(service.submit(local_workflow, read_roots=(tmp_path / "uploads",)).id)
    assert record.status == "failed" and record.nodes["load"]["status"] == "failed"
    assert "outside the folders this run may read" in record.nodes["load"]["error"]
