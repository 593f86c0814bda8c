"""The node catalogue: every installed pack's node types, found the same way for built-in and third-party packs.

Packs come from the `flowbanana.nodes` entry-point group (each entry names a `Pack`), and from
folders given with `--nodes-dir` or `FLOWBANANA_NODES_PATH` (each `.py` file or package in the
folder that defines a module-level `Pack`).
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from . import __version__
from .node_api import NodeType, Pack
from .porttypes import PORT_TYPES

ENTRY_POINT_GROUP = "flowbanana.nodes"
CATEGORY_COLORS = {"text": "#2e7d32", "list": "#00838f", "image": "#1565c0", "mask": "#616161",
                   "gemini": "#f9a825", "io": "#6a1b9a", "sweep": "#ad1457", "workflows": "#00695c"}


@dataclass
class Catalogue:
    types: dict[str, NodeType] = field(default_factory=dict)
    packs: dict[str, Pack] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def add(self, pack: Pack, origin: str) -> None:
        if pack.name in self.packs and self.packs[pack.name] is not pack:
            self.warnings.append(f"pack {pack.name!r} from {origin} ignored: a pack of that name is already loaded.")
            return
        self.packs[pack.name] = pack
        for node_type in pack.types:
            other = self.types.get(node_type.id)
            if other and other is not node_type:
                self.warnings.append(f"node type {node_type.id!r} from pack {pack.name!r} ignored: "
                                     f"pack {other.pack.name if other.pack else '?'!r} already provides it.")
                continue
            self.types[node_type.id] = node_type

    def get(self, type_id: str) -> NodeType | None:
        return self.types.get(type_id)

    def distributions(self) -> dict[str, str]:
        """Installed distributions and their versions, for checking a workflow's `requires`."""
        found = {"flowbanana": __version__}
        for pack in self.packs.values():
            found.setdefault(pack.distribution, pack.version)
        return found

    def requires_for(self, type_ids) -> dict[str, str]:
        """The `requires` entry a workflow using these node types should carry."""
        needed = {"flowbanana": f">={_minor(__version__)}"}
        for type_id in type_ids:
            node_type = self.types.get(type_id)
            if node_type and node_type.pack and node_type.pack.distribution != "flowbanana":
                needed[node_type.pack.distribution] = f">={_minor(node_type.pack.version)}"
        return needed

    def to_json(self) -> dict:
        """Everything the editor needs to draw any node; the one description of each type."""
        categories = sorted({t.category for t in self.types.values()})
        return {
            "flowbanana": __version__,
            "port_types": PORT_TYPES,
            "categories": {c: CATEGORY_COLORS.get(c) or _color_for(c) for c in categories},
            "packs": [{"name": p.name, "version": p.version, "distribution": p.distribution,
                       "description": p.description} for p in self.packs.values()],
            "nodes": [t.to_json() for t in sorted(self.types.values(), key=lambda t: (t.category, t.id))],
        }


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _color_for(category: str) -> str:
    hue = int(hashlib.sha256(category.encode()).hexdigest()[:2], 16) * 360 // 256
    return f"hsl({hue}, 45%, 38%)"


def load_catalogue(nodes_dirs: list[str | Path] | None = None) -> Catalogue:
    """Load installed packs, then folder packs; a pack that fails to import becomes a warning."""
    catalogue = Catalogue()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            pack = ep.load()
        except Exception as exc:  # a broken third-party pack must not stop the others
            catalogue.warnings.append(f"node pack {ep.name!r} ({ep.value}) failed to load: {exc}")
            continue
        if isinstance(pack, Pack):
            catalogue.add(pack, f"entry point {ep.value}")
        else:
            catalogue.warnings.append(f"entry point {ep.value} is not a flowbanana Pack.")
    folders = [Path(p) for p in (nodes_dirs or [])]
    folders += [Path(p) for p in os.environ.get("FLOWBANANA_NODES_PATH", "").split(os.pathsep) if p]
    for folder in folders:
        _load_folder(catalogue, folder)
    return catalogue


def _load_folder(catalogue: Catalogue, folder: Path) -> None:
    if not folder.is_dir():
        catalogue.warnings.append(f"nodes folder {folder} does not exist.")
        return
    for path in sorted(folder.iterdir()):
        module_file = path / "__init__.py" if path.is_dir() else path
        if path.name.startswith(("_", ".")) or module_file.suffix != ".py" or not module_file.exists():
            continue
        name = f"flowbanana_user_nodes_{hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]}"
        try:
            spec = importlib.util.spec_from_file_location(name, module_file)
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        except Exception as exc:
            sys.modules.pop(name, None)
            catalogue.warnings.append(f"node pack {path} failed to load: {type(exc).__name__}: {exc}")
            continue
        packs = [v for v in vars(module).values() if isinstance(v, Pack)]
        if not packs:
            catalogue.warnings.append(f"{path} defines no flowbanana Pack.")
        for pack in packs:
            catalogue.add(pack, str(path))
