"""Shareable bundles: a workflow and every file it references in one .zip that runs on another machine.

Opening a bundle trusts nothing in it: member names must be plain relative paths, links are refused,
sizes are counted while extracting (not read from headers), compression ratios and image pixel counts
are bounded, and everything lands inside one folder that becomes the only place the workflow may read.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import stat
import uuid
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image

from . import jsontext
from .catalogue import Catalogue
from .errors import Problem, WorkflowInvalid
from .node_api import within
from .subgraph import Subgraphs
from .workflow import Workflow, loads

BUNDLE_FORMAT = "flowbanana/bundle"
WORKFLOW_NAME, MANIFEST_NAME = "workflow.json", "manifest.json"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
COMPRESSIONS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
MAX_JSON_BYTES = 16 << 20  # the manifest and the workflow, each
DAMAGED = "Ask the sender for the bundle again: it was changed or cut short on the way."


@dataclass(frozen=True)
class Limits:
    """How much a bundle may hold: a hostile one must not fill the disk or the memory while it is unpacked."""
    max_members: int = 2_000
    max_total_bytes: int = 1 << 30
    max_ratio: float = 200.0          # uncompressed / compressed, for members over 1 MB
    max_pixels: int = 100_000_000     # per image in the bundle
    max_name: int = 1024              # characters in a member's name
    max_depth: int = 32               # folders in a member's name


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
    """Check and extract a bundle into the folder `into`; the workflow's source is set inside it.

    All the archive's directory tells (names, kinds, declared sizes) is checked before a byte is written,
    and the manifest and workflow are read from it; the rest (real sizes, CRCs, image pixels) while
    unpacking into a scratch folder, which becomes `into` only when everything passed and is removed on
    any failure.
    """
    path, into = Path(path), Path(into)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise _refuse(f"{path.name} is not a zip file, or it is damaged.") from None
    with archive:
        members = archive.infolist()
        _check_members(path.name, members, limits)
        manifest = _read_manifest(path.name, archive)
        workflow_text = _read_text(path.name, archive, WORKFLOW_NAME)
        scratch = into.with_name(f".{into.name}.{uuid.uuid4().hex[:8]}.partial")
        try:
            _extract(path.name, archive, members, scratch, limits)
            if into.exists():
                shutil.rmtree(into)
            scratch.rename(into)
        except OSError as exc:
            raise _refuse(f"cannot unpack {path.name} into {into.parent}: {exc.strerror or exc}.",
                          "Check that the folder is writable and the disk has room.") from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    try:
        workflow = loads(workflow_text, into / WORKFLOW_NAME)
    except WorkflowInvalid:
        shutil.rmtree(into, ignore_errors=True)
        raise
    workflow.requires = {**manifest.get("requires", {}), **workflow.requires}
    return workflow


def _check_members(name: str, members: list[zipfile.ZipInfo], limits: Limits) -> None:
    """Everything the archive's directory tells: counts, names, kinds, declared sizes and ratios."""
    if len(members) > limits.max_members:
        raise _refuse(f"{name} holds {len(members)} files; at most {limits.max_members} are allowed.")
    names = [m.filename for m in members]
    if WORKFLOW_NAME not in names or MANIFEST_NAME not in names:
        raise _refuse(f"{name} has no {WORKFLOW_NAME} and {MANIFEST_NAME}: it is not a flowbanana bundle.")
    for member in members:
        _check_member(member, limits)
    files = [PurePosixPath(m.filename) for m in members if not m.is_dir()]
    seen: set[PurePosixPath] = set()
    for file in files:
        if file in seen:
            raise _refuse(f"{name} holds {str(file)!r} more than once.")
        seen.add(file)
    folders = {parent for f in files for parent in f.parents} | \
        {PurePosixPath(m.filename) for m in members if m.is_dir()}
    clash = sorted(seen & folders)
    if clash:
        raise _refuse(f"{name} holds {str(clash[0])!r} both as a file and as a folder.")
    declared = sum(m.file_size for m in members)
    if declared > limits.max_total_bytes:
        raise _refuse(f"{name} would unpack to {_size(declared)}; at most {_size(limits.max_total_bytes)} are "
                      "allowed. Refused as a possible zip bomb.")
    packed = sum(m.compress_size for m in members)
    if declared > (1 << 20) and declared > limits.max_ratio * max(packed, 1):
        raise _refuse(f"{name} expands {declared // max(packed, 1):,}-fold; refused as a possible zip bomb.")


