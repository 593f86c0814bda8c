"""Before/after: an edited or inpainted result over the image that went in, with a slider between them."""
from __future__ import annotations


from nicegui import ui

from ..porttypes import IMAGE
from .tab import Tab



class CompareView(ui.element, component="flowbanana_compare.js"):
    def __init__(self, *, on_close):
        super().__init__()
        self._props["spec"] = None
        self.on("close", lambda e: on_close())

    def show(self, spec: dict) -> None:
        self._props["spec"] = spec
        self.update()


def before_after(editor: Tab, node_id: str, index: int = 0) -> tuple[dict, dict] | None:
    """(input picture, result picture) from the latest results: the node's shown result and what fed its
    first linked IMAGE input; None when either has not been made yet."""
    node = editor.doc.workflow.nodes.get(node_id)
    node_type = editor.config.catalogue.get(node.type) if node else None
    history = editor.runner.history.get(node_id) or []
    if node_type is None or not history:
        return None
    after = history[min(max(index, 0), len(history) - 1)].get("images") or []
    for port in node_type.inputs:
        links = node.inputs.get(port.name) or []
        if port.type != IMAGE or not links:
            continue
        before = next((e["images"] for e in editor.runner.history.get(links[0].node, []) if e.get("images")), [])
        if before and after:
            return before[0], after[0]
    return None


class CompareDialog:
    """One per tab; opened from a node's result (the compare button, or Compare with input in its menu)."""

    def __init__(self, editor: Tab):
        self.editor = editor
        with ui.dialog().props("maximized transition-show=fade transition-hide=fade") as self.dialog:
            self.view = CompareView(on_close=self.dialog.close).classes("w-full h-full")

    def open(self, node_id: str, index: int = 0) -> None:
        pair = before_after(self.editor, node_id, index)
        if pair is None:
            self.editor.notice("Nothing to compare yet: run the workflow so this node and its input have images.",
                                "warning")
            return
        node = self.editor.doc.workflow.nodes[node_id]
        node_type = self.editor.config.catalogue.get(node.type)
        caption = node.params.get("instruction") if node_type.param("instruction") else None
        self.view.show({"title": f"{node.title or node_type.title} · {node_id}", "before": pair[0], "after": pair[1],
                        "caption": caption if isinstance(caption, str) else None})
        self.dialog.open()
