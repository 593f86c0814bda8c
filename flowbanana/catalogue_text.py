"""The node catalogue as text for people: `flowbanana nodes` (a line per type), `flowbanana nodes TYPE`, and a
workflow's interface (`flowbanana run FILE --help`)."""
from __future__ import annotations

import difflib
import re

from .catalogue import Catalogue
from .interface import Interface
from .node_api import Input, NodeType, Output, Param


def listing(catalogue: Catalogue, saved: dict[str, NodeType] | None = None) -> str:
    """Every node type by category, each with its title and the first sentence of its description; then the
    saved workflows usable as nodes, by file name."""
    by_category: dict[str, list[NodeType]] = {}
    for node_type in catalogue.types.values():
        by_category.setdefault(node_type.category, []).append(node_type)
    lines = []
    for category in sorted(by_category):
        lines.append(category)
        for node_type in sorted(by_category[category], key=lambda t: t.id):
            lines.append(f"  {node_type.id:<22} {node_type.title}: {first_sentence(node_type.description)}")
    if saved:
        lines.append('workflows (saved ones that declare outputs; use one as {"type": "workflow", "workflow": FILE})')
        for name, node_type in saved.items():
            lines.append(f"  {name:<22} {node_type.title}: {first_sentence(node_type.description)}")
    lines.append(f"\n{len(catalogue.types)} node types from {len(catalogue.packs)} packs"
                 + (f", {len(saved)} saved workflows" if saved else "") + ". `flowbanana nodes TYPE` (or FILE) shows one "
                 "in detail.")
    return "\n".join(lines)


def first_sentence(text: str) -> str:
    """Up to the first full stop that starts a new sentence (so "e.g. as" does not cut it short)."""
    return re.split(r"(?<=[.!?])\s+(?=[A-Z])", text.strip(), maxsplit=1)[0]


def unknown_type(catalogue: Catalogue, type_id: str) -> str:
    """What to say about a type id the catalogue lacks: the nearest ids, since it is most often a typo."""
    near = difflib.get_close_matches(type_id, list(catalogue.types), n=3)
    return f"no node type {type_id!r}" + (f"; did you mean {', '.join(near)}?" if near else
                                          "; `flowbanana nodes` lists them all.")


def describe_type(node_type: NodeType) -> str:
    """One node type in full: its description, then every input, param (kind, default, choices, range) and output."""
    lines = [f"{node_type.id}  ({node_type.title}, category {node_type.category}, version {node_type.version}"
             + (f", pack {node_type.pack.name} {node_type.pack.version}" if node_type.pack else "") + ")",
             f"  {node_type.description}", ""]
    if node_type.keywords:
        lines[-1:-1] = [f"  also found as: {', '.join(node_type.keywords)}"]
    if node_type.inputs or node_type.extra_inputs:
        lines.append("  inputs:")
        lines += [_input_line(port) for port in node_type.inputs]
        if node_type.extra_inputs:
            lines.append(f"    (any name)       {node_type.extra_inputs}  fills the field of the same name")
    if node_type.params:
        lines.append("  params (each can also be fed by a link of its type):")
        lines += [_param_line(param) for param in node_type.params]
    if node_type.outputs:
        lines.append("  outputs:")
        lines += [_output_line(port) for port in node_type.outputs]
    return "\n".join(lines)


def describe_interface(interface: Interface) -> str:
    """A workflow's inputs (what `--set NAME=VALUE` takes) and outputs, for `flowbanana run FILE --help`."""
    settable = [i for i in interface.inputs.values() if i.settable]
    links = [i for i in interface.inputs.values() if not i.settable]
    lines = ["inputs (--set NAME=VALUE):" if settable else "inputs: none to set (NODE.PARAM sets any param)"]
    lines += [(_param_line(i.param) if i.param else _file_line(i.input))
              + ("  (a link inside feeds it unless set)" if i.linked else "") for i in settable]
    if links:
        lines.append("inputs fed only by a link, when this workflow is used as a node:")
        lines += [_input_line(i.input) for i in links]
    if interface.outputs:
        lines.append("outputs:")
        lines += [_output_line(o.output) for o in interface.outputs.values()]
    return "\n".join(lines)


def _file_line(port: Input) -> str:
    """An IMAGE or MASK input port, which --set gives a file (a loader node reads it)."""
    return f"    {port.name:<16} {port.type} file{' (optional)' if port.optional else ''}  {port.description}".rstrip()


def _input_line(port: Input) -> str:
    kind = f"list of {port.type}" if port.list else port.type
    return f"    {port.name:<16} {kind}{' (optional)' if port.optional else ''}  {port.description}".rstrip()


def _param_line(param: Param) -> str:
    extra = (["one of " + ", ".join(param.choices)] if param.choices else []) + \
        ([param.range_text] if param.range_text else [])
    return (f"    {param.name:<16} {param.kind} = {param.default!r}" + (f" [{'; '.join(extra)}]" if extra else "")
            + (f"  {param.description}" if param.description else ""))


def _output_line(port: Output) -> str:
    return f"    {port.name:<16} {'list of ' if port.list else ''}{port.type}  {port.description}".rstrip()
