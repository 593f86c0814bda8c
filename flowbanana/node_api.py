"""The public node API: everything a node pack (built-in or third-party) imports.

A pack is a module holding a `Pack`; its node types are plain functions declared with
`@pack.node(...)`. Inputs and params arrive as keyword arguments; a function that names a
`ctx` parameter also receives the `NodeContext` of the run.

    from flowbanana.node_api import Pack, Input, Param, Output, IMAGE

    pack = Pack("my-pack", version="1.0.0")

    @pack.node("my.invert", title="Invert", inputs=[Input("image", IMAGE)],
               outputs=[Output("image", IMAGE)])
    def invert(image):
        return ImageOps.invert(image.convert("RGB"))
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable

from .images import ImageRef
from .limits import RunLimits
from .pixels import eight_bit
from .porttypes import ANY, BOOL, FLOAT, IMAGE, INT, MASK, PORT_TYPES, ROW, TEXT
from .templates import TemplateError, fill, template_fields
from .words import CLI, Words
from .writing import Gate, Stopped, write_file

__all__ = [
    "Pack", "NodeType", "Input", "Param", "Output", "NodeContext", "NodeError", "Issue", "ImageRef",
    "embedded_record",
    "IMAGE", "MASK", "TEXT", "INT", "FLOAT", "BOOL", "ROW", "ANY",
    "TemplateError", "fill", "template_fields", "RunLimits", "eight_bit",
]


class NodeError(Exception):
    """A failure the user can fix; its message is shown as is, without a traceback."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


@dataclass(frozen=True)
class Issue:
    """What a node type's `check` finds in a node's params before anything runs.

    An error (the default) makes the workflow invalid; a warning (`warning=True`) is shown by
    `flowbanana validate` and the editor, and the run goes ahead. `param` names the param concerned.
    """
    message: str
    hint: str = ""
    param: str | None = None
    warning: bool = False


@dataclass(frozen=True)
class Input:
    """A port fed by links. `list=True`: the node takes the whole list (and several links).

    `partial=True` (with `list=True`): the node still runs when some of the nodes linked into the port failed
    or were skipped; each of those gives None in the list, so a node can show what did work (a sweep's grid).
    """
    name: str
    type: str
    optional: bool = False
    list: bool = False
    description: str = ""
    partial: bool = False

    def __post_init__(self):
        if self.partial and not self.list:
            raise ValueError(f"input {self.name!r}: partial=True needs list=True")

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type, "optional": self.optional,
                "list": self.list, "description": self.description, "partial": self.partial}


@dataclass(frozen=True)
class Output:
    """A typed result. `list=True`: the value is a list of `type` (e.g. variations); `length` names the int
    param that says how long that list always is (gemini.generate's `count`), so that, run once per item,
    the joined list's positions are known before the items are made and each flows on at once."""
    name: str
    type: str
    list: bool = False
    description: str = ""
    length: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type, "list": self.list, "description": self.description,
                **({"length": self.length} if self.length else {})}


_KIND_TYPES = {"text": TEXT, "multiline": TEXT, "choice": TEXT, "file": TEXT, "mask": TEXT, "color": TEXT,
               "int": INT, "seed": INT, "float": FLOAT, "bool": BOOL}
SEED_MAX = 2**31 - 1


