"""Each saved workflow as its own HTTP endpoint, `POST /api/workflows/{name}/run`: a request schema made from the
workflow's interface (types, defaults, ranges, choices, descriptions), checked before anything runs and listed
in /openapi.json, where it is regenerated from the workflows folder on each request."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ..catalogue import Catalogue
from ..errors import Problem, WorkflowInvalid
from ..interface import Interface, InterfaceInput
from ..node_api import Param
from ..porttypes import BOOL, FLOAT, INT
from ..subgraph import Subgraphs
from ..workflow import Workflow, load
from .settings import ServerSettings

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_ -]{0,99}$")
_TYPES: dict[str, type] = {INT: int, FLOAT: float, BOOL: bool}
_PATH_NOTE = " (a path inside the server's workflows or input folders, or the path POST /api/uploads returned)"


@dataclass
class Endpoint:
    """One saved workflow as an endpoint: the workflow, its interface and the model its requests must fit."""
    name: str
    workflow: Workflow
    interface: Interface
    request: type[BaseModel]

    def validate(self, body: Any) -> BaseModel:
        """The request as the model reads it; WorkflowInvalid naming each input that does not fit."""
        if body is None or isinstance(body, dict) and "inputs" not in body:
            body = {**(body or {}), "inputs": {}}  # a required input left out is named as one
        try:
            return self.request.model_validate(body)
        except ValidationError as exc:
            raise WorkflowInvalid([_problem(error, self.interface) for error in exc.errors(include_url=False)]) \
                from None

    def inputs(self, request: BaseModel) -> dict[str, Any]:
        """The inputs the client set (the workflow's own values stand for the rest)."""
        return request.inputs.model_dump(by_alias=True, exclude_unset=True)


class Endpoints:
    """The saved workflows of one server as endpoints; a file is read again only when it changed."""

    def __init__(self, settings: ServerSettings, catalogue: Catalogue, options: type[BaseModel]):
        self.settings = settings
        self.catalogue = catalogue
        self.options = options
        self._cache: dict[Path, tuple[tuple[int, int], Endpoint]] = {}

    def path(self, name: str) -> Path:
        """The file a workflow name stands for; ValueError for a name that cannot be a saved workflow's."""
        stem = name[:-5] if name.endswith(".json") else name
        if not NAME.match(stem):
            raise ValueError(f"{name!r} is not a workflow name: use letters, digits, spaces, _ and -.")
        return self.settings.workflows_dir / f"{stem}.json"

    def get(self, name: str) -> Endpoint:
        """The endpoint of a saved workflow: FileNotFoundError if there is none, WorkflowInvalid if it is broken."""
        path = self.path(name)
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        workflow = load(path)
        interface = Subgraphs(self.catalogue, self.settings.read_roots).interface(workflow)
        endpoint = Endpoint(path.stem, workflow, interface, request_model(path.stem, interface, self.options))
        self._cache[path] = (stamp, endpoint)
        return endpoint

    def all(self) -> list[Endpoint]:
        """Every saved workflow that can be read, by name."""
        found = []
        for path in sorted(self.settings.workflows_dir.glob("*.json")):
            try:
                found.append(self.get(path.stem))
            except (OSError, ValueError, WorkflowInvalid):
                continue  # GET /api/workflows says what is wrong with it
        return found

    def openapi(self, schema: dict, prefix: str) -> dict:
        """`schema` (FastAPI's document) with a typed operation per saved workflow."""
        schema = copy.deepcopy(schema)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for endpoint in self.all():
            body = endpoint.request.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(body.pop("$defs", {}))
            components[endpoint.request.__name__] = body
            schema["paths"][f"{prefix}/workflows/{quote(endpoint.name)}/run"] = {"post": _operation(endpoint)}
        return schema


def _operation(endpoint: Endpoint) -> dict:
    workflow = endpoint.workflow
    outputs = "".join(f"\n- `{o.name}` ({o.type}): {o.output.description}" for o in endpoint.interface.outputs.values())
    return {
        "tags": ["workflows"], "summary": f"Run {workflow.name!r}",
        "description": workflow.description + (f"\n\nOutputs:{outputs}" if outputs else ""),
        "operationId": "run_" + re.sub(r"\W", "_", endpoint.name),
        "requestBody": {"required": False, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{endpoint.request.__name__}"}}}},
        "responses": {
            "202": {"description": "Queued: the run (follow `links.events`, fetch `links.self`)."},
            "422": {"description": "An input does not fit, or the workflow is not valid: every problem at once."},
            "429": {"description": "The queue is full; try again later."}},
    }


def request_model(name: str, interface: Interface, options: type[BaseModel]) -> type[BaseModel]:
    """The request body for a workflow's endpoint: `inputs` typed by its interface, and the run `options`."""
    model_name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", name) if part) or "Workflow"
    fields = {f"input_{i}": _field(spec.param) if spec.param else _file_field(spec)
              for i, spec in enumerate(interface.inputs.values()) if spec.settable}
    inputs = create_model(f"{model_name}Inputs", __config__=ConfigDict(strict=True, extra="forbid"), **fields)
    return create_model(f"{model_name}Run", __config__=ConfigDict(extra="forbid"),
                        inputs=(inputs, Field(default_factory=inputs, description="The workflow's inputs; "
                                              "left out, each keeps the value saved in the workflow.")),
                        options=(options, Field(default_factory=options)))


def _field(param: Param) -> tuple[Any, Any]:
    """A pydantic field (aliased to the input's name, which need not be a Python name) for one input."""
    kind: Any = Literal[param.choices] if param.choices else _TYPES.get(param.type, str)
    limits = {k: v for k, v in (("ge", param.min), ("le", param.max)) if v is not None}
    description = param.description + (_PATH_NOTE if param.is_path else "")
    required = param.default is None and not param.optional
    if param.default is None:
        kind = kind | None
    return kind, Field(... if required else param.default, alias=param.name, description=description or None,
                       **limits)


def _file_field(spec: InterfaceInput) -> tuple[Any, Any]:
    """An IMAGE or MASK input port, given as a file's path (a loader node reads it and feeds the port)."""
    port = spec.input
    required = not port.optional
    description = (port.description + " " if port.description else "") + \
        f"An {port.type.lower()} file{_PATH_NOTE}" + ("; left out, the workflow's own link feeds it" if spec.linked
                                                     else "") + "."
    return (str if required else str | None), Field(... if required else None, alias=spec.name, min_length=1,
                                                    description=description, json_schema_extra={"format": "path"})


def _problem(error: dict, interface: Interface) -> Problem:
    """One pydantic error as flowbanana says problems: naming the input and what fits."""
    loc = [str(part) for part in error["loc"]]
    if loc[:1] == ["inputs"] and len(loc) > 1:
        name = loc[1]
        if error["type"] == "extra_forbidden":
            known = ", ".join(n for n, i in interface.inputs.items() if i.settable) or "none"
            return Problem("input", f"the workflow has no input {name!r}.", port=name, hint=f"Its inputs: {known}.")
        return Problem("input", f"input {name!r}: {error['msg'].lower()}, got {error.get('input')!r}.", port=name,
                       hint=_fits(interface.inputs[name]) if name in interface.inputs else "")
    where = ".".join(loc) or "the body"
    return Problem("request", f"{where}: {error['msg'].lower()}.",
                   hint="The body is {\"inputs\": {...}, \"options\": {...}}; /openapi.json has its schema.")


def _fits(spec: InterfaceInput) -> str:
    param = spec.param
    if param is None:
        return f"It takes the path of an {spec.input.type.lower()} file (POST /api/uploads returns one)." \
            if spec.takes_file else ""
    if param.choices:
        return f"Choose one of: {', '.join(param.choices)}."
    what = {INT: "a whole number", FLOAT: "a number", BOOL: "true or false"}.get(param.type, "text")
    return f"It takes {what}" + (f", range {param.range_text}" if param.range_text else "") + "."
