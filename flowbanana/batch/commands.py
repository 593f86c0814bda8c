"""The CLI's batch mode: `flowbanana run --batch [--detach]`, `flowbanana runs`, `flowbanana resume RUN`."""
from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

from ..cache import default_cache_dir
from ..cli import EXIT_FAILED, EXIT_INVALID, EXIT_OK, on_ctrl_c
from ..executor import default_out_dir
from ..providers.clients import CLIENTS
from ..validation import check
from .jobs import BatchError, state_of
from .runner import BatchRun, RunSpec, unavailable
from .store import DONE, BatchStore, unfinished


def spec_from_args(args, workflow, read_roots) -> RunSpec:
    """What `flowbanana run` was asked to do, with every folder absolute (a resume may start elsewhere)."""
    cache = None if args.no_cache else str((args.cache_dir or default_cache_dir()).resolve())
    return RunSpec(workflow=workflow.to_dict(), source=str(workflow.source) if workflow.source else None,
                   out_dir=str((args.out or default_out_dir(workflow)).resolve()), cache_dir=cache,
                   force=sorted(args.force), read_roots=[str(Path(p).resolve()) for p in read_roots],
                   direct=sorted(args.direct), nodes_dirs=[str(p.resolve()) for p in args.nodes_dir])


def run_batch(args, workflow, catalogue, setup, read_roots) -> int:
    """`flowbanana run --batch`: a new batch run, or the unfinished one for the same workflow and inputs."""
    reason = unavailable(setup.provider)
    if reason:
        print(f"error: {reason[0]}\n  → {reason[1]}", file=sys.stderr)
        return EXIT_INVALID
    check(workflow, catalogue)  # every problem now, before a run is written down
    spec = spec_from_args(args, workflow, read_roots)
    store = BatchStore()
    record = next((r for r in store.runs() if r["status"] != DONE and r["digest"] == spec.digest()), None)
    if record is None:
        record = store.new_run(asdict(spec), spec.digest())
    else:
        record = store.update(record["id"], lambda r: r["spec"].update(direct=spec.direct))
        _say(f"carrying on with batch run {record['id']} (the same workflow, inputs and folders)", args.json)
    return drive(record, catalogue, setup, store, detach=args.detach, as_json=args.json)


def drive(record: dict, catalogue, setup, store: BatchStore, *, detach: bool, as_json: bool) -> int:
    """Run (or carry on with) one batch run in the foreground, Ctrl+C stopping it the way it stops a run."""
    from ..progress import Progress
    spec = RunSpec(**record["spec"])
    options = setup.apply(spec.options())
    batch = BatchRun(record, catalogue, setup.provider, options, store, detach=detach,
                     say=lambda line: _say(line, as_json), wait_hint="Ctrl+C stops waiting; the jobs go on at "
                     f"Google and `flowbanana resume {record['id']}` picks them up.")
    progress = None if as_json else Progress(sys.stdout)

    async def run():
        on_ctrl_c(batch.cancel, "results already made are kept, and submitted batch jobs go on at Google "
                                f"(`flowbanana resume {record['id']}` picks them up)")
        ticker = asyncio.create_task(progress.tick()) if progress else None
        try:
            return await batch.run(on_event=progress)
        finally:
            if ticker:
                ticker.cancel()
            await setup.aclose()
            await CLIENTS.aclose()  # this loop ends with the run

    try:
        result = asyncio.run(run())
    except BatchError as exc:
        print(f"error: {exc.message}" + (f"\n  → {exc.hint}" if exc.hint else ""), file=sys.stderr)
        return EXIT_FAILED
    if result is None:
        jobs = [j for j in store.run(record["id"])["jobs"] if unfinished(j)]
        if as_json:
            print(json.dumps({"status": "stopped" if batch.stopped else "submitted", "run": record["id"],
                              "jobs": [_job_json(j) for j in jobs]}, indent=2))
        else:
            print(f"{'Stopped waiting' if batch.stopped else 'Submitted'}: batch run {record['id']} has "
                  f"{len(jobs)} job{'s' if len(jobs) != 1 else ''} at Google. `flowbanana runs` shows them, "
                  f"`flowbanana resume {record['id']}` finishes the run once they are done.")
        return EXIT_FAILED if batch.stopped else EXIT_OK
    usage = batch.book.usage(result)
    if as_json:
        print(json.dumps({"workflow": batch.workflow.name, "run": record["id"], **result.to_json(), "usage": usage},
                         indent=2))
    else:
        progress.summary(result, usage=usage)
    return EXIT_OK if result.ok else EXIT_FAILED