@dataclass(frozen=True)
class Param:
    """A literal value set in the node. A link of the same type, named like the param, overrides it."""
    name: str
    kind: str
    default: Any = None
    description: str = ""
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False
    file_types: tuple[str, ...] = ()
    # What the node really uses for a value (an alias resolved, say): the cache key holds this instead,
    # so two spellings of the same request share one cached result.
    sent_as: Callable[[Any], Any] | None = field(default=None, compare=False)
    # a {field} template (file names, prompts): True for any plain field names, or the only names it may use;
    # checked when the workflow is validated, filled with `fill`
    template: bool | tuple[str, ...] = False

    def __post_init__(self):
        if self.kind not in _KIND_TYPES:
            raise ValueError(f"param {self.name!r}: unknown kind {self.kind!r} (one of {sorted(_KIND_TYPES)})")
        if self.default is not None:
            self.check(self.default)

    # Constructors named for the widget the editor draws.
    @classmethod
    def text(cls, name, default="", **kw): return cls(name, "text", default, **kw)
    @classmethod
    def multiline(cls, name, default="", **kw): return cls(name, "multiline", default, **kw)
    @classmethod
    def int(cls, name, default=0, **kw): return cls(name, "int", default, **kw)
    @classmethod
    def float(cls, name, default=0.0, **kw): return cls(name, "float", default, **kw)
    @classmethod
    def bool(cls, name, default=False, **kw): return cls(name, "bool", default, **kw)
    @classmethod
    def seed(cls, name="seed", default=0, **kw): return cls(name, "seed", default, min=0, max=SEED_MAX, **kw)
    @classmethod
    def file(cls, name, default="", **kw): return cls(name, "file", default, **kw)
    @classmethod
    def mask(cls, name="mask", default="", **kw):
        """A mask painted in the editor, stored as a PNG next to the workflow (white = change)."""
        return cls(name, "mask", default, **kw)
    @classmethod
    def color(cls, name, default="#ffffff", **kw): return cls(name, "color", default, **kw)
    @classmethod
    def choice(cls, name, choices, default=None, **kw):
        choices = tuple(choices)
        return cls(name, "choice", choices[0] if default is None else default, choices=choices, **kw)

    @property
    def type(self) -> str:
        return _KIND_TYPES[self.kind]

    @property
    def is_path(self) -> bool:
        """A path to a file the workflow reads: cached by content, carried in bundles."""
        return self.kind in ("file", "mask")

    @property
    def range_text(self) -> str:
        """The allowed range as people read it ("0..2147483647", "0..2", "1.."); "" when it has none."""
        if self.min is None and self.max is None:
            return ""
        return "..".join("" if v is None else _number(v) for v in (self.min, self.max))

    def check(self, value: Any) -> Any:
        """Return `value` coerced to this param's type, or raise ValueError saying what is allowed."""
        if value is None or (value == "" and self.type != TEXT):
            if self.optional or self.default is None:
                return None
            raise ValueError("a value is required")
        t = self.type
        if t == BOOL:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "1", "0", "on", "off"):
                return value.lower() in ("true", "yes", "1", "on")
            raise ValueError(f"expected true or false, got {value!r}")
        if t in (INT, FLOAT):
            if isinstance(value, bool):
                raise ValueError(f"expected a number, got {value!r}")
            try:
                number = float(value) if t == FLOAT else _to_int(value)
            except (TypeError, ValueError, OverflowError):
                raise ValueError(f"expected {'a whole number' if t == INT else 'a number'}, got {value!r}") from None
            if t == FLOAT and not math.isfinite(number):
                raise ValueError(f"expected a finite number, got {value!r}")
            if self.min is not None and number < self.min:
                raise ValueError(f"{_number(number)} is below the minimum {_number(self.min)}")
            if self.max is not None and number > self.max:
                raise ValueError(f"{_number(number)} is above the maximum {_number(self.max)}")
            return number
        if not isinstance(value, str):
            raise ValueError(f"expected text, got {value!r}")
        if self.kind == "choice" and value not in self.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(self.choices)}")
        if self.is_path and "\0" in value:
            raise ValueError(f"{value!r} is not a usable path: it contains a NUL byte")
        if self.kind == "color" and not _is_color(value):
            raise ValueError(f"{value!r} is not a colour like #ff8800 or #ff880080")
        if self.template:
            template_fields(value, None if self.template is True else self.template)
        return value

    def to_json(self) -> dict:
        data = {"name": self.name, "kind": self.kind, "type": self.type, "default": self.default,
                "description": self.description, "optional": self.optional}
        for key in ("min", "max", "step"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.choices:
            data["choices"] = list(self.choices)
        if self.file_types:
            data["file_types"] = list(self.file_types)
        if self.template:
            data["template"] = True if self.template is True else list(self.template)
        return data


def _number(value: float) -> str:
    """Whole numbers in full (2147483647, not 2.14748e+09), others short."""
    return str(round(value)) if value == round(value) else f"{value:g}"


def _to_int(value: Any) -> int:
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError
        return int(value)
    return int(value)


def _is_color(value: str) -> bool:
    digits = value[1:]
    return value.startswith("#") and len(digits) in (3, 6, 8) and all(c in "0123456789abcdefABCDEF" for c in digits)


@dataclass
class NodeType:
    """A declared node type. Built by `Pack.node`; the executor and the editor read it."""
    id: str
    title: str
    category: str
    description: str
    fn: Callable[..., Any]
    inputs: tuple[Input, ...] = ()
    params: tuple[Param, ...] = ()
    outputs: tuple[Output, ...] = ()
    version: str = "1"
    output: bool = False          # shows or writes a result (save, preview)
    cacheable: bool = True        # False for nodes that read the clock, say
    uses_provider: bool = False   # calls an image/text model; its cache key includes the provider
    extra_inputs: str | None = None  # links under any other name are accepted with this type (templates)
    # check(params) -> Issues about a node's literal params (those fed by links are absent), at validation
    check: Callable[[dict[str, Any]], Iterable[Issue]] | None = None
    pack: "Pack | None" = None
    keywords: tuple[str, ...] = ()  # other words people search for it by ("upscale" finds Resize)

    def __post_init__(self):
        names = [p.name for p in (*self.inputs, *self.params)]
        if len(set(names)) != len(names):
            raise ValueError(f"node type {self.id}: input and param names must be unique, got {names}")
        for t in [p.type for p in (*self.inputs, *self.outputs)]:
            if t not in PORT_TYPES:
                raise ValueError(f"node type {self.id}: unknown port type {t!r}")
        for out in self.outputs:
            if out.length is not None and not (out.list and (p := self.param(out.length)) and p.type == INT):
                raise ValueError(f"node type {self.id}: output {out.name!r} takes its length from {out.length!r}, "
                                 "which must be an int param of a list output")
        self.is_async = inspect.iscoroutinefunction(self.fn)
        self.wants_ctx = "ctx" in inspect.signature(self.fn).parameters

    def input(self, name: str) -> Input | None:
        return next((i for i in self.inputs if i.name == name), None)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def output_port(self, name: str) -> Output | None:
        return next((o for o in self.outputs if o.name == name), None)

    def port(self, name: str) -> Input | Param | None:
        """What a link named `name` feeds: an input port, a param of the same name, or an extra input."""
        found = self.input(name) or self.param(name)
        if found is None and self.extra_inputs and name.isidentifier() and name != "ctx":
            found = Input(name, self.extra_inputs, optional=True)
        return found

    def to_json(self) -> dict:
        return {"id": self.id, "title": self.title, "category": self.category,
                "description": self.description, "version": self.version,
                "inputs": [i.to_json() for i in self.inputs], "params": [p.to_json() for p in self.params],
                "outputs": [o.to_json() for o in self.outputs], "output": self.output,
                "cacheable": self.cacheable, "uses_provider": self.uses_provider,
                "extra_inputs": self.extra_inputs, "keywords": list(self.keywords),
                "pack": self.pack.name if self.pack else None}


@dataclass
class Pack:
    """A named, versioned set of node types; `distribution` is what `pip install` needs."""
    name: str
    version: str = "0.1.0"
    description: str = ""
    distribution: str | None = None
    types: list[NodeType] = field(default_factory=list)

    def __post_init__(self):
        self.distribution = self.distribution or self.name

    def node(self, id: str, *, title: str | None = None, category: str | None = None, description: str = "",
             inputs=(), params=(), outputs=(), version: str = "1", output: bool = False,
             cacheable: bool = True, uses_provider: bool = False, extra_inputs: str | None = None,
             check: Callable[[dict[str, Any]], Iterable[Issue]] | None = None, keywords: Iterable[str] = ()):
        """Declare a node type: `id` is `category.name` and is part of the file format.

        `keywords` are other words people look for it by ("upscale" for a resize); the editor's search reads them
        with the title and the description.

        `check`, if given, is called when a workflow is validated with a node's literal params
        (defaults filled in, coerced; params fed by a link are left out) and returns `Issue`s,
        e.g. a combination of params the chosen model does not take. It must be quick and pure.
        """
        if id.count(".") != 1 or not all(part.replace("_", "").isalnum() for part in id.split(".")):
            raise ValueError(f"node type id {id!r} must look like category.name")

        def register(fn):
            node_type = NodeType(
                id=id, title=title or id.split(".")[1].replace("_", " ").capitalize(),
                category=category or id.split(".")[0], description=description or (fn.__doc__ or "").strip(),
                fn=fn, inputs=tuple(inputs), params=tuple(params), outputs=tuple(outputs), version=version,
                output=output, cacheable=cacheable, uses_provider=uses_provider,
                extra_inputs=extra_inputs, check=check, pack=self, keywords=tuple(keywords))
            self.types.append(node_type)
            return fn
        return register


def embedded_record(path: Path) -> dict | None:
    """The run record flowbanana embedded in an image file it wrote (see NodeContext.provenance), or None;
    a file that cannot be read as an image has none."""
    from . import provenance
    try:
        record = provenance.read(path)[1]
    except (OSError, SyntaxError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def resolve_path(path: str, base_dir: Path) -> Path:
    """A workflow's path as a run reads it: `~` expanded, relative to the workflow's folder, links followed.

    ValueError, saying why, for a path no file can have: a NUL byte, a `~user` this machine does not know.
    """
    if "\0" in path:
        raise ValueError("a path cannot contain a NUL byte")
    try:
        candidate = Path(path).expanduser()
    except RuntimeError:  # pathlib's word for an unknown ~user
        raise ValueError(f"{path.split('/')[0]!r} names no user on this machine") from None
    return (candidate if candidate.is_absolute() else base_dir / candidate).resolve()


def within(path: Path, roots) -> bool:
    """Whether `path` (links followed) lies inside one of `roots`: the one rule for what a run may read."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(Path(root).resolve()) for root in roots)


class NodeContext:
    """What a running node may know and do besides computing its outputs."""

    def __init__(self, *, node_id: str, node_type: NodeType, base_dir: Path, out_dir: Path,
                 read_roots: tuple[Path, ...], resources: dict[str, Any], report: Callable[..., None],
                 item_index: int = 0, item_count: int = 1, workflow: dict | None = None,
                 lineage: Callable[[], list[dict]] = list, identities: dict[str, str] | None = None,
                 limits: RunLimits = RunLimits(), held: Callable[[], int] = int, words: Words = CLI):
        self.node_id = node_id
        self.node_type = node_type
        self.base_dir = base_dir
        self.out_dir = out_dir
        self.read_roots = read_roots
        self.resources = resources
        self.item_index = item_index
        self.item_count = item_count
        self.workflow = workflow
        self.limits = limits
        self.meta: dict[str, Any] = {}
        self._report = report
        self._lineage = lineage
        self._identities = identities or {}
        self._held = held
        self.words = words  # how the run's front end names what to set, for hints
        self.gate = Gate()  # the run stops (Ctrl+C): no file of this call is named after that

    def identity(self, name: str) -> str | None:
        """What made the value linked into input `name` (this item's), as a digest: equal digests mean equal
        values, known without reading them (an image's is the cache key of the call that made it). None when
        the run keeps no cache, or nothing is linked there."""
        return self._identities.get(name)

    def lineage(self) -> list[dict]:
        """What the nodes upstream of this one recorded (model, seed, usage...), in run order.

        Each entry is {"node", "type", "meta", "seconds", "cached"}; for an upstream node mapped over
        the same list as this one, only the matching item's record. Used to write provenance into
        saved files, and by a sweep to caption each cell with its time and cost.
        """
        return self._lineage()

    def provenance(self, image_format: str, **extra: Any) -> dict[str, Any]:
        """Keyword arguments for `Image.save` that embed this run's workflow and a record of how the
        image was made (models, seeds, finish reasons, usage: never a secret; plus `extra`) in PNG, JPEG or WebP."""
        from . import provenance
        record = provenance.run_record(self.node_id, self.lineage(), item=self.item_index + 1, **extra)
        return provenance.save_options(image_format, self.workflow, record)

    def check_size(self, width: int, height: int, what: str = "the image") -> None:
        """Before making a width×height picture: a NodeError if this run may not keep it (too many pixels for
        one image, or more image memory than the run may hold). The run checks every output anyway; asking
        first refuses it before the memory is spent."""
        problem = self.limits.pixels_problem(width, height, what) or \
            self.limits.memory_problem(self._held(), width * height * 4)
        if problem:
            raise NodeError(*problem)

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress (0..1) to whoever listens: the CLI's line, the editor's node."""
        self._report("progress", fraction=max(0.0, min(1.0, fraction)), message=message)

    def warn(self, message: str) -> None:
        self._report("warning", message=message)

    def record(self, **meta: Any) -> None:
        """Attach facts to this node's result (model, finish reason, usage); kept in the cache too."""
        self.meta.update(meta)

    def resolve_read(self, path: str) -> Path:
        """A path from the workflow, relative to its folder, allowed only inside the read roots."""
        if not path:
            raise NodeError("no file given.", "Set the path param to a file next to the workflow.")
        try:
            resolved = resolve_path(path, self.base_dir)
        except (OSError, ValueError) as exc:  # a NUL byte, an unknown ~user, a name too long
            raise NodeError(f"{path!r} is not a usable path: {exc}.", "Check the path param.") from None
        if not within(resolved, self.read_roots):
            roots = ", ".join(str(r) for r in self.read_roots)
            raise NodeError(f"{path!r} is outside the folders this run may read ({roots}).",
                            f"Move the file next to the workflow, or allow its folder with {self.words.allow_read}.")
        return resolved

    def resolve_write(self, name: str) -> Path:
        """A file name inside the run's output folder; `..` and absolute paths are refused."""
        if "\0" in name:
            raise NodeError(f"{name!r} is not a usable file name: it contains a NUL byte.",
                            "Use a plain file name such as result_{index}.png.")
        candidate = Path(name)
        if candidate.is_absolute() or ".." in candidate.parts or not name.strip():
            raise NodeError(f"{name!r} would be written outside the output folder.",
                            "Use a plain file name such as result_{index}.png (sub-folders are fine).")
        resolved = (self.out_dir / candidate).resolve()
        if not resolved.is_relative_to(self.out_dir.resolve()):
            raise NodeError(f"{name!r} would be written outside the output folder.",
                            "Use a plain file name such as result_{index}.png.")
        resolved.parent.mkdir(parents=True, exist_ok=True)
        return resolved

    def write_file(self, path: Path, write: Callable[[BinaryIO], None], overwrite: bool = True) -> Path:
        """Write a file of this node's (`path` from resolve_write) through `write(handle)`, and record it for the
        run's summary: made under a temporary name and named only if the run is still going, so a run stopped
        while it is written leaves no file, not half of one. Without `overwrite`, a taken name gets _1, _2...
        Returns the path the file has."""
        written = write_file(path, write, self.gate, overwrite)
        self.meta["files"] = self.gate.files
        return written

    def add_file(self, path: Path) -> None:
        """Record a file this node keeps without writing it (one an earlier run wrote), for the run's summary and
        the editor's gallery; not after the run was stopped."""
        with contextlib.suppress(Stopped):
            self.gate.name(lambda: path)
            self.meta["files"] = self.gate.files

    async def run_blocking(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run CPU-heavy or blocking work from an async node without stalling the others."""
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
