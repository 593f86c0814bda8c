"""A workflow's interface: its named inputs and outputs, described by the params and ports they point at.

The one declaration behind a subgraph node's ports and params, `flowbanana run FILE --help`, the
checks on `--set`, and the request schema of a workflow's own HTTP endpoint. Nothing is declared twice:
an input's type, default, range and choices are those of the param it sets, its description the
workflow's (or else the param's).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .node_api import Input, NodeType, Output, Param
from .porttypes import IMAGE, MASK
from .workflow import SUBGRAPH, Node

# an IMAGE or MASK input port may be given a file instead of a link: this node type reads it (by its `path`
# param) and its output feeds the port, for --set, the HTTP endpoint and app mode alike (overrides.feed_file)
FILE_LOADERS = {IMAGE: ("image.load", "image"), MASK: ("mask.load", "mask")}


@dataclass(frozen=True)
class InterfaceInput:
    """One input: a `param` (a value sets it; a link may feed it), or else an `input` port only a link feeds."""
    name: str
    node: str                  # the node it reaches, by path for a subgraph's inner node ("sub/inner")
    port: str
    param: Param | None = None
    input: Input | None = None
    linked: bool = False       # a link inside the workflow feeds it now: that is what it gets when left alone

    @property
    def type(self) -> str:
        return (self.param or self.input).type

    @property
    def description(self) -> str:
        return (self.param or self.input).description

    @property
    def default(self) -> Any:
        return self.param.default if self.param else None

    @property
    def takes_file(self) -> bool:
        """An IMAGE or MASK input port: a file's path may be given for it (a loader node then feeds it)."""
        return self.param is None and self.input.type in FILE_LOADERS

    @property
    def settable(self) -> bool:
        """A value may be given for it (--set, HTTP, app mode): a param's value, or a file for an image port."""
        return self.param is not None or self.takes_file

    def to_json(self) -> dict:
        data = {"name": self.name, "node": self.node, "port": self.port, "type": self.type,
                "description": self.description, "linked": self.linked, "settable": self.param is not None}
        if self.param:
            data |= {k: v for k, v in self.param.to_json().items() if k not in ("name", "type", "description")}
        else:
            data |= {"kind": "link", "default": None, "optional": self.input.optional, "list": self.input.list,
                     "takes_file": self.takes_file}
        return data


@dataclass(frozen=True)
class InterfaceOutput:
    name: str
    node: str
    port: str                  # the node's output
    output: Output             # named for the workflow, typed by the node output it is

    @property
    def type(self) -> str:
        return self.output.type

    def to_json(self) -> dict:
        return {**self.output.to_json(), "node": self.node, "port": self.port}


@dataclass
class Interface:
    inputs: dict[str, InterfaceInput] = field(default_factory=dict)
    outputs: dict[str, InterfaceOutput] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"inputs": [i.to_json() for i in self.inputs.values()],
                "outputs": [o.to_json() for o in self.outputs.values()]}


def describe_input(name: str, description: str, settable: bool, node_id: str, port: str, node: Node,
                   node_type: NodeType) -> InterfaceInput:
    """The input `name` reaching `port` of `node` (a node of a real type, by path `node_id`); `settable`: it was
    declared as a param (a value may set it), not as an input port."""
    linked = bool(node.inputs.get(port))
    target = node_type.port(port)
    description = description or target.description
    if settable and isinstance(target, Param):
        default = None if linked else node.params.get(port, target.default)
        try:
            param = dataclasses.replace(target, name=name, description=description, default=default,
                                        optional=target.optional or linked)
        except ValueError:  # the workflow holds a bad value; validation names it, the interface offers none
            param = dataclasses.replace(target, name=name, description=description, default=None, optional=True)
        return InterfaceInput(name, node_id, port, param=param, linked=linked)
    optional = linked or getattr(target, "optional", True)
    return InterfaceInput(name, node_id, port, linked=linked, input=Input(
        name, target.type, optional=optional, list=getattr(target, "list", False), description=description))


def describe_output(name: str, description: str, node_id: str, output: Output) -> InterfaceOutput:
    return InterfaceOutput(name, node_id, output.name, Output(name, output.type, list=output.list,
                                                 description=description or output.description))


def as_node_type(interface: Interface, title: str, description: str) -> NodeType:
    """The node type a subgraph node has: the workflow's inputs as its params and ports, its outputs as outputs."""
    return NodeType(id=SUBGRAPH, title=title, category="workflows", description=description, fn=_expanded_first,
                    inputs=tuple(i.input for i in interface.inputs.values() if i.input),
                    params=tuple(i.param for i in interface.inputs.values() if i.param),
                    outputs=tuple(o.output for o in interface.outputs.values()))


def _expanded_first(**_: Any) -> None:
    """Never called: a subgraph node is replaced by its inner nodes before anything runs (subgraph.expand)."""
    raise RuntimeError("a subgraph node runs as its inner nodes")