def cmd_runs(args) -> int:
    """`flowbanana runs`: batch runs with jobs still out (all of them with --all), states asked of Gemini."""
    store = BatchStore()
    records = [r for r in store.runs() if args.all or r["status"] != DONE]
    refreshed = asyncio.run(_refresh(records)) if records and not args.no_check else {}
    if args.json:
        print(json.dumps([_run_json(r, refreshed) for r in records], indent=2))
        return EXIT_OK
    if not records:
        print("No batch runs are waiting." if not args.all else "No batch runs yet.")
        return EXIT_OK
    for record in records:
        spec = record["spec"]
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record["created"]))
        print(f"{record['id']}  {spec['workflow'].get('name', '?')!r}  started {when}  "
              f"{'done' if record['status'] == DONE else 'waiting'}")
        for job in record["jobs"]:
            state = refreshed.get(job.get("name"), job["state"])
            print(f"    {job.get('name') or job['display_name']:<24} {state:<20} {len(job['keys'])} calls to "
                  f"{job['model']}")
        if record["status"] != DONE:
            print(f"    → flowbanana resume {record['id']}")
    return EXIT_OK


def cmd_resume(args) -> int:
    """`flowbanana resume RUN`: collect the run's finished jobs, submit what comes next, finish the graph."""
    from ..catalogue import load_catalogue
    from ..errors import Problem, WorkflowInvalid
    from ..providers import ConfigError, ProviderUnavailable, prepare_run
    store = BatchStore()
    record = store.run(args.run)
    if record is None:
        known = ", ".join(r["id"] for r in store.runs()[:5]) or "none yet"
        raise WorkflowInvalid([Problem("usage", f"no batch run {args.run!r} in {store.root}.",
                                       hint=f"`flowbanana runs --all` lists them (latest: {known}).")])
    if record["status"] == DONE:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.get("finished", record["created"])))
        print(f"batch run {args.run} finished on {when} ({record.get('result', 'done')}): nothing to resume. Run "
              "its workflow again to make it anew (what is cached is not paid for twice).")
        return EXIT_OK
    try:
        setup = prepare_run("gemini", config=args.config, rpm=args.rpm, concurrency=args.concurrency)
    except (ConfigError, ProviderUnavailable) as exc:
        raise WorkflowInvalid([Problem("usage", str(exc))]) from None
    catalogue = load_catalogue([*args.nodes_dir, *map(Path, record["spec"].get("nodes_dirs", []))])
    return drive(record, catalogue, setup, store, detach=args.detach, as_json=args.json)


async def _refresh(records: list[dict]) -> dict[str, str]:
    """The current state of every job still out, when a key is at hand (else what was last seen)."""
    from ..providers import GeminiProvider
    from ..providers.keys import has_credentials
    if not has_credentials():
        return {}
    from .jobs import BatchApi
    gemini = GeminiProvider()
    api = BatchApi(gemini)
    states = {}
    try:
        for record in records:
            for job in record["jobs"]:
                if job.get("name") and unfinished(job):
                    try:
                        states[job["name"]] = state_of(await api.get(job["name"]))
                    except BatchError as exc:
                        states[job["name"]] = f"unknown ({exc.message})"
    finally:
        await CLIENTS.aclose()
    return states


def _say(line: str, as_json: bool) -> None:
    print(line, file=sys.stderr if as_json else sys.stdout, flush=True)


def _job_json(job: dict) -> dict:
    return {k: job.get(k) for k in ("name", "display_name", "model", "state", "source")} | {"calls": len(job["keys"])}


def _run_json(record: dict, refreshed: dict[str, str]) -> dict:
    jobs = [{**_job_json(j), "state": refreshed.get(j.get("name"), j["state"])} for j in record["jobs"]]
    return {"id": record["id"], "workflow": record["spec"]["workflow"].get("name"), "created": record["created"],
            "status": record["status"], "jobs": jobs}
