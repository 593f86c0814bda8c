"""The Python API: the same path as the CLI and the editor, for scripts and notebooks."""
from __future__ import annotations

import asyncio
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from .cache import Cache, default_cache_dir
from .catalogue import Catalogue, load_catalogue
from .errors import Problem, WorkflowInvalid
from .events import Event
from .executor import Execution, RunOptions
from .overrides import apply_overrides
from .providers import ProviderUnavailable, prepare_run
from .providers.clients import CLIENTS
from .results import NoSuchOutput, RunResult
from .sources import open_workflow
from .validation import validate as _validate
from .words import PYTHON
from .workflow import Workflow, loads


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The installed node packs (plus FLOWBANANA_NODES_PATH), loaded once per process."""
    return load_catalogue()


def load(path: str | Path) -> Workflow:
    """A workflow from what `flowbanana run` takes: a .json file, an image flowbanana saved, or a .zip bundle
    (unpacked under the cache, the only folder its workflow may then read)."""
    return open_workflow(path)


def validate(workflow: Workflow, nodes: Catalogue | None = None) -> list[Problem]:
    """Every problem with `workflow` against the installed node packs (or `nodes`); [] when it can run."""
    return _validate(workflow, nodes or catalogue(), words=PYTHON)


async def run_async(workflow: Workflow | str | Path, *, inputs: dict[str, Any] | None = None,
                    out_dir: str | Path | None = None, cache_dir: str | Path | None = None, use_cache: bool = True,
                    nodes: Catalogue | None = None, on_event: Callable[[Event], None] | None = None,
                    provider: Any = "auto", **options: Any) -> RunResult:
    """Run a workflow (a model, or a path as `load` takes). Raises WorkflowInvalid before anything runs.

    `provider` is "auto" (Gemini when a key is set, else the offline preview), "gemini", "offline", or a
    provider object; "gemini" without a key raises ProviderUnavailable before anything runs.
    """
    nodes = nodes or catalogue()
    if not isinstance(workflow, Workflow):
        workflow = load(workflow)
    if inputs:
        workflow = apply_overrides(workflow, nodes, inputs, words=PYTHON)
    cache = Cache(Path(cache_dir) if cache_dir else default_cache_dir()) if use_cache else None
    setup = None
    if isinstance(provider, str):
        limits = {k: options.pop(k) for k in ("rpm", "concurrency") if isinstance(options.get(k), int)}
        setup = prepare_run(provider, words=PYTHON, **limits)
    run_options = RunOptions(out_dir=Path(out_dir) if out_dir else None, cache=cache, words=PYTHON, **options)
    if setup:
        run_options = setup.apply(run_options)
    else:
        run_options.resources = {**run_options.resources, "provider": provider}
    try:
        return await Execution(workflow, nodes, run_options, on_event).run()
    finally:
        if setup:
            await setup.aclose()


def run(workflow: Workflow | str | Path, **kwargs: Any) -> RunResult:
    """`run_async` for code that is not async itself."""
    async def run_and_close() -> RunResult:
        try:
            return await run_async(workflow, **kwargs)
        finally:
            await CLIENTS.aclose()  # the loop ends with the run: its connections go now, not at exit
    return asyncio.run(run_and_close())


__all__ = ["load", "loads", "run", "run_async", "validate", "catalogue", "Workflow", "RunOptions", "RunResult",
           "WorkflowInvalid", "Execution", "ProviderUnavailable", "NoSuchOutput"]
