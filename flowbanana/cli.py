"""The `flowbanana` command. Imports stay inside the commands so that `--help` is instant."""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2
EXIT_INTERRUPTED = 130  # the shell's code for a Ctrl+C
USAGE_CODES = {"usage", "set", "force", "out_dir", "cache_dir", "missing_file"}  # problems with the command line, not with the workflow file

MAIN_HELP = """\
Node-based workflows for Gemini's image models (Nano Banana), in the browser or headless.

examples:
  flowbanana run workflows/social-sizes.json
  flowbanana run product.json --set subject="red sneakers" --out shots/
  flowbanana validate workflows/*.json
  flowbanana nodes                 the node types you can use, by category
  flowbanana nodes image.crop      one node type in detail

Run `flowbanana COMMAND --help` for the options of each command.
"""

RUN_HELP = """\
examples:
  flowbanana run wf.json                          run with the cache, outputs in ./outputs/<name>/
  flowbanana run wf.json --help                   this workflow's own inputs: types, defaults, descriptions
  flowbanana run wf.json --set subject="a teapot" set a workflow input
  flowbanana run wf.json --set gen.seed=7         set any node's param as NODE.PARAM
  flowbanana run wf.json --set photo=me.jpg       a file in the current folder (only it becomes readable)
  flowbanana run wf.json --out renders/ --json    machine-readable result on stdout
  flowbanana run wf.json --force gen              run node 'gen' again even if it is cached
  flowbanana run wf.json --dry-run                the model calls it would make and their cost; calls nothing
  flowbanana run wf.json --provider offline       placeholder images: no API key, no quota
  flowbanana run wf.json --batch                  model calls through Gemini's Batch API: half price, within 24h
  flowbanana run wf.json --batch --detach         submit the batch jobs and exit; `flowbanana resume RUN` finishes
  flowbanana run outputs/shoe/shoe_0.png          run the workflow embedded in an image it made
  flowbanana run shared.zip                       run a bundle (it reads only its own files)

exit codes: 0 every node done, 1 some node failed (the rest still ran), 2 invalid workflow or usage.
Ctrl+C stops the run and keeps what is done (exit 1); a second Ctrl+C quits at once (exit 130).
"""


