"""The workflow file: parse, migrate and serialise (format `flowbanana/workflow`, version 2).

Parsing checks only the file's shape; whether node types, params and links make sense is
`validation`'s job, so that a file using a missing pack still loads and can be explained.

Version 2 added `outputs` (named node outputs: with `inputs`, the workflow's interface) and the
`workflow` node type (a subgraph: another workflow file by path, or one embedded in the node). The optional
`groups` and `notes` (see `annotations`) are for people: older files without them read as before, and runs
never look at them.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from . import jsontext
from .annotations import Group, Note, parse_groups, parse_notes
from .errors import Problem, WorkflowInvalid

FORMAT = "flowbanana/workflow"
VERSION = 2
NODE_ID = re.compile(r"^[A-Za-z0-9_-]+$")
OUTPUT_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LINK = re.compile(r"^([A-Za-z0-9_-]+)\.([A-Za-z_][A-Za-z0-9_]*)$")
SUBGRAPH = "workflow"  # the node type of a subgraph: its "workflow" key names a file or embeds a document
MAX_NESTING = 16       # subgraphs inside subgraphs, embedded or referenced

# version n -> a function turning a version-n document into a version n+1 document.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {
    1: lambda data: data,  # version 2 only added things: a version 1 file has no outputs and no subgraphs
}

_TOP_KEYS = {"format", "version", "name", "description", "requires", "inputs", "outputs", "nodes", "groups", "notes",
             "ui"}
_NODE_KEYS = {"type", "params", "inputs", "title", "notes", "disabled", "workflow"}


@dataclass(frozen=True)
class Link:
    node: str
    output: str

    @classmethod
    def parse(cls, text: str) -> "Link":
        match = LINK.match(text) if isinstance(text, str) else None
        if not match:
            raise ValueError(f"{text!r} is not a link like \"node.output\"")
        return cls(match.group(1), match.group(2))

    def __str__(self) -> str:
        return f"{self.node}.{self.output}"


@dataclass
class Node:
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, list[Link]] = field(default_factory=dict)
    title: str | None = None
    notes: str | None = None
    disabled: bool = False
    # a subgraph's workflow: a path relative to this workflow's folder, or the embedded workflow itself
    workflow: "str | Workflow | None" = None
    # inputs written as a list keep that shape on save, even with one link
    list_inputs: set[str] = field(default_factory=set)
    # where this node's relative paths resolve when it came from a subgraph in another folder (never saved)
    base_dir: Path | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        data: dict[str, Any] = {"type": self.type}
        if self.workflow is not None:
            data["workflow"] = self.workflow if isinstance(self.workflow, str) else self.workflow.to_dict()
        if self.params:
            data["params"] = dict(self.params)
        if self.inputs:
            data["inputs"] = {name: [str(l) for l in links] if name in self.list_inputs or len(links) != 1
                              else str(links[0]) for name, links in self.inputs.items()}
        if self.title:
            data["title"] = self.title
        if self.notes:
            data["notes"] = self.notes
        if self.disabled:
            data["disabled"] = True
        return data


@dataclass
class WorkflowInput:
    """A named input of the whole workflow. It points at a node's `param` (`--set NAME=VALUE` sets it, a link
    into the workflow's node may feed it), or at an `input` port (only a link feeds it, when the workflow is
    used as a node; a link inside the workflow is its default)."""
    node: str
    param: str = ""
    description: str = ""
    input: str = ""

    @property
    def port(self) -> str:
        """The param or input port it points at."""
        return self.param or self.input

    def to_dict(self) -> dict:
        data = {"node": self.node, "param": self.param} if self.param else {"node": self.node, "input": self.input}
        if self.description:
            data["description"] = self.description
        return data


@dataclass
class WorkflowOutput:
    """A named result of the whole workflow: a node's output port."""
    node: str
    output: str
    description: str = ""

    def to_dict(self) -> dict:
        data = {"node": self.node, "output": self.output}
        if self.description:
            data["description"] = self.description
        return data


