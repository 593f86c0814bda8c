"""Sweeps in the editor: "Sweep a param…" and "Compare models" from a node's menu, and a sweep's grid with
clickable cells whose values can be set back on the graph ("Use these values")."""
from __future__ import annotations

from nicegui import ui

from ..node_api import NodeType, Param
from ..sweep import EVERY, EVERYTHING, MODES, SWEEP, everything, sweep_nodes, value_lines
from .document import EditRefused
from .tab import Tab


def suggested_values(node_type: NodeType, param: Param, current) -> list[str]:
    """What a new sweep of `param` starts from: every value it offers, or a few seeds from the current one, or the
    current value alone to add others to."""
    offered = everything(node_type, param)
    if offered:
        return list(offered)
    if param.kind == "seed":
        start = int(current or 0)
        return [str(start + i) for i in range(3)]
    return [str(current)] if current not in (None, "") else []


class SweepDialog:
    """Sweep one of a node's params: which param, its values, across (x) or down (y), every combination or
    paired. The sweep node is added (linked to the image the node makes) or updated."""

    def __init__(self, tab: Tab):
        self.tab = tab
        self.dialog = ui.dialog()

    def open(self, node_id: str, param_name: str | None = None, everything_offered: bool = False) -> None:
        doc = self.tab.doc
        node = doc.workflow.nodes.get(node_id)
        node_type = self.tab.config.catalogue.get(node.type) if node else None
        if node_type is None or not node_type.params or node_type.id == SWEEP:
            self.tab.notice("This node has no param to sweep.", "warning")
            return
        if doc.image_after(node_id) is None and not sweep_nodes(doc.workflow):
            self.tab.notice(f"Nothing at or after “{node.title or node_id}” makes an image to compare: link it into "
                            "a node that does first.", "warning")
            return
        existing = sweep_nodes(doc.workflow)
        sweep_params = doc.workflow.nodes[existing[0]].params if existing else {}
        names = [p.name for p in node_type.params]
        chosen = param_name if param_name in names else names[0]
        taken_x = sweep_params.get("x") and sweep_params.get("x") != f"{node_id}.{chosen}"
        self.dialog.clear()
        with self.dialog, ui.card().classes("w-[30rem] gap-3").props("data-testid=sweep-dialog"):
            ui.label(f"Sweep a param of “{node.title or node_id}”").classes("text-h6")
            param = ui.select(names, value=chosen, label="Param").props("outlined dense data-testid=sweep-param") \
                .classes("w-full")
            values = ui.textarea("Values, one per line").props("outlined autogrow data-testid=sweep-values") \
                .classes("w-full")
            hint = ui.label().classes("text-caption text-grey-5")
            with ui.row().classes("w-full no-wrap gap-3"):
                axis = ui.toggle({"x": "across (x)", "y": "down (y)"}, value="y" if taken_x else "x") \
                    .props("dense no-caps data-testid=sweep-axis")
                mode = ui.select(list(MODES), value=sweep_params.get("mode", EVERY), label="Cells") \
                    .props("outlined dense").classes("grow")
            cells = ui.label().classes("text-caption").props("data-testid=sweep-cells")

            def fill(name: str) -> None:
                spec = node_type.param(name)
                current = node.params.get(name, spec.default)
                offered = suggested_values(node_type, spec, current)
                values.value = EVERYTHING if everything_offered and everything(node_type, spec) else "\n".join(offered)
                hint.text = (f"{EVERYTHING} alone: every value it offers ({len(everything(node_type, spec))})."
                             if everything(node_type, spec) else "Any values the param takes.")
                count()

            def count() -> None:
                spec = node_type.param(param.value)
                lines = value_lines(values.value)
                mine = len(everything(node_type, spec)) if lines == [EVERYTHING] else len(lines)
                other_axis = "y" if axis.value == "x" else "x"
                other = len(value_lines(sweep_params.get(f"{other_axis}_values", ""))) \
                    if sweep_params.get(other_axis) else 0
                total = mine if not other else mine if mode.value != EVERY else mine * other
                cells.text = f"{total} cell{'s' if total != 1 else ''}: Estimate shows what they would cost."

            param.on_value_change(lambda e: fill(e.value))
            values.on_value_change(lambda e: count())
            axis.on_value_change(lambda e: count())
            mode.on_value_change(lambda e: count())
            fill(chosen)

            def confirm() -> None:
                try:
                    sweep_id = doc.sweep(node_id, param.value, values.value, axis.value, mode.value)
                except EditRefused as exc:
                    self.tab.notice(str(exc), "warning")
                    return
                self.dialog.close()
                self.tab.refresh(select=[sweep_id])
                problems = [p for p in doc.problems() if p.get("node") == sweep_id]
                if problems:
                    self.tab.notice(f"The sweep is not ready: {problems[0]['message']}", "warning")
            with ui.row().classes("w-full justify-end"):
                ui.button("Cancel", on_click=self.dialog.close).props("flat")
                ui.button("Sweep", on_click=confirm).props("unelevated text-color=black data-testid=sweep-confirm")
        self.dialog.open()


