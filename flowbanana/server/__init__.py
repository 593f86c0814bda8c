"""The HTTP API, the run queue and the run history: what `flowbanana serve` and the editor's server share.

    from flowbanana.server import ServerSettings, add_api
    service = add_api(app, ServerSettings(runs_dir=Path("runs")))  # any FastAPI app, NiceGUI's included;
                                                                    # call before the app starts
    record = service.submit(workflow, inputs={"subject": "a teapot"}, origin="editor", on_event=listener)
    runs, total = service.list_runs(limit=20)      # newest first: RunRecord (status, cost, files, nodes...)
    service.open_workflow(run_id)                  # the Workflow as submitted; service.get(run_id).inputs
    service.rerun(run_id)                          # same workflow, inputs and options; the cache does the rest
    service.files(run_id), service.thumbnail(run_id), service.cancel(run_id), await service.delete(run_id)
    await service.wait(run_id); async for event in service.events(run_id): ...   # replayed from the start

No NiceGUI here: only flowbanana/ui imports it.
"""
from .app import add_api, create_app
from .runs import QueueFull, RunService
from .settings import ServerSettings
from .store import RunRecord

__all__ = ["add_api", "create_app", "QueueFull", "RunService", "ServerSettings", "RunRecord"]
