"""The HTTP API, the run queue and the run history: everything `flowbanana serve` and the editor's server share.

    from flowbanana.server import ServerSettings, add_api
    service = add_api(app, ServerSettings(runs_dir=Path("runs")))   # any FastAPI app, NiceGUI's included
    record = service.submit(workflow, inputs={"subject": "a teapot"}, origin="editor")

No NiceGUI here: only flowbanana/ui imports it.
"""
from .app import add_api, create_app
from .runs import RunService
from .settings import ServerSettings
from .store import RunRecord

__all__ = ["add_api", "create_app", "RunService", "ServerSettings", "RunRecord"]
