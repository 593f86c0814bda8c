"""Shareable bundles: a workflow and every file it references in one .zip that runs on another machine.

Opening a bundle trusts nothing in it: member names must be plain relative paths, links are refused,
sizes are counted while extracting (not read from headers), compression ratios and image pixel counts
are bounded, and everything lands inside one folder that becomes the only place the workflow may read.
"""
from __future__ import annotations

import hashlib
import json
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image

from .catalogue import Catalogue
from .errors import Problem, WorkflowInvalid
from .node_api import within
from .subgraph import Subgraphs
from .workflow import Workflow, load

BUNDLE_FORMAT = "flowbanana/bundle"
WORKFLOW_NAME, MANIFEST_NAME = "workflow.json", "manifest.json"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True)
class Limits:
    """How much a bundle may hold: a hostile one must not fill the disk or the memory while it is unpacked."""
    max_members: int = 2_000
    max_total_bytes: int = 1 << 30
    max_ratio: float = 200.0          # uncompressed / compressed, for members over 1 MB
    max_pixels: int = 100_000_000     # per image in the bundle


def _refuse(message: str, hint: str = "Ask the sender for a bundle made with `flowbanana bundle`.") -> WorkflowInvalid:
    return WorkflowInvalid([Problem("bundle", message, hint=hint)])


def export_bundle(workflow: Workflow, catalogue: Catalogue, dest: str | Path,
                  read_roots: tuple[Path, ...] = ()) -> Path:
    """Write `dest` (.zip): the workflow, its files (input images, masks, CSVs) and a manifest.

    Subgraph files are embedded in the bundled workflow (with the files their nodes read), so it runs alone.
    Only files a run may read go in: the workflow's folder and `read_roots` (links followed). A file
    outside them is refused as a run would refuse it: a workflow received from someone must not pack,
    say, ~/.ssh/id_rsa into the bundle its user sends back."""
    dest = Path(dest)
    read_roots = (workflow.base_dir, *read_roots)
    subgraphs = Subgraphs(catalogue, read_roots[1:])
    shared = subgraphs.embed(workflow)
    shared = shared.copy() if shared is workflow else shared
    files: dict[str, Path] = {}
    problems: list[Problem] = []
    _collect(shared, "", workflow.base_dir, subgraphs, read_roots, files, problems)
    if problems:
        raise WorkflowInvalid(problems)
    types = [n.type for n in subgraphs.expand(shared)[0].workflow.nodes.values()]
    shared.requires = {**catalogue.requires_for(types), **shared.requires}
    manifest = {"format": BUNDLE_FORMAT, "version": 1, "name": shared.name, "requires": shared.requires,
                "files": {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in sorted(files.items())}}
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    try:
        _write_zip(tmp, manifest, shared, files)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(dest)
    return dest


def _collect(workflow: Workflow, prefix: str, base_dir: Path, subgraphs: Subgraphs, read_roots: tuple[Path, ...],
             files: dict[str, Path], problems: list[Problem]) -> None:
    """Point the file params of `workflow` (and of its embedded subgraphs) inside the bundle, gathering the files."""
    for node_id, node in workflow.nodes.items():
        node_type = subgraphs.node_type(node, base_dir)
        path = prefix + node_id
        for param in node_type.params if node_type else ():
            value = node.params.get(param.name)
            if not param.is_path or not value or param.name in node.inputs:
                continue
            source = Path(value) if Path(value).is_absolute() else base_dir / value
            if not source.exists():
                problems.append(Problem("bundle", f"node {path!r}, param {param.name!r}: {value!r} does not exist.",
                                        node=path, port=param.name, hint="Fix the path before exporting."))
                continue
            inside = PurePosixPath(value) if not Path(value).is_absolute() and ".." not in Path(value).parts \
                else PurePosixPath("files", path, source.name)
            node.params[param.name] = str(inside)
            found = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
            outside = [p for p in found if not within(p, read_roots)]
            if outside:
                problems.append(Problem("bundle", f"node {path!r}, param {param.name!r}: {value!r} leads to "
                                        f"{outside[0].resolve()}, outside the folders this workflow may read.",
                                        node=path, port=param.name,
                                        hint="Move the file next to the workflow, or allow its folder with "
                                             "--allow-read DIR."))
                continue
            for file in found:
                files[str(inside / file.relative_to(source)) if source.is_dir() else str(inside)] = file
        if isinstance(node.workflow, Workflow):
            _collect(node.workflow, path + "/", base_dir, subgraphs, read_roots, files, problems)