class GridDialog:
    """A sweep's grid at full size: click a cell to see its values and set them on the graph."""

    def __init__(self, tab: Tab):
        self.tab = tab
        self.dialog = ui.dialog().props("maximized")

    def open(self, node_id: str, index: int = 0) -> None:
        history = self.tab.runner.history.get(node_id) or []
        entry = history[min(max(index, 0), len(history) - 1)] if history else None
        grid = entry and entry.get("sweep")
        if not grid:
            self.tab.notice("No grid yet: run the workflow to make the sweep's cells.", "warning")
            return
        width, height = grid["size"]
        self.dialog.clear()
        with self.dialog, ui.card().classes("w-full h-full fb-grid-card gap-2 no-wrap"):
            with ui.row().classes("w-full items-center no-wrap"):
                ui.label("Pick a cell to use its values").classes("text-h6")
                ui.space()
                chosen = ui.label().classes("text-body2").props("data-testid=grid-chosen")
                use = ui.button("Use these values", icon="check").props(
                    "unelevated no-caps text-color=black data-testid=grid-use")
                use.set_enabled(False)
                ui.button(icon="close", on_click=self.dialog.close).props("flat round dense")
            picked: dict = {}
            with ui.element("div").classes("fb-grid-scroll"):
                with ui.element("div").classes("fb-grid-sheet").style(f"aspect-ratio: {width} / {height}"):
                    ui.image(entry["full"]).props("no-spinner no-transition fit=contain").classes("w-full h-full")
                    boxes = []
                    for number, cell in enumerate(grid["cells"], start=1):
                        left, top, right, bottom = cell["box"]
                        box = ui.element("div").classes("fb-grid-cell").props(f"data-cell={number}").style(
                            f"left:{100 * left / width}%;top:{100 * top / height}%;"
                            f"width:{100 * (right - left) / width}%;height:{100 * (bottom - top) / height}%")
                        box.tooltip(", ".join(f"{k} = {v}" for k, v in cell["values"].items()))
                        box.on("click", lambda c=cell, b=box: pick(c, b))
                        boxes.append(box)

            def pick(cell: dict, box) -> None:
                for other in boxes:
                    other.classes(remove="fb-grid-picked")
                box.classes(add="fb-grid-picked")
                picked.clear()
                picked.update(cell["values"])
                chosen.text = ", ".join(f"{k} = {v}" for k, v in cell["values"].items())
                use.set_enabled(cell.get("status") != "failed")

            def apply() -> None:
                try:
                    self.tab.doc.use_values(picked)
                except EditRefused as exc:
                    self.tab.notice(str(exc), "warning")
                    return
                self.dialog.close()
                self.tab.refresh()
                self.tab.notice(f"Set {chosen.text}.", "positive", timeout=3000)
            use.on_click(apply)
        self.dialog.open()
