"""Open a workflow from whatever a user has: a .json file, an image that embeds one, or a .zip bundle."""
from __future__ import annotations

import hashlib
from pathlib import Path

from . import provenance
from .bundle import open_bundle
from .cache import default_cache_dir
from .errors import Problem, WorkflowInvalid
from .workflow import Workflow, from_dict, load

METADATA_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp"}


def open_workflow(path: str | Path, bundles_dir: Path | None = None) -> Workflow:
    """The workflow in `path`. A bundle unpacks into a folder of its own (by content), which is then the
    only folder it may read; an image's workflow reads beside the image."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".zip":
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        except OSError as exc:
            raise WorkflowInvalid([Problem("file", f"no bundle at {path}." if isinstance(exc, FileNotFoundError)
                                           else f"cannot read {path}: {exc.strerror or exc}.")]) from None
        return open_bundle(path, (bundles_dir or default_cache_dir() / "bundles") / digest)
    if suffix in METADATA_SUFFIXES:
        return workflow_from_image(path)
    return load(path)


def workflow_from_image(path: Path) -> Workflow:
    """The workflow image.save embedded in `path`, reading beside the image (its original folder is unknown)."""
    try:
        embedded, _ = provenance.read(path)
    except provenance.BadMetadata as exc:
        raise WorkflowInvalid([Problem("file", f"cannot read {path.name}: {exc}.",
                                       hint="Open the image flowbanana saved, or the workflow .json itself.")]) \
            from None
    if not embedded:
        raise WorkflowInvalid([Problem("no_workflow", f"{path.name} holds no flowbanana workflow.",
                                       hint="Only images written by image.save carry their workflow.")])
    workflow = from_dict(embedded)
    workflow.source = path.resolve()
    return workflow