def main(argv: list[str] | None = None) -> int:
    from .terminal import guarded_output
    try:
        with guarded_output():  # whatever a command prints, control characters are shown, not obeyed
            return _main(argv)
    except BrokenPipeError:
        # whoever read the output stopped (`flowbanana nodes --json | head`): stop too, quietly; stdout goes
        # to /dev/null so that Python's own flush at exit does not complain about the closed pipe again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_INVALID
    import logging
    logging.basicConfig(level=logging.DEBUG if getattr(args, "debug", False) else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    from .errors import WorkflowInvalid
    try:
        return args.handler(args)
    except WorkflowInvalid as exc:
        if getattr(args, "json", False):
            print(json.dumps({"status": "invalid", "problems": [p.to_json() for p in exc.problems]}, indent=2))
        else:
            source = getattr(args, "file", None)
            usage_only = all(p.code in USAGE_CODES for p in exc.problems)
            print_problems(f"cannot run {source}" if source and usage_only else
                           f"{source} is not a valid workflow" if source else "invalid input", exc.problems)
        return EXIT_INVALID
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowbanana", description=MAIN_HELP,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"flowbanana {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a workflow file headless", epilog=RUN_HELP, add_help=False,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("file", nargs="?",
                     help="a workflow .json, an image made by flowbanana (.png/.jpg/.webp), or a .zip bundle")
    run.add_argument("-h", "--help", action="store_true",
                     help="show this help; after FILE, also that workflow's inputs and outputs")
    run.add_argument("--set", dest="assignments", action="append", default=[], metavar="NAME=VALUE",
                     help="set a workflow input, or NODE.PARAM (repeatable)")
    run.add_argument("--out", type=Path, help="output folder (default ./outputs/<workflow name>/)")
    run.add_argument("--concurrency", type=positive_int, metavar="N",
                     help="model requests in flight at once (default 4, or the config file's)")
    run.add_argument("--provider", choices=("auto", "gemini", "offline"), default="auto",
                     help="who makes images: gemini (needs GEMINI_API_KEY), offline previews, or auto (the "
                          "default: gemini when a key is set, else offline)")
    run.add_argument("--rpm", type=int, metavar="N",
                     help="model requests per minute, per model (default 10, or the config file's; 0: no limit)")
    run.add_argument("--config", type=Path, metavar="FILE",
                     help="provider settings (default ./flowbanana.toml or ~/.config/flowbanana/config.toml)")
    run.add_argument("--dry-run", action="store_true",
                     help="validate, list the model calls a run would make (cache hits excluded) and their "
                          "estimated cost; call nothing, write nothing")
    run.add_argument("--no-cache", action="store_true", help="run every node; read and write no cache")
    run.add_argument("--cache-dir", type=Path, help="cache folder (default ~/.cache/flowbanana)")
    run.add_argument("--force", action="append", default=[], metavar="NODE",
                     help="run this node again even when its result is cached (repeatable)")
    run.add_argument("--allow-read", action="append", default=[], type=Path, metavar="DIR",
                     help="let the workflow read files in DIR too (default: only its own folder)")
    run.add_argument("--batch", action="store_true",
                     help="send the model calls as Gemini Batch API jobs (half price, done within 24 hours), wait "
                          "for them, then finish the run; running the same command again carries on")
    run.add_argument("--detach", action="store_true", help="with --batch: submit the jobs and exit")
    run.add_argument("--direct", action="append", default=[], metavar="NODE",
                     help="with --batch: this node calls Gemini directly, at the full price (repeatable)")
    add_common(run)
    run.set_defaults(handler=cmd_run, parser=run)

    runs = sub.add_parser("runs", help="list batch runs waiting for Gemini's Batch API",
                          epilog="examples:\n  flowbanana runs\n  flowbanana runs --all --json",
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    runs.add_argument("--all", action="store_true", help="finished batch runs too")
    runs.add_argument("--no-check", action="store_true", help="show the states last seen; ask Gemini nothing")
    add_common(runs)
    runs.set_defaults(handler=cmd_runs)

    resume = sub.add_parser("resume", help="collect a batch run's finished jobs and finish the run",
                            epilog="examples:\n  flowbanana resume 20261201-101500-a1b2c3\n"
                                   "  flowbanana resume 20261201-101500-a1b2c3 --detach   look once, do not wait",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    resume.add_argument("run", metavar="RUN", help="the batch run's id (`flowbanana runs` lists them)")
    resume.add_argument("--detach", action="store_true", help="collect what has finished, submit what comes next, "
                                                              "and exit instead of waiting")
    resume.add_argument("--config", type=Path, metavar="FILE", help="provider settings, as for `flowbanana run`")
    resume.add_argument("--concurrency", type=positive_int, metavar="N", help="as for `flowbanana run`")
    resume.add_argument("--rpm", type=int, metavar="N", help="as for `flowbanana run`")
    add_common(resume)
    resume.set_defaults(handler=cmd_resume)

    validate = sub.add_parser("validate", help="check workflow files and report every problem",
                              epilog="examples:\n  flowbanana validate wf.json\n  flowbanana validate workflows/*.json"
                                     " --json", formatter_class=argparse.RawDescriptionHelpFormatter)
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE", help=".json, image or .zip bundle")
    add_common(validate)
    validate.set_defaults(handler=cmd_validate)

    inspect = sub.add_parser("inspect", help="show the workflow and run record inside an image flowbanana made",
                             epilog="examples:\n  flowbanana inspect outputs/shoe/shoe_0.png\n"
                                    "  flowbanana inspect shoe_0.png --json | jq .run",
                             formatter_class=argparse.RawDescriptionHelpFormatter)
    inspect.add_argument("file", type=Path, metavar="IMAGE")
    add_common(inspect)
    inspect.set_defaults(handler=cmd_inspect)

    bundle = sub.add_parser("bundle", help="pack a workflow and the files it uses into one shareable .zip",
                            epilog="examples:\n  flowbanana bundle product.json            writes product.zip\n"
                                   "  flowbanana bundle product.json -o share/product-v2.zip",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    bundle.add_argument("file", type=Path, metavar="FILE")
    bundle.add_argument("-o", "--output", type=Path, help="the .zip to write (default: FILE with .zip)")
    bundle.add_argument("--allow-read", action="append", default=[], type=Path, metavar="DIR",
                        help="let the bundle take files from DIR too (default: only the workflow's own folder)")
    add_common(bundle)
    bundle.set_defaults(handler=cmd_bundle)

    nodes = sub.add_parser("nodes", help="list the node types you can use",
                           epilog="examples:\n  flowbanana nodes\n  flowbanana nodes gemini.generate\n"
                                  "  flowbanana nodes --json > catalogue.json",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    nodes.add_argument("type", nargs="?", help="show one node type (or saved workflow, by file name) in detail")
    nodes.add_argument("--workflows", type=Path, default=None, metavar="DIR",
                       help="saved workflows to list as nodes (default: the examples folder, workflows/)")
    add_common(nodes)
    nodes.set_defaults(handler=cmd_nodes)

    models = sub.add_parser("models", help="list the Gemini models flowbanana knows (and, with a key, which it can use)",
                            epilog="examples:\n  flowbanana models\n  flowbanana models --json",
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    models.add_argument("--json", action="store_true", help="machine-readable output")
    models.set_defaults(handler=cmd_models)

    editor = sub.add_parser("ui", help="open the node editor in the browser", epilog=UI_HELP,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    editor.add_argument("file", nargs="?", type=Path,
                        help="workflow to open: .json, an image saved by flowbanana, or a .zip bundle (default: an example)")
    editor.add_argument("--app", action="store_true",
                        help="serve FILE as an app: a form made from its inputs, Run, the results (no graph)")
    editor.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    editor.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    editor.add_argument("--workflows", type=Path, default=None, metavar="DIR",
                        help="templates and saves (default: the examples folder, workflows/)")
    editor.add_argument("--out", type=Path, default=Path("outputs"), metavar="DIR",
                        help="where runs write their files (default ./outputs)")
    editor.add_argument("--cache-dir", type=Path, help="cache folder (default ~/.cache/flowbanana)")
    editor.add_argument("--nodes-dir", action="append", default=[], type=Path, metavar="DIR",
                        help="also load node packs from DIR (also: FLOWBANANA_NODES_PATH)")
    editor.add_argument("--debug", action="store_true", help="log details, including tracebacks")
    editor.set_defaults(handler=cmd_ui)

    serve = sub.add_parser("serve", help="serve the HTTP API (no editor)", epilog=SERVE_HELP,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to bind (default 127.0.0.1; any other address requires a token)")
    serve.add_argument("--port", type=int, default=8188, help="port (default 8188)")
    serve.add_argument("--workflows", type=Path, default=Path("workflows"), metavar="DIR",
                       help="saved workflows folder, readable by runs (default ./workflows)")
    serve.add_argument("--runs", type=Path, default=Path("runs"), metavar="DIR",
                       help="run history and outputs, one folder per run (default ./runs)")
    serve.add_argument("--token", help="token clients must send (default: generated and printed when needed)")
    serve.add_argument("--allow-read", action="append", default=[], type=Path, metavar="DIR",
                       help="an input folder runs may read besides the workflows folder (repeatable)")
    serve.add_argument("--max-runs", type=positive_int, default=2, metavar="N", help="runs at once (default 2)")
    serve.add_argument("--run-memory", type=positive_int, default=2048, metavar="MB",
                       help="image memory one run may hold; a run needing more fails with a clear error "
                            "(default 2048)")
    serve.add_argument("--allow-origin", action="append", default=[], metavar="URL",
                       help="let pages from this origin call the API, e.g. https://studio.example.com (repeatable)")
    serve.add_argument("--no-cache", action="store_true", help="keep no result cache")
    serve.add_argument("--cache-dir", type=Path, help="cache folder (default ~/.cache/flowbanana)")
    serve.add_argument("--nodes-dir", action="append", default=[], type=Path, metavar="DIR",
                       help="also load node packs from DIR (also: FLOWBANANA_NODES_PATH)")
    serve.add_argument("--debug", action="store_true", help="log details, including tracebacks")
    serve.set_defaults(handler=cmd_serve)
    return parser


def add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for programs instead of text")
    parser.add_argument("--nodes-dir", action="append", default=[], type=Path, metavar="DIR",
                        help="also load node packs from DIR (also: FLOWBANANA_NODES_PATH)")
    parser.add_argument("--debug", action="store_true", help="log details, including tracebacks")


def load_nodes(args):
    from .catalogue import load_catalogue
    catalogue = load_catalogue(args.nodes_dir)
    for warning in catalogue.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return catalogue


def print_problems(title: str, problems) -> None:
    print(f"{title}: {len(problems)} problem{'s' if len(problems) != 1 else ''}", file=sys.stderr)
    for problem in problems:
        print(f"  ✗ {problem.message}", file=sys.stderr)
        if problem.hint:
            print(f"    → {problem.hint}", file=sys.stderr)


def print_warnings(warnings) -> None:
    """Warnings under a file's verdict: they do not make it invalid."""
    for warning in warnings:
        print(f"  ⚠ {warning.message}", file=sys.stderr)
        if warning.hint:
            print(f"    → {warning.hint}", file=sys.stderr)


def cmd_validate(args) -> int:
    from .errors import WorkflowInvalid
    from .sources import open_workflow
    from .validation import validate
    catalogue = load_nodes(args)
    report, worst = {}, EXIT_OK
    for path in args.files:
        try:
            workflow = open_workflow(path)
            problems = validate(workflow, catalogue, warnings=True)
        except WorkflowInvalid as exc:
            workflow, problems = None, exc.problems
        report[str(path)] = [p.to_json() for p in problems]
        errors = [p for p in problems if p.severity == "error"]
        if errors:
            worst = EXIT_INVALID
            if not args.json:
                print_problems(f"{path} is not a valid workflow", errors)
        elif not args.json:
            print(f"✓ {path}: {workflow.name!r}, {len(workflow.nodes)} nodes")
            for name, spec in workflow.inputs.items():
                current = f" = {workflow.nodes[spec.node].params.get(spec.param, '')!r}" if spec.param else " (a link)"
                print(f"    input {name} ({spec.node}.{spec.port}){current}"
                      + (f"  {spec.description}" if spec.description else ""))
        if not args.json:
            print_warnings([p for p in problems if p.severity != "error"])
    if args.json:
        print(json.dumps(report, indent=2))
    return worst


def cmd_inspect(args) -> int:
    from . import provenance
    from .terminal import printable
    try:
        workflow, record = provenance.read(args.file)
    except provenance.BadMetadata as exc:
        print(f"cannot read {printable(args.file)}: {exc}.", file=sys.stderr)
        return EXIT_INVALID
    if workflow is None and record is None:
        print(f"{printable(args.file)} holds no flowbanana record (only images written by image.save do).",
              file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        print(json.dumps({"workflow": workflow, "run": record}, indent=2))
        return EXIT_OK
    record = record or {}
    print(printable(f"{args.file}: made by flowbanana {record.get('flowbanana', '?')} on "
                    f"{record.get('created', '?')}, node {record.get('node', '?')!r}"))
    providers = record.get("providers") or []
    print(printable(f"  provider: {', '.join(providers) if providers else 'none (no model was called)'}"))
    for step in record.get("steps", []):
        details = ", ".join(f"{k} {v}" for k, v in step.items() if k not in ("node", "type"))
        print(printable(f"  step {step['node']} ({step['type']}): {details}"))
    if workflow:
        nodes = workflow.get("nodes")
        print(printable(f"  workflow {workflow.get('name', '?')!r} with {len(nodes) if isinstance(nodes, dict) else 0}"
                        f" nodes: `flowbanana run {args.file}` runs it again" + rerun_needs(args)))
    elif record.get("workflow_omitted"):
        print(printable(f"  workflow not embedded: {record['workflow_omitted']}"))
    return EXIT_OK


def rerun_needs(args) -> str:
    """What `flowbanana run IMAGE` needs besides the image: the files its workflow read, when not beside it."""
    from .errors import WorkflowInvalid
    from .sources import open_workflow
    try:
        workflow = open_workflow(args.file)
        missing = missing_beside_image(args.file, workflow, load_nodes(args), ())
    except WorkflowInvalid as exc:
        return f", once this is fixed: {exc.problems[0]}"
    return f", given the files it read, which are not beside it:\n    {missing[-1].hint}" if missing else ""


def cmd_bundle(args) -> int:
    from .bundle import export_bundle
    from .sources import open_workflow
    from .validation import check
    catalogue = load_nodes(args)
    workflow = open_workflow(args.file)
    check(workflow, catalogue)
    dest = args.output or args.file.with_suffix(".zip")
    if dest.resolve() == args.file.resolve():
        print(f"error: {dest} is the file being bundled; writing it would destroy it. "
              "Name another output with -o, e.g. -o shared-v2.zip.", file=sys.stderr)
        return EXIT_INVALID
    try:
        dest = export_bundle(workflow, catalogue, dest, read_roots=tuple(args.allow_read))
    except OSError as exc:
        print(f"error: cannot write {dest}: {exc.strerror or exc}.", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {dest}: run it anywhere with `flowbanana run {dest.name}`")
    return EXIT_OK


def cmd_models(args) -> int:
    from .providers import listing
    from .providers.keys import find_key, uses_vertex
    served, note = None, "No API key is set: set GEMINI_API_KEY to see which of these your key can use."
    if find_key() or uses_vertex():
        try:
            served, note = listing.served_ids(), ""
        except Exception as exc:  # the table is still worth printing
            note = f"Could not ask the API which models this key can use ({listing.describe_failure(exc)})."
    if args.json:
        print(json.dumps({**listing.report(served), **({"note": note} if note else {})}, indent=2))
    else:
        print(listing.text(served))
        if note:
            print(note, file=sys.stderr)
    return EXIT_OK


def cmd_nodes(args) -> int:
    from .catalogue_text import describe_type, listing, unknown_type
    from .subgraph import catalogue_json, saved_nodes
    catalogue = load_nodes(args)
    saved = saved_nodes(args.workflows or default_workflows_dir(), catalogue)
    node_type = (catalogue.get(args.type) or saved.get(args.type)) if args.type else None
    if args.type and node_type is None:
        print(unknown_type(catalogue, args.type), file=sys.stderr)
        return EXIT_INVALID
    if args.json:
        data = catalogue_json(catalogue, saved)
        print(json.dumps(next(n for n in data["nodes"] + data["workflows"] if args.type in (n["id"], n.get("workflow")))
                         if args.type else data, indent=2))
    else:
        print(describe_type(node_type) if node_type else listing(catalogue, saved))
    return EXIT_OK


UI_HELP = """\
examples:
  flowbanana ui                          the editor at http://127.0.0.1:8080 with an example loaded
  flowbanana ui product.json --port 9000 open a workflow file
  flowbanana ui shared.zip               open a bundle someone sent (checked, unpacked under the cache)
  flowbanana ui --workflows my-flows/    templates menu and saves in my-flows/
  flowbanana ui --app touch-up.json      the workflow as an app: a form from its inputs, Run, results
                                         (any saved workflow is an app at /app/NAME beside the editor too)
"""


def cmd_ui(args) -> int:
    import os

    from .errors import Problem, WorkflowInvalid

    if args.app and not args.file:
        raise WorkflowInvalid([Problem("app", "--app needs the workflow FILE to serve as an app.",
                                       hint="Write flowbanana ui --app my-workflow.json.")])
    if args.file and not args.file.is_file():
        raise WorkflowInvalid([Problem("file", f"no workflow file at {args.file}.",
                                       hint="Check the path, or run `flowbanana ui` to start from an example.")])
    if args.file:
        from .sources import open_workflow
        open_workflow(args.file)  # a file that cannot be read says so here, not by opening an example instead
    # the editor's autosave lives with the user, not in whatever folder the command ran from (NiceGUI reads
    # this when it is imported)
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    storage = Path(os.environ.setdefault("NICEGUI_STORAGE_PATH", str(state / "flowbanana" / "editor")))
    try:  # NiceGUI makes only the last folder, so on a fresh account (no ~/.local/state) autosave would fail
        storage.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkflowInvalid([Problem("autosave", f"cannot create the editor's autosave folder {storage}: "
                                       f"{exc.strerror or exc}.", hint="Set NICEGUI_STORAGE_PATH (or XDG_STATE_HOME) "
                                       "to a folder you can write.")]) from None
    taken = port_problem(args.host, args.port)
    if taken:
        print(taken, file=sys.stderr)
        return EXIT_INVALID
    from .ui.app import main as run_editor  # NiceGUI is imported only here
    workflows = args.workflows or default_workflows_dir()
    run_editor(args.file, args.host, args.port, workflows, args.out, load_nodes(args), args.cache_dir, args.app)
    return EXIT_OK


def default_workflows_dir() -> Path:
    """The repository's examples folder when running from a checkout, else ./workflows."""
    examples = Path(__file__).resolve().parent.parent / "workflows"
    return examples if examples.is_dir() else Path("workflows")


SERVE_HELP = """\
examples:
  flowbanana serve                                 http://127.0.0.1:8188/api, docs at /docs
  flowbanana serve --host 0.0.0.0 --token "$T"     reachable from the network; every request needs the token
  flowbanana serve --runs /srv/runs --allow-read /srv/photos
"""


def cmd_serve(args) -> int:
    import uvicorn

    from .server import ServerSettings, create_app

    taken = port_problem(args.host, args.port)
    if taken:
        print(taken, file=sys.stderr)
        return EXIT_INVALID

    settings = ServerSettings(host=args.host, port=args.port, workflows_dir=args.workflows, runs_dir=args.runs,
                              input_dirs=tuple(args.allow_read), nodes_dirs=tuple(args.nodes_dir),
                              token=args.token, max_runs=args.max_runs, allowed_origins=tuple(args.allow_origin),
                              max_run_image_bytes=args.run_memory << 20,
                              **({"cache_dir": None} if args.no_cache else
                                 {"cache_dir": args.cache_dir} if args.cache_dir else {}))
    app = create_app(settings)
    for warning in app.state.flowbanana.catalogue.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"flowbanana API on {settings.base_url}/api (docs at {settings.base_url}/docs)", flush=True)
    if settings.token and not args.token:  # a token the user chose is not echoed into logs
        print(f"token: {settings.token}  (send 'Authorization: Bearer TOKEN', or open "
              f"{settings.base_url}/docs?token={settings.token})", flush=True)
    elif settings.token:
        print("every request needs the token given with --token ('Authorization: Bearer TOKEN')", flush=True)
    if not settings.loopback:
        print("note: this is plain HTTP; across a network, put a TLS proxy in front (and --allow-origin its URL)",
              flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="debug" if args.debug else "warning",
                use_colors=False,
                timeout_graceful_shutdown=5)
    return EXIT_OK


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port (taken, or no such address), said before it starts."""
    import errno
    import socket
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will: TIME_WAIT is no owner
            probe.bind(address)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return (f"error: port {port} on {host} is taken (another program, or flowbanana already running there)."
                    f" Choose another with --port, e.g. --port {port + 1 if port < 65535 else 8080}.")
        return f"error: cannot listen on {host}:{port}: {exc.strerror or exc}. Check --host and --port."
    return None


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def run_usage_problems(args, workflow, catalogue) -> list:
    """What is wrong with `flowbanana run`'s options for this workflow, all at once, before anything runs.

    Writing into the output and cache folders is tried (a file or folder made and removed at once) so
    that a folder the run cannot use is found before any node is paid for; only for a valid workflow,
    and not for a dry run, which writes nothing.
    """
    from .cache import default_cache_dir
    from .errors import Problem
    from .executor import default_out_dir
    from .validation import validate
    nodes = ", ".join(workflow.nodes)
    problems = [Problem("force", f"{flag} {n}: the workflow has no node {n!r}.", hint=f"Its nodes: {nodes}.")
                for flag, names in (("--force", args.force), ("--direct", args.direct)) for n in names
                if n not in workflow.nodes]
    for flag, given in (("--detach", args.detach), ("--direct", args.direct)):
        if given and not args.batch:
            problems.append(Problem("usage", f"{flag} goes with --batch.", hint=f"Add --batch, or drop {flag}."))
    folders = [(f"--out {args.out}" if args.out else f"the output folder {default_out_dir(workflow)}",
                args.out or default_out_dir(workflow))]
    if not args.no_cache:
        folders.append((f"--cache-dir {args.cache_dir}" if args.cache_dir else
                        f"the cache folder {default_cache_dir()}", args.cache_dir or default_cache_dir()))
    for what, folder in folders:
        if folder.exists() and not folder.is_dir():
            problems.append(Problem("usage", f"{what} is a file.",
                                    hint="Name a folder; it is made if it does not exist."))
    if problems or args.dry_run or validate(workflow, catalogue):
        return problems
    for what, folder in folders:
        existing = folder
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        try:  # tried, leaving nothing behind: a file in the folder, or a folder where it would be made
            if existing == folder:
                with tempfile.TemporaryFile(dir=folder):
                    pass
            else:
                os.rmdir(tempfile.mkdtemp(dir=existing))
        except OSError as exc:
            problems.append(Problem("usage", f"{what} cannot be written to: {exc.strerror or exc}.",
                                    hint="Choose a folder you can write to (--out, --cache-dir, or --no-cache), or "
                                         "fix its permissions."))
    return problems


def print_run_help(args) -> int:
    """`flowbanana run [FILE] --help`: the options, then what FILE itself takes and gives (its interface)."""
    from .catalogue_text import describe_interface
    from .sources import open_workflow
    from .subgraph import Subgraphs
    if args.file is None:
        args.parser.print_help()
        return EXIT_OK
    catalogue = load_nodes(args)
    workflow = open_workflow(args.file)
    interface = Subgraphs(catalogue, tuple(args.allow_read)).interface(workflow)
    if args.json:
        print(json.dumps({"name": workflow.name, "description": workflow.description, **interface.to_json()},
                         indent=2))
        return EXIT_OK
    args.parser.print_help()
    print(f"\n{args.file}: {workflow.name}")
    if workflow.description:
        print(textwrap.fill(workflow.description, width=100, initial_indent="  ", subsequent_indent="  "))
    print(describe_interface(interface))
    return EXIT_OK


def missing_beside_image(file: Path, workflow, catalogue, read_roots: tuple[Path, ...]) -> list:
    """Run from an image: the files its workflow reads that are not beside it, and the --set that gives each."""
    from .errors import Problem
    from .sources import METADATA_SUFFIXES
    from .validation import validate
    if Path(file).suffix.lower() not in METADATA_SUFFIXES:
        return []
    missing = [p for p in validate(workflow, catalogue, read_roots) if p.code == "missing_file"]
    if not missing:
        return []
    sets = " ".join(f"--set {workflow.input_for(p.node, p.port) or f'{p.node}.{p.port}'}=FILE" for p in missing)
    return [*missing, Problem("usage", f"{Path(file).name} carries its workflow but not the files it read, and they are "
                              "not beside it.", hint=f"Give each: flowbanana run {file} {sets} (or share a bundle, "
                              "made by flowbanana bundle, instead of an image).")]


def on_ctrl_c(stop, stopping: str) -> None:
    """Ctrl+C in the running event loop: the first calls `stop` and says `stopping`; a second quits at once, since
    a node working in a thread cannot be stopped and the run would wait for it."""
    import asyncio
    import signal
    pressed = False

    def interrupt() -> None:
        nonlocal pressed
        if pressed:
            print("\nquit without waiting for the nodes still working.", file=sys.stderr, flush=True)
            sys.stdout.flush()
            from .writing import remove_partials
            remove_partials()  # a file being written when the run was stopped is never left half made
            os._exit(EXIT_INTERRUPTED)
        pressed = True
        print(f"\nstopping: {stopping} (Ctrl+C again quits at once).", file=sys.stderr, flush=True)
        stop()

    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, interrupt)
    except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
        pass


def cmd_runs(args) -> int:
    from .batch.commands import cmd_runs as list_runs
    return list_runs(args)


def cmd_resume(args) -> int:
    from .batch.commands import cmd_resume as resume
    return resume(args)


def cmd_run(args) -> int:
    import asyncio

    from .cache import Cache, default_cache_dir
    from .errors import Problem, WorkflowInvalid
    from .executor import Execution, RunOptions
    from .overrides import apply_overrides, files_from_here, parse_assignments
    from .progress import Progress
    from .sources import open_workflow

    if args.help:
        return print_run_help(args)
    if args.file is None:
        args.parser.error("the following arguments are required: file")
    catalogue = load_nodes(args)
    workflow = open_workflow(args.file)
    values, named_files = files_from_here(workflow, catalogue, parse_assignments(args.assignments), Path.cwd())
    workflow = apply_overrides(workflow, catalogue, values)
    read_roots = (*(p.resolve() for p in args.allow_read), *named_files)
    problems = run_usage_problems(args, workflow, catalogue) + \
        missing_beside_image(args.file, workflow, catalogue, read_roots)
    if problems:
        raise WorkflowInvalid(problems)
    from .providers import ConfigError, ProviderUnavailable, prepare_run
    from .providers.clients import CLIENTS
    try:
        setup = prepare_run(args.provider, config=args.config, rpm=args.rpm, concurrency=args.concurrency,
                            dry_run=args.dry_run)
    except (ConfigError, ProviderUnavailable) as exc:
        raise WorkflowInvalid([Problem("usage", str(exc))]) from None
    read_roots = (*(p.resolve() for p in args.allow_read), *named_files)
    if args.batch and not args.dry_run:
        from .batch.commands import run_batch
        return run_batch(args, workflow, catalogue, setup, read_roots)
    banner = setup.announce(workflow, catalogue)
    if banner:
        print(banner, file=sys.stderr)
    options = setup.apply(RunOptions(
        out_dir=args.out, cache=None if args.no_cache else Cache(args.cache_dir or default_cache_dir()),
        force=frozenset(args.force), read_roots=read_roots))
    progress = None if args.json else Progress(sys.stdout, dry_run=args.dry_run)
    execution = Execution(workflow, catalogue, options, on_event=progress)

    async def run():
        on_ctrl_c(execution.cancel, "results already made are kept")
        ticker = asyncio.create_task(progress.tick()) if progress else None
        try:
            result = await execution.run()
        finally:
            if ticker:
                ticker.cancel()
            await setup.aclose()
            await CLIENTS.aclose()  # this loop ends with the run
        report(result)  # now, not after asyncio.run has waited for a cancelled node still working in a thread
        return result

    def report(result) -> None:
        usage, plan = setup.usage(result), setup.plan(batch=args.batch) if args.dry_run else None
        if args.json:
            print(json.dumps({"workflow": workflow.name, **result.to_json(), "usage": usage,
                              **({"plan": plan} if plan else {})}, indent=2), flush=True)
        else:
            progress.summary(result, usage=usage, plan=plan)
            sys.stdout.flush()

    result = asyncio.run(run())
    return EXIT_OK if result.ok else EXIT_FAILED
