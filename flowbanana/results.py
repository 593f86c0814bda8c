"""What a run leaves behind: per node status, outputs, error and time; the files written."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from .images import ImageRef, loaded

DONE, CACHED, FAILED, SKIPPED, CANCELLED = "done", "cached", "failed", "skipped", "cancelled"


@dataclass
class NodeResult:
    status: str
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    hint: str = ""
    seconds: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status in (DONE, CACHED)

    def to_json(self) -> dict:
        return {"status": self.status, "error": self.error, "hint": self.hint, "seconds": round(self.seconds, 4),
                "outputs": {k: describe(v) for k, v in self.outputs.items()}, "meta": self.meta}


class NoSuchOutput(KeyError):
    """RunResult.output was asked for a node or an output the run does not have; the message says which it has."""

    def __str__(self) -> str:  # the message as written, not KeyError's quoted repr
        return str(self.args[0])


@dataclass
class RunResult:
    status: str  # done, failed (some node failed) or cancelled
    nodes: dict[str, NodeResult]
    out_dir: Path
    seconds: float
    aliases: dict[str, tuple[str, str]] = field(default_factory=dict)  # "sub.out" (a subgraph's) -> (node, output)
    named: dict[str, tuple[str, str]] = field(default_factory=dict)    # the workflow's named outputs -> the same

    @property
    def ok(self) -> bool:
        return self.status == DONE

    @property
    def files(self) -> list[Path]:
        return [Path(f) for r in self.nodes.values() for f in r.meta.get("files", [])]

    def output(self, node: str, name: str | None = None) -> Any:
        """A node's output value (a subgraph node's too); `name` may be left out for a node with one output.
        Images are PIL images (those the run kept in the cache are read from it now). NoSuchOutput (a KeyError)
        names the node and the outputs it has when there is no such value."""
        if name is not None and f"{node}.{name}" in self.aliases:
            node, name = self.aliases[f"{node}.{name}"]
        exposed = [alias.split(".", 1)[1] for alias in self.aliases if alias.split(".", 1)[0] == node]
        if node not in self.nodes and exposed:  # a subgraph node: its outputs are inner nodes' outputs
            if name is None and len(exposed) == 1:
                name = exposed[0]
            if f"{node}.{name}" not in self.aliases:
                raise NoSuchOutput(f"node {node!r} has outputs {', '.join(exposed)}: " +
                                   ("name one." if name is None else f"none is named {name!r}."))
            node, name = self.aliases[f"{node}.{name}"]
        result = self.nodes.get(node)
        if result is None:
            known = sorted({*self.nodes, *(alias.split(".", 1)[0] for alias in self.aliases)})
            raise NoSuchOutput(f"the run has no node {node!r}; its nodes: {', '.join(known) or 'none'}.")
        outputs = result.outputs
        if not outputs and not result.ok:
            raise NoSuchOutput(f"node {node!r} has no outputs: it {result.status}" +
                               (f" ({result.error})" if result.error else "") + ".")
        if name is None and len(outputs) != 1:
            raise NoSuchOutput(f"node {node!r} has outputs {', '.join(outputs) or 'none'}: name one, as in "
                               f"result.output({node!r}, {next(iter(outputs), 'NAME')!r}).")
        if name is not None and name not in outputs:
            raise NoSuchOutput(f"node {node!r} has no output {name!r}; its outputs: {', '.join(outputs) or 'none'}.")
        return loaded(outputs[name] if name is not None else next(iter(outputs.values())))

    def named_outputs(self) -> dict[str, Any]:
        """The workflow's declared outputs by name, those that were made."""
        return {name: loaded(self.nodes[node].outputs[output]) for name, (node, output) in self.named.items()
                if node in self.nodes and output in self.nodes[node].outputs}

    def count(self, status: str) -> int:
        return sum(1 for r in self.nodes.values() if r.status == status)

    def to_json(self) -> dict:
        return {"status": self.status, "seconds": round(self.seconds, 4), "out_dir": str(self.out_dir),
                "files": [str(f) for f in self.files], "nodes": {k: v.to_json() for k, v in self.nodes.items()}}


def describe(value: Any) -> Any:
    """A JSON-safe summary of a value: images by mode and size, lists item by item."""
    if isinstance(value, (Image.Image, ImageRef)):
        return {"image": {"width": value.width, "height": value.height, "mode": value.mode}}
    if isinstance(value, list):
        return [describe(v) for v in value]
    return value