def _write_zip(tmp: Path, manifest: dict, shared: Workflow, files: dict[str, Path]) -> None:
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        archive.writestr(WORKFLOW_NAME, shared.dumps())
        for name, path in sorted(files.items()):
            archive.write(path, name)


def open_bundle(path: str | Path, into: str | Path, limits: Limits = Limits()) -> Workflow:
    """Check and extract a bundle into the folder `into`; the workflow's source is set inside it."""
    path, into = Path(path), Path(into)
    if not zipfile.is_zipfile(path):
        raise _refuse(f"{path.name} is not a zip file.")
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise _refuse(f"{path.name} holds {len(members)} files; at most {limits.max_members} are allowed.")
        names = {m.filename for m in members}
        if WORKFLOW_NAME not in names or MANIFEST_NAME not in names:
            raise _refuse(f"{path.name} has no {WORKFLOW_NAME} and {MANIFEST_NAME}: it is not a flowbanana bundle.")
        for member in members:
            _check_member(member, limits)
        into.mkdir(parents=True, exist_ok=True)
        total = 0
        for member in members:
            if member.is_dir():
                continue
            target = into.joinpath(*PurePosixPath(member.filename).parts)
            if not target.resolve().is_relative_to(into.resolve()):
                raise _refuse(f"{member.filename!r} would be written outside the bundle's folder.")
            target.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(member) as source, target.open("wb") as out:
                while chunk := source.read(1 << 20):
                    total += len(chunk)
                    if total > limits.max_total_bytes:
                        raise _refuse(f"{path.name} unpacks to more than {limits.max_total_bytes >> 20} MB; "
                                      "refused as a possible zip bomb.")
                    out.write(chunk)
            if target.suffix.lower() in IMAGE_SUFFIXES:
                _check_image(target, member.filename, limits)
    manifest = json.loads((into / MANIFEST_NAME).read_text())
    if manifest.get("format") != BUNDLE_FORMAT:
        raise _refuse(f"{path.name}: {MANIFEST_NAME} is not a flowbanana bundle manifest.")
    workflow = load(into / WORKFLOW_NAME)
    workflow.requires = {**manifest.get("requires", {}), **workflow.requires}
    return workflow


def _check_member(member: zipfile.ZipInfo, limits: Limits) -> None:
    name = member.filename
    pure = PurePosixPath(name)
    if name.startswith(("/", "\\")) or ":" in pure.parts[0] or ".." in pure.parts or "\\" in name:
        raise _refuse(f"the bundle holds a file named {name!r}, which points outside the bundle; refused.")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise _refuse(f"the bundle holds a link {name!r}; links are refused.")
    if member.file_size > (1 << 20) and member.file_size > limits.max_ratio * max(member.compress_size, 1):
        raise _refuse(f"{name!r} expands {member.file_size // max(member.compress_size, 1)}-fold; "
                      "refused as a possible zip bomb.")


def _check_image(target: Path, name: str, limits: Limits) -> None:
    try:
        with Image.open(target) as image:
            pixels = image.width * image.height
    except Image.DecompressionBombError:
        pixels = limits.max_pixels + 1
    except OSError:
        return  # not an image after all: image.load reports that when (if) it is used
    if pixels > limits.max_pixels:
        target.unlink()
        raise _refuse(f"{name!r} claims {pixels:,} pixels (at most {limits.max_pixels:,}); refused as a possible "
                      "decompression bomb.")