def _size(count: int) -> str:
    return f"{count / 2**20:,.0f} MB" if count >= 2**20 else f"{count / 1024:,.0f} KB"


def _check_member(member: zipfile.ZipInfo, limits: Limits) -> None:
    name = member.filename
    pure = PurePosixPath(name)
    if not pure.parts or name.startswith(("/", "\\")) or ":" in pure.parts[0] or ".." in pure.parts \
            or "\\" in name or "\0" in name:
        raise _refuse(f"the bundle holds a file named {name!r}, which points outside the bundle; refused.")
    if len(pure.parts) > limits.max_depth:
        raise _refuse(f"the bundle holds {name[:40]!r}..., {len(pure.parts):,} folders deep; at most "
                      f"{limits.max_depth} levels are allowed.")
    if len(name) > limits.max_name or any(len(part.encode()) > 255 for part in pure.parts):
        raise _refuse(f"the bundle holds a name of {len(name):,} characters ({name[:40]!r}...); names have at "
                      f"most {limits.max_name} characters, and 255 bytes per folder or file.")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise _refuse(f"the bundle holds a link {name!r}; links are refused.")
    if member.flag_bits & 0x1:
        raise _refuse(f"{name!r} in the bundle is encrypted; flowbanana bundles never are.",
                      "Ask the sender for a bundle made with `flowbanana bundle`, without a password.")
    if member.compress_type not in COMPRESSIONS:
        raise _refuse(f"{name!r} in the bundle is compressed with method {member.compress_type}, which flowbanana "
                      "does not read (it reads stored, deflate, bzip2 and lzma).")
    if member.file_size > (1 << 20) and member.file_size > limits.max_ratio * max(member.compress_size, 1):
        raise _refuse(f"{name!r} expands {member.file_size // max(member.compress_size, 1)}-fold; "
                      "refused as a possible zip bomb.")


def _read_text(name: str, archive: zipfile.ZipFile, member: str) -> str:
    """A small text member (the manifest, the workflow), read whole but bounded."""
    try:
        with archive.open(member) as source:
            data = source.read(MAX_JSON_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise _refuse(f"{name}: {member} is damaged ({exc}).", DAMAGED) from None
    if len(data) > MAX_JSON_BYTES:
        raise _refuse(f"{name}: {member} is over {MAX_JSON_BYTES >> 20} MB.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(f"{name}: {member} is not UTF-8 text.") from None


def _read_manifest(name: str, archive: zipfile.ZipFile) -> dict:
    try:
        manifest = jsontext.loads(_read_text(name, archive, MANIFEST_NAME))
    except ValueError as exc:
        raise _refuse(f"{name}: {MANIFEST_NAME} is not readable JSON ({exc}).") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise _refuse(f"{name}: {MANIFEST_NAME} is not a flowbanana bundle manifest.")
    requires = manifest.get("requires", {})
    if not isinstance(requires, dict) or not all(isinstance(v, str) for v in requires.values()):
        raise _refuse(f"{name}: {MANIFEST_NAME}'s \"requires\" must map pack names to version ranges, like "
                      "{\"flowbanana\": \">=0.1\"}.")
    return manifest


def _extract(name: str, archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], into: Path,
             limits: Limits) -> None:
    """Unpack every file into the new folder `into`, counting real sizes (headers can lie), checking CRCs
    (zipfile does, at each member's end) and the pixels of pictures."""
    into.mkdir(parents=True)
    total = 0
    for member in members:
        if member.is_dir():
            continue
        target = into.joinpath(*PurePosixPath(member.filename).parts)
        if not target.resolve().is_relative_to(into.resolve()):
            raise _refuse(f"{member.filename!r} would be written outside the bundle's folder.")
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with archive.open(member) as source, target.open("xb") as out:
                while chunk := source.read(1 << 20):
                    total += len(chunk)
                    if total > limits.max_total_bytes:
                        raise _refuse(f"{name} unpacks to more than {_size(limits.max_total_bytes)}; "
                                      "refused as a possible zip bomb.")
                    out.write(chunk)
        except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
            raise _refuse(f"{name}: {member.filename!r} is damaged ({exc}).", DAMAGED) from None
        if target.suffix.lower() in IMAGE_SUFFIXES:
            _check_image(target, member.filename, limits)


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