@dataclass
class Workflow:
    nodes: dict[str, Node] = field(default_factory=dict)
    name: str = "Untitled"
    description: str = ""
    requires: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, WorkflowInput] = field(default_factory=dict)
    outputs: dict[str, WorkflowOutput] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)   # boxes around nodes, for people
    notes: dict[str, Note] = field(default_factory=dict)     # sticky notes, for people
    ui: dict[str, Any] = field(default_factory=dict)
    # where the file was read from: relative paths in params resolve against its folder
    source: Path | None = None

    @property
    def base_dir(self) -> Path:
        return self.source.parent if self.source else Path.cwd()

    def input_for(self, node: str, param: str) -> str | None:
        """The name of the workflow input that sets `node`'s `param`, if one does."""
        return next((name for name, spec in self.inputs.items() if (spec.node, spec.param) == (node, param)), None)

    def to_dict(self) -> dict:
        data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": self.name,
                                "nodes": {nid: n.to_dict() for nid, n in self.nodes.items()}}
        if self.description:
            data["description"] = self.description
        if self.requires:
            data["requires"] = dict(self.requires)
        if self.inputs:
            data["inputs"] = {k: v.to_dict() for k, v in self.inputs.items()}
        if self.outputs:
            data["outputs"] = {k: v.to_dict() for k, v in self.outputs.items()}
        if self.groups:
            data["groups"] = {k: v.to_dict() for k, v in self.groups.items()}
        if self.notes:
            data["notes"] = {k: v.to_dict() for k, v in self.notes.items()}
        if self.ui:
            data["ui"] = copy.deepcopy(self.ui)
        return data

    def dumps(self) -> str:
        """Sorted keys and 2-space indentation, so that a small edit is a small diff."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(self.dumps(), encoding="utf-8")
        tmp.replace(path)
        self.source = path.resolve()
        return path

    def copy(self) -> "Workflow":
        clone = from_dict(self.to_dict())
        clone.source = self.source
        return clone


def loads(text: str, source: Path | None = None) -> Workflow:
    """Parse a workflow from JSON text; malformed JSON names its line and column."""
    where = f"{source.name}: " if source else ""
    try:
        data = jsontext.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkflowInvalid([Problem(
            "json", f"{where}not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.",
            hint="Fix the file in a text editor (a missing comma or quote is the usual cause).")]) from None
    except jsontext.TooDeep as exc:
        raise WorkflowInvalid([Problem("json", f"{where}not a workflow: {exc}.",
                                       hint="A workflow file nests a few levels; this one was not written by "
                                            "flowbanana.")]) from None
    except ValueError as exc:  # a number of thousands of digits, say
        raise WorkflowInvalid([Problem("json", f"{where}not a workflow: {exc}.")]) from None
    workflow = from_dict(data)
    workflow.source = source.resolve() if source else None
    return workflow


def load(path: str | Path) -> Workflow:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # the BOM some Windows editors write is no error
    except FileNotFoundError:
        raise WorkflowInvalid([Problem("file", f"no workflow file at {path}.",
                                       hint="Check the path; `flowbanana run --help` shows examples.")]) from None
    except UnicodeDecodeError as exc:
        raise WorkflowInvalid([Problem("file", f"{path} is not UTF-8 text (byte {exc.start} cannot be read).",
                                       hint="Save it as UTF-8 in your text editor.")]) from None
    except OSError as exc:
        raise WorkflowInvalid([Problem("file", f"cannot read {path}: {exc.strerror or exc}.")]) from None
    return loads(text, path)


def migrate(data: dict) -> dict:
    """Bring an older document up to VERSION, one step at a time; refuse a newer one."""
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise WorkflowInvalid([Problem("version", f"\"version\" must be a whole number, got {version!r}.",
                                       hint=f"Use \"version\": {VERSION}.")])
    if version > VERSION:
        raise WorkflowInvalid([Problem(
            "version", f"this file is workflow version {version}; this flowbanana reads up to version {VERSION}.",
            hint="Upgrade flowbanana: pip install -U flowbanana.")])
    while version < VERSION:
        if version not in MIGRATIONS:
            raise WorkflowInvalid([Problem("version", f"no migration from workflow version {version}.")])
        data = MIGRATIONS[version](copy.deepcopy(data))
        version += 1
        data["version"] = version
    return data


def from_dict(data: Any, depth: int = 0) -> Workflow:
    """Build the model from a parsed document; every shape problem is reported at once.

    `depth` counts the subgraphs this document is embedded in."""
    if not isinstance(data, dict):
        raise WorkflowInvalid([Problem("format", "a workflow file must hold a JSON object.")])
    if data.get("format") != FORMAT:
        raise WorkflowInvalid([Problem(
            "format", f"\"format\" is {data.get('format')!r}, not {FORMAT!r}: this is not a flowbanana workflow.",
            hint=f"A workflow file starts with {{\"format\": \"{FORMAT}\", \"version\": {VERSION}, ...}}.")])
    data = migrate(data)
    problems: list[Problem] = []
    for key in sorted(set(data) - _TOP_KEYS):
        problems.append(Problem("unknown_key", f"unknown top-level key {key!r}.",
                                hint=f"Allowed keys: {', '.join(sorted(_TOP_KEYS))}. Layout belongs under \"ui\"."))
    workflow = Workflow(name=_text(data, "name", "Untitled", problems),
                        description=_text(data, "description", "", problems))
    requires = data.get("requires", {})
    if isinstance(requires, dict) and all(isinstance(v, str) for v in requires.values()):
        workflow.requires = dict(requires)
    else:
        problems.append(Problem("requires", "\"requires\" must map pack names to version ranges, "
                                            "like {\"flowbanana\": \">=0.1\"}."))
    ui = data.get("ui", {})
    if isinstance(ui, dict):
        workflow.ui = copy.deepcopy(ui)
    else:
        problems.append(Problem("ui", "\"ui\" must be an object (layout only)."))
    nodes = data.get("nodes")
    if not isinstance(nodes, dict):
        problems.append(Problem("nodes", "\"nodes\" must be an object of nodes keyed by id."))
        nodes = {}
    for node_id, raw in nodes.items():
        node = _node(node_id, raw, problems, depth)
        if node:
            workflow.nodes[node_id] = node
    workflow.inputs = _interface(data, "inputs", _input, problems)
    workflow.outputs = _interface(data, "outputs", _output, problems)
    workflow.groups = parse_groups(data, problems)
    workflow.notes = parse_notes(data, problems)
    if problems:
        raise WorkflowInvalid(problems)
    return workflow


def _interface(data: dict, key: str, parse: Callable[[str, Any], Any], problems: list[Problem]) -> dict:
    raw = data.get(key, {})
    if not isinstance(raw, dict):
        problems.append(Problem(key, f"\"{key}\" must map names to what they point at, like "
                                     f"{{\"photo\": {{\"node\": \"load\", \"{'param' if key == 'inputs' else 'output'}\": "
                                     f"\"{'path' if key == 'inputs' else 'image'}\"}}}}."))
        return {}
    found = {}
    for name, spec in raw.items():
        try:
            found[name] = parse(name, spec)
        except ValueError as exc:
            problems.append(Problem(key, str(exc), port=name))
    return found


def _input(name: str, spec: Any) -> WorkflowInput:
    if not NODE_ID.match(name):
        raise ValueError(f"workflow input name {name!r} may use only letters, digits, _ and -.")
    ports = [k for k in ("param", "input") if isinstance(spec, dict) and isinstance(spec.get(k), str) and spec[k]]
    if not isinstance(spec, dict) or not isinstance(spec.get("node"), str) or len(ports) != 1:
        raise ValueError(f"workflow input {name!r} must be {{\"node\": ID, \"param\": NAME}} (a param), "
                         f"or {{\"node\": ID, \"input\": NAME}} (an input port).")
    return WorkflowInput(spec["node"], spec.get("param", ""), str(spec.get("description", "")),
                         spec.get("input", ""))


def _output(name: str, spec: Any) -> WorkflowOutput:
    if not OUTPUT_NAME.match(name):
        raise ValueError(f"workflow output name {name!r} must start with a letter or _ and use only letters, "
                         "digits and _ (it is linked to as NODE.NAME).")
    if not isinstance(spec, dict) or not isinstance(spec.get("node"), str) or not isinstance(spec.get("output"), str):
        raise ValueError(f"workflow output {name!r} must be {{\"node\": ID, \"output\": NAME}}.")
    return WorkflowOutput(spec["node"], spec["output"], str(spec.get("description", "")))


def _text(data: dict, key: str, default: str, problems: list[Problem]) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        problems.append(Problem(key, f"\"{key}\" must be text."))
        return default
    return value


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _node(node_id: str, raw: Any, problems: list[Problem], depth: int) -> Node | None:
    if not NODE_ID.match(node_id):
        problems.append(Problem("node_id", f"node id {node_id!r} may use only letters, digits, _ and -.",
                                node=node_id))
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        problems.append(Problem("node", f"node {node_id!r} needs a \"type\", like \"image.resize\".", node=node_id))
        return None
    for key in sorted(set(raw) - _NODE_KEYS):
        problems.append(Problem("unknown_key", f"node {node_id!r} has an unknown key {key!r}.", node=node_id,
                                hint=f"Allowed keys: {', '.join(sorted(_NODE_KEYS))}."))
    for key in ("title", "notes"):
        if not isinstance(raw.get(key) or "", str):
            problems.append(Problem(key, f"node {node_id!r}: \"{key}\" must be text.", node=node_id))
    if not isinstance(raw.get("disabled", False), bool):
        problems.append(Problem("disabled", f"node {node_id!r}: \"disabled\" must be true or false.", node=node_id))
    node = Node(type=raw["type"], title=_str_or_none(raw.get("title")), notes=_str_or_none(raw.get("notes")),
                disabled=raw.get("disabled") is True)
    if node.type == SUBGRAPH or "workflow" in raw:
        node.workflow = _subgraph(node_id, raw, problems, depth)
    params = raw.get("params", {})
    if isinstance(params, dict):
        node.params = dict(params)
    else:
        problems.append(Problem("params", f"node {node_id!r}: \"params\" must be an object.", node=node_id))
    inputs = raw.get("inputs", {})
    if not isinstance(inputs, dict):
        problems.append(Problem("inputs", f"node {node_id!r}: \"inputs\" must be an object.", node=node_id))
        inputs = {}
    for port, value in inputs.items():
        texts = value if isinstance(value, list) else [value]
        if isinstance(value, list):
            node.list_inputs.add(port)
        links = []
        for text in texts:
            try:
                links.append(Link.parse(text))
            except ValueError as exc:
                problems.append(Problem("link", f"node {node_id!r}, input {port!r}: {exc}.", node=node_id, port=port,
                                        hint="Write links as \"source_node.output_name\"."))
        node.inputs[port] = links
    return node


def _subgraph(node_id: str, raw: dict, problems: list[Problem], depth: int) -> "str | Workflow | None":
    """A subgraph node's "workflow": a file name, or an embedded document parsed here (its problems named by path)."""
    value = raw.get("workflow")
    if raw["type"] != SUBGRAPH:
        problems.append(Problem("node", f"node {node_id!r} has a \"workflow\" but type {raw['type']!r}; only "
                                f"\"type\": \"{SUBGRAPH}\" nodes hold a workflow.", node=node_id))
        return None
    if isinstance(value, str) and value.strip():
        return value
    if not isinstance(value, dict):
        problems.append(Problem("node", f"node {node_id!r} ({SUBGRAPH}) needs \"workflow\": the path of a workflow "
                                "file, or the workflow itself.", node=node_id,
                                hint="Write \"workflow\": \"polaroid.json\" (relative to this file's folder)."))
        return None
    if depth + 1 > MAX_NESTING:
        problems.append(Problem("nesting", f"node {node_id!r}: subgraphs are nested more than {MAX_NESTING} deep.",
                                node=node_id, hint="Unpack some of them."))
        return None
    try:
        return from_dict(value, depth + 1)
    except WorkflowInvalid as exc:
        problems.extend(nested_problems(node_id, exc.problems))
        return None


def nested_problems(node_id: str, problems: list[Problem]) -> list[Problem]:
    """A subgraph's problems as the workflow holding it reports them: nodes named by path (`sub/inner`)."""
    return [Problem(p.code, f"in subgraph {node_id!r}: {p.message}", node=f"{node_id}/{p.node}" if p.node else node_id,
                    port=p.port, hint=p.hint) for p in problems]
