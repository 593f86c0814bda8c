"""The node canvas as a NiceGUI element: our own Vue component, drawn from the catalogue JSON (the saved
workflows that declare outputs are in its palette too)."""
from __future__ import annotations

from pathlib import Path

from nicegui import ui

from ..catalogue import Catalogue
from ..porttypes import PORT_TYPES, compatible
from ..subgraph import catalogue_json, saved_nodes


class FlowCanvas(ui.element, component="flowbanana_canvas.js", dependencies=["flowbanana_annotations.js"]):
    """Python calls `load`/`patch`/`set_statuses`; the browser emits `edit`, `command` and `viewport`.

    The catalogue and the port compatibility table are sent once as props; everything after that
    is a method call carrying only what changed.
    """

    def __init__(self, catalogue: Catalogue, workflows_dir: Path, *, on_edit, on_command, on_viewport):
        super().__init__()
        self._props["catalogue"] = with_model_suggestions(catalogue_json(catalogue,
                                                                         saved_nodes(workflows_dir, catalogue)))
        self._props["compat"] = {s: [t for t in PORT_TYPES if compatible(s, t)] for s in PORT_TYPES}
        self.on("edit", lambda e: on_edit(e.args))
        self.on("command", lambda e: on_command(e.args))
        self.on("viewport", lambda e: on_viewport(e.args))

    def load(self, view: dict) -> None:
        self.run_method("load", view)

    def patch(self, patch: dict) -> None:
        self.run_method("patch", patch)

    def set_statuses(self, statuses: dict) -> None:
        self.run_method("setStatuses", statuses)


def with_model_suggestions(data: dict) -> dict:
    """A provider node's free-text `model` param offers the provider's model catalogue as suggestions
    (any other id can still be typed), so picking Nano Banana Pro is a choice, not a recollection. The table
    itself goes along (`models`: each id's name, aliases, status, shutdown date and successor) so the picker shows
    names with the ids beneath, and a node naming a retired id can offer its successor."""
    from ..providers.listing import rows
    from ..providers.models import model_choices

    data["models"] = {row["id"]: {key: row[key] for key in ("name", "kind", "aliases", "status", "shutdown",
                                                             "successor")} for row in rows(None)}
    for node in data["nodes"]:
        for param in node["params"] if node.get("uses_provider") else ():
            if param["name"] == "model" and param["kind"] == "text" and not param.get("choices"):
                known = model_choices(param["default"])
                if known:
                    param["choices"] = list(known)
    return data
