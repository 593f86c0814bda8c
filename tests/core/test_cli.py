"""The command line as a user runs it: a real process, real files, exit codes."""
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

PACKS = Path(__file__).parents[1] / "packs"


def flowbanana(*args, cwd=None, env_extra=None):
    env = {**os.environ, "FLOWBANANA_NODES_PATH": str(PACKS), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "flowbanana", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=60)


@pytest.fixture
def workflow_file(tmp_path):
    doc = {"format": "flowbanana/workflow", "version": 2, "name": "Shout",
           "inputs": {"word": {"node": "w", "param": "text", "description": "Words to shout"}},
           "nodes": {"w": {"type": "test.words", "params": {"text": "hello world"}},
                     "u": {"type": "test.upper", "inputs": {"text": "w.items"}},
                     "show": {"type": "test.show", "inputs": {"value": "u.text"}}}}
    path = tmp_path / "shout.json"
    path.write_text(json.dumps(doc))
    return path


def test_run_prints_a_line_per_node_and_a_summary(workflow_file, tmp_path):
    done = flowbanana("run", workflow_file, "--cache-dir", tmp_path / "c", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Running 'Shout': 3 nodes, outputs in ") and str(tmp_path / "outputs" / "shout") in lines[0]
    assert any(l.split()[:3] == ["✓", "u", "done"] for l in lines)
    assert lines[-1].startswith("Finished in ") and "3 done" in lines[-1]
    again = flowbanana("run", workflow_file, "--cache-dir", tmp_path / "c", cwd=tmp_path)
    assert "3 cached" in again.stdout.splitlines()[-1]


def test_set_overrides_inputs_and_params_and_json_is_for_programs(workflow_file, tmp_path):
    done = flowbanana("run", workflow_file, "--no-cache", "--json", "--set", "word=a b c", "--set", "u.suffix=!",
                      "--out", tmp_path / "o")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "done" and result["nodes"]["show"]["outputs"]["value"] == ["A!", "B!", "C!"]


@pytest.fixture
def typed_file(tmp_path):
    """A workflow whose interface has a number with a range, a choice, a link-only port and an output."""
    doc = {"format": "flowbanana/workflow", "version": 2, "name": "Nap", "description": "Sleeps, then says so.",
           "inputs": {"nap": {"node": "s", "param": "seconds", "description": "How long to sleep"},
                      "how": {"node": "f", "param": "how"},
                      "after": {"node": "s", "input": "after", "description": "What to wait for"}},
           "outputs": {"label": {"node": "s", "output": "label", "description": "Who slept"}},
           "nodes": {"s": {"type": "test.sleep", "params": {"seconds": 0.01}},
                     "f": {"type": "test.pick"},
                     "show": {"type": "test.show", "inputs": {"value": "s.label"}}}}
    path = tmp_path / "nap.json"
    path.write_text(json.dumps(doc))
    return path


def test_run_file_help_lists_that_workflows_inputs_and_outputs(typed_file, tmp_path):
    done = flowbanana("run", typed_file, "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "usage: flowbanana run" in text and "Sleeps, then says so." in text
    assert "    nap              float = 0.01 [0..]  How long to sleep" in text
    assert "    how              choice = 'calm' [one of calm, wild]" in text
    assert "fed only by a link" in text and "    after            ANY (optional)  What to wait for" in text
    assert "    label            TEXT  Who slept" in text
    assert not (tmp_path / "outputs").exists()            # asking for help runs nothing
    as_json = json.loads(flowbanana("run", typed_file, "--help", "--json").stdout)
    assert [(i["name"], i["type"], i["default"]) for i in as_json["inputs"]] == [
        ("nap", "FLOAT", 0.01), ("how", "TEXT", "calm"), ("after", "ANY", None)]
    assert as_json["inputs"][1]["choices"] == ["calm", "wild"] and as_json["outputs"][0]["name"] == "label"


def test_set_gives_an_image_input_port_a_file(tmp_path):
    """An IMAGE input port (a link feeds it when the workflow is a node) takes a file: image.load reads it."""
    doc = {"format": "flowbanana/workflow", "version": 2, "name": "Frame",
           "inputs": {"photo": {"node": "square", "input": "image", "description": "The picture to square"}},
           "nodes": {"square": {"type": "image.crop", "params": {"mode": "aspect", "aspect": "1:1"}},
                     "save": {"type": "image.save", "inputs": {"image": "square.image"},
                              "params": {"filename": "square.png"}}}}
    (tmp_path / "flows").mkdir()
    path = tmp_path / "flows" / "frame.json"
    path.write_text(json.dumps(doc))
    Image.new("RGB", (60, 40), (200, 30, 30)).save(tmp_path / "mine.png")
    described = flowbanana("run", path, "--help", cwd=tmp_path).stdout
    assert "    photo            IMAGE file  The picture to square" in described
    done = flowbanana("run", path, "--set", "photo=mine.png", "--no-cache", "--out", tmp_path / "o", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert Image.open(tmp_path / "o" / "square.png").size == (40, 40)  # the file from the shell's folder, squared
    left_out = flowbanana("run", path, "--no-cache", "--out", tmp_path / "o2", cwd=tmp_path)
    assert left_out.returncode == 2 and "square" in left_out.stderr  # nothing feeds it: the node is named


@pytest.mark.parametrize("args, words", [
    (["--set", "nap=soon"], "--set nap: expected a number, got 'soon'"),
    (["--set", "nap=-1"], "-1 is below the minimum 0"),
    (["--set", "how=loud"], "'loud' is not one of calm, wild"),
    (["--set", "after=x"], "input 'after' is an input port (ANY) that only a link feeds"),
    (["--set", "sleep=1"], "the workflow has no input 'sleep'.\n    → Its inputs: after, how, nap."),
])
def test_set_is_checked_against_the_interface(typed_file, tmp_path, args, words):
    done = flowbanana("run", typed_file, "--no-cache", "--out", tmp_path / "o", *args)
    assert done.returncode == 2 and words in done.stderr, done.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args, words", [
    (["--set", "nope=1"], "the workflow has no input 'nope'"),
    (["--set", "u.nope=1"], "no param 'nope' on node 'u'"),
    (["--set", "noequals"], "is not NAME=VALUE"),
    (["--force", "ghost"], "no node 'ghost'"),
])
def test_bad_usage_exits_2_with_a_clear_message(workflow_file, tmp_path, args, words):
    done = flowbanana("run", workflow_file, "--no-cache", "--out", tmp_path / "o", *args)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr


def test_a_failing_node_exits_1_and_says_what_to_do(workflow_file, tmp_path):
    done = flowbanana("run", workflow_file, "--no-cache", "--set", "word=fine boom", "--out", tmp_path / "o")
    assert done.returncode == 1
    assert "item 2 of 2: the word 'boom' is not allowed." in done.stdout and "→ Pick another word." in done.stdout


@pytest.fixture
def paid_save(tmp_path):
    """A workflow whose model call would be paid before its image.save writes anything."""
    Image.new("RGB", (16, 16), "orange").save(tmp_path / "in.png")
    path = tmp_path / "paid.json"
    path.write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "Paid", "nodes": {
        "load": {"type": "image.load", "params": {"path": "in.png"}},
        "edit": {"type": "gemini.edit", "params": {"instruction": "make it blue"}, "inputs": {"image": "load.image"}},
        "save": {"type": "image.save", "params": {"filename": "x.png"}, "inputs": {"image": "edit.image"}}}}))
    return path


@pytest.mark.parametrize("flag, folder", [("--out", "out"), ("--cache-dir", "cache")])
@pytest.mark.parametrize("blocked", ["a file in the way", "read-only"])
def test_an_unwritable_out_or_cache_folder_stops_the_run_before_any_node(paid_save, tmp_path, flag, folder, blocked):
    if blocked == "a file in the way":
        (tmp_path / "report.txt").write_text("not a folder")
        target = tmp_path / "report.txt" / folder
    else:
        if os.geteuid() == 0:
            pytest.skip("root writes into read-only folders")
        (tmp_path / "locked").mkdir(mode=0o555)
        target = tmp_path / "locked" / folder
    others = {"--out": ["--cache-dir", tmp_path / "c"], "--cache-dir": ["--out", tmp_path / "o"]}[flag]
    done = flowbanana("run", paid_save, "--provider", "offline", flag, target, *others)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"cannot run {paid_save}" in done.stderr and str(target) in done.stderr and "Traceback" not in done.stderr
    assert "edit" not in done.stdout and "Model calls" not in done.stdout  # nothing ran, nothing was paid


def test_an_error_from_the_system_is_reported_as_one_not_as_a_bug_in_the_pack(paid_save, tmp_path):
    doc = json.loads(paid_save.read_text())
    doc["nodes"]["save"]["params"]["filename"] = "x" * 300 + ".png"  # longer than a file name may be
    paid_save.write_text(json.dumps(doc))
    done = flowbanana("run", paid_save, "--provider", "offline", "--no-cache", "--out", tmp_path / "o")
    assert done.returncode == 1
    assert "File name too long: " in done.stdout and "The operating system refused" in done.stdout
    assert "pack's authors" not in done.stdout and "No files written" not in done.stdout


def test_validate_lists_every_problem_and_exits_2(tmp_path, workflow_file):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "nodes": {
        "u": {"type": "test.upper", "params": {"sufix": "!"}}, "x": {"type": "nope.nope"}}}))
    done = flowbanana("validate", workflow_file, bad)
    assert done.returncode == 2
    assert f"✓ {workflow_file}" in done.stdout and "input word (w.text)" in done.stdout
    for words in ("has no param 'sufix'", "unknown type 'nope.nope'", "needs a link into its TEXT input 'text'",
                  "no node produces a result", "4 problems"):
        assert words in done.stderr


def test_validate_reports_malformed_json_with_its_position(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "flowbanana/workflow",, }')
    done = flowbanana("validate", bad, "--json")
    assert done.returncode == 2
    problems = json.loads(done.stdout)[str(bad)]
    assert problems[0]["code"] == "json" and "line 1, column 34" in problems[0]["message"]


def test_nodes_lists_the_catalogue_and_json_has_what_the_editor_needs():
    done = flowbanana("nodes")
    assert done.returncode == 0 and "text.template" in done.stdout and "test.sleep" in done.stdout
    data = json.loads(flowbanana("nodes", "--json").stdout)
    template = next(n for n in data["nodes"] if n["id"] == "text.template")
    assert template["params"][0]["kind"] == "multiline" and template["extra_inputs"] == "TEXT"
    assert data["port_types"]["IMAGE"]["color"].startswith("#") and data["categories"]["text"].startswith("#")
    detail = flowbanana("nodes", "test.sleep")
    assert "seconds" in detail.stdout and "0.." in detail.stdout


def test_help_teaches_by_example_and_does_not_load_the_ui():
    done = flowbanana("run", "--help")
    assert done.returncode == 0 and "--set subject=" in done.stdout and "exit codes" in done.stdout
    probe = subprocess.run([sys.executable, "-c", "import sys, flowbanana.cli as c; c.build_parser(); "
                            "print(sorted(m for m in ('nicegui', 'networkx', 'PIL') if m in sys.modules))"],
                           capture_output=True, text=True, timeout=60)
    assert probe.stdout.strip() == "[]"


def test_version():
    from flowbanana import __version__
    assert flowbanana("--version").stdout.strip() == f"flowbanana {__version__}"


def test_a_missing_file_is_a_clear_error(tmp_path):
    done = flowbanana("run", tmp_path / "nope.json")
    assert done.returncode == 2 and "no workflow file at" in done.stderr


@pytest.mark.parametrize("flag", ["--out", "--cache-dir"])
def test_a_file_where_a_folder_belongs_stops_before_anything_runs(workflow_file, tmp_path, flag):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    done = flowbanana("run", workflow_file, flag, a_file, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{flag} {a_file} is a file." in done.stderr and "Running" not in done.stdout
    assert done.stderr.startswith(f"cannot run {workflow_file}: 1 problem")
    as_json = flowbanana("run", workflow_file, flag, a_file, "--json", cwd=tmp_path)
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["problems"][0]["code"] == "usage"


@pytest.mark.parametrize("flag, where", [
    ("--out", "a-file/sub"), ("--cache-dir", "a-file/sub"),      # a folder under a file: mkdir cannot make it
    ("--out", "/proc/flowbanana-out"), ("--cache-dir", "/proc/flowbanana-cache"),  # a place nobody may write
])
def test_an_unwritable_folder_stops_the_run_before_any_node_runs(workflow_file, tmp_path, flag, where):
    (tmp_path / "a-file").write_text("not a folder")
    folder = tmp_path / where
    done = flowbanana("run", workflow_file, flag, folder, cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert f"{flag} {folder} cannot be written to: " in done.stderr and "--no-cache" in done.stderr
    assert "Running" not in done.stdout and "report it" not in done.stderr
    assert not (tmp_path / "outputs").exists() or flag == "--cache-dir"


def test_an_invalid_workflow_makes_no_folders(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "flowbanana/workflow", "version": 1, "nodes": {"x": {"type": "no.pe"}}}))
    done = flowbanana("run", bad, "--out", tmp_path / "o", "--cache-dir", tmp_path / "c")
    assert done.returncode == 2 and not (tmp_path / "o").exists() and not (tmp_path / "c").exists()


@pytest.mark.parametrize("args", [["nodes", "--json"], ["validate", "--json", "SHOUT"], ["inspect", "--json", "IMAGE"],
                                  ["nodes"]])
def test_output_cut_short_by_the_reader_is_a_quiet_exit(workflow_file, tmp_path, args):
    """`flowbanana nodes --json | head`: the reader closes the pipe before flowbanana writes; no traceback."""
    image = tmp_path / "made.png"
    from flowbanana import provenance
    Image.new("RGB", (4, 4)).save(image, **provenance.save_options("PNG", {"name": "x"}, {"node": "s", "steps": []}))
    args = [str(workflow_file) if a == "SHOUT" else str(image) if a == "IMAGE" else a for a in args]
    process = subprocess.Popen([sys.executable, "-m", "flowbanana", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env={**os.environ, "FLOWBANANA_NODES_PATH": str(PACKS)})
    process.stdout.close()  # long before the interpreter has started and written anything
    stderr = process.communicate(timeout=60)[1].decode()
    assert stderr == "" and process.returncode == 1


def test_bundle_makes_the_folder_it_writes_into_and_an_unwritable_place_is_a_message(workflow_file, tmp_path):
    dest = tmp_path / "share" / "v2" / "shout.zip"
    done = flowbanana("bundle", workflow_file, "-o", dest)
    assert done.returncode == 0, done.stderr
    assert zipfile.is_zipfile(dest)
    blocked = tmp_path / "a-file"
    blocked.write_text("in the way")
    refused = flowbanana("bundle", workflow_file, "-o", blocked / "shout.zip")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert f"cannot write {blocked / 'shout.zip'}" in refused.stderr


def test_inspect_and_run_refuse_an_image_bomb_with_a_message(tmp_path):
    bomb = tmp_path / "bomb.png"
    Image.new("1", (20_000, 20_000)).save(bomb)  # 400 megapixels, a few kilobytes on disk
    for command in ("inspect", "run"):
        done = flowbanana(command, bomb)
        assert done.returncode == 2 and "Traceback" not in done.stderr and "decompression bomb" in done.stderr
        assert "DOS attack" not in done.stderr


def test_a_run_that_only_previews_says_how_to_keep_images_and_numbers_read_as_numbers(tmp_path):
    Image.new("RGB", (30, 20), "teal").save(tmp_path / "small.png")
    (tmp_path / "look.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "Look",
        "nodes": {"load": {"type": "image.load", "params": {"path": "small.png"}},
                  "show": {"type": "image.preview", "inputs": {"image": "load.image"}}}}))
    done = flowbanana("run", tmp_path / "look.json", "--no-cache", "--out", tmp_path / "o")
    assert done.returncode == 0, done.stderr
    assert "image 30×20, width 30, height 20" in done.stdout
    assert done.stdout.splitlines()[-1].startswith("No files written: images are kept only by an image.save node")


SLOW_PACK = '''
import time
from flowbanana.node_api import TEXT, Output, Pack, Param
pack = Pack("slow", version="1.0.0")
@pack.node("slow.sync", params=[Param.float("seconds", 60.0)], outputs=[Output("text", TEXT)], output=True,
           cacheable=False)
def nap(seconds):
    time.sleep(seconds)  # a sync node in a thread: cancelling the run cannot stop it
    return "woke"
'''


@pytest.fixture
def slow_run(tmp_path):
    """`flowbanana run` of a workflow that saves an image at once while a node keeps working, as a process."""
    (tmp_path / "packs").mkdir()
    (tmp_path / "packs" / "slow.py").write_text(SLOW_PACK)
    Image.new("RGB", (16, 16), "orange").save(tmp_path / "in.png")
    (tmp_path / "slow.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "Slow",
        "nodes": {"load": {"type": "image.load", "params": {"path": "in.png"}},
                  "save": {"type": "image.save", "params": {"filename": "kept.png"}, "inputs": {"image": "load.image"}},
                  "nap": {"type": "slow.sync"}}}))
    env = {**os.environ, "FLOWBANANA_NODES_PATH": str(PACKS)}
    process = subprocess.Popen([sys.executable, "-m", "flowbanana", "run", str(tmp_path / "slow.json"), "--no-cache",
                                "--out", str(tmp_path / "o"), "--nodes-dir", str(tmp_path / "packs")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()


def read_until(stream, words: str) -> list[str]:
    lines = []
    while words not in (line := stream.readline()):
        assert line, f"the output ended before {words!r}: {lines}"
        lines.append(line)
    return lines + [line]


def test_ctrl_c_keeps_what_is_done_and_a_second_ctrl_c_quits_at_once(slow_run, tmp_path):
    read_until(slow_run.stdout, "✓ save")  # image.save has finished; nap is still asleep in its thread
    slow_run.send_signal(signal.SIGINT)
    assert "results already made are kept" in read_until(slow_run.stderr, "stopping")[-1]
    summary = read_until(slow_run.stdout, str(tmp_path / "o" / "kept.png"))
    assert any(line.startswith("Cancelled in ") and "1 cancelled" in line for line in summary)
    assert (tmp_path / "o" / "kept.png").is_file()
    slow_run.send_signal(signal.SIGINT)  # the sleeping thread would hold the process for a minute
    assert slow_run.wait(timeout=30) == 130
    assert "Traceback" not in slow_run.stderr.read()


@pytest.mark.parametrize("presses, code", [(1, 1), (2, 130)])
def test_ctrl_c_while_a_file_is_written_leaves_no_part_of_it(tmp_path, presses, code):
    """Stopped while a node in a thread is half way through a file: once the process ends (waiting for the
    thread, or quitting at once) there is neither the file nor its temporary, and the summary does not list it."""
    (tmp_path / "w.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "W",
        "nodes": {"w": {"type": "test.words", "params": {"text": "a b"}},
                  "save": {"type": "test.write", "params": {"hold": "b", "wait": 3},
                           "inputs": {"text": "w.items"}}}}))
    out = tmp_path / "o"
    process = subprocess.Popen([sys.executable, "-m", "flowbanana", "run", str(tmp_path / "w.json"), "--no-cache",
                                "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "FLOWBANANA_NODES_PATH": str(PACKS)})
    try:
        while not (list(out.glob(".b.txt.*.partial")) and (out / "a.txt").exists()):
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        for _ in range(presses):
            process.send_signal(signal.SIGINT)
            time.sleep(0.5)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code and "Traceback" not in stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]
    if presses == 1:
        assert "Files written (1):" in stdout and str(out / "a.txt") in stdout and "b.txt" not in stdout


def test_ctrl_c_on_async_nodes_ends_the_run_cleanly_with_exit_1(tmp_path):
    (tmp_path / "nap.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "Nap",
        "nodes": {"quick": {"type": "test.show", "inputs": {"value": "w.items"}},
                  "w": {"type": "test.words"},
                  "nap": {"type": "test.sleep", "params": {"seconds": 60}},
                  "after": {"type": "test.show", "inputs": {"value": "nap.label"}}}}))
    process = subprocess.Popen([sys.executable, "-m", "flowbanana", "run", str(tmp_path / "nap.json"), "--no-cache",
                                "--out", str(tmp_path / "o")], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "FLOWBANANA_NODES_PATH": str(PACKS)})
    try:
        read_until(process.stdout, "quick")
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 1 and "Traceback" not in err
    assert "■ nap" in out and "skipped because the run was cancelled" in out and "Cancelled in" in out


def test_set_names_a_file_from_the_current_folder_and_only_that_file_becomes_readable(tmp_path):
    (tmp_path / "flows").mkdir()
    (tmp_path / "here").mkdir()
    Image.new("RGB", (40, 30), "red").save(tmp_path / "here" / "mine.png")
    Image.new("RGB", (8, 8), "blue").save(tmp_path / "here" / "private.png")
    Image.new("RGB", (10, 10), "green").save(tmp_path / "flows" / "default.png")
    (tmp_path / "flows" / "wf.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2,
        "name": "Mine", "inputs": {"photo": {"node": "load", "param": "path"}},
        "nodes": {"load": {"type": "image.load", "params": {"path": "default.png"}},
                  "save": {"type": "image.save", "params": {"filename": "out.png"}, "inputs": {"image": "load.image"}},
                  "peek": {"type": "image.load", "params": {"path": "../here/private.png"}},
                  "leak": {"type": "image.save", "params": {"filename": "leak.png"},
                           "inputs": {"image": "peek.image"}}}}))
    done = flowbanana("run", tmp_path / "flows" / "wf.json", "--set", "photo=mine.png", "--no-cache", "--out",
                      tmp_path / "o", cwd=tmp_path / "here")
    assert done.returncode == 1  # peek may not read beside the file the user named
    assert "'../here/private.png' is outside the folders this run may read" in done.stdout
    assert Image.open(tmp_path / "o" / "out.png").size == (40, 30) and not (tmp_path / "o" / "leak.png").exists()
    recorded = json.loads(Image.open(tmp_path / "o" / "out.png").text["flowbanana.workflow"])
    assert recorded["nodes"]["load"]["params"]["path"] == "../here/mine.png"  # relative to the workflow, as given
    from_workflow = flowbanana("run", tmp_path / "flows" / "wf.json", "--set", "photo=default.png", "--json",
                               "--no-cache", "--out", tmp_path / "o2", cwd=tmp_path / "here")
    assert json.loads(from_workflow.stdout)["nodes"]["load"]["outputs"]["width"] == 10  # not here: the workflow's


@pytest.mark.parametrize("args", [["nodes", "text.templat"], ["nodes", "text.templat", "--json"]])
def test_a_mistyped_node_type_suggests_the_nearest(args):
    done = flowbanana(*args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("no node type 'text.templat'; did you mean text.template")


@pytest.fixture
def greedy_workflow(tmp_path):
    """A workflow that names a private file outside its folder, directly and through a link beside it."""
    (tmp_path / "private").mkdir()
    (tmp_path / "flows").mkdir()
    Image.new("RGB", (4, 4), "black").save(tmp_path / "private" / "id.png")
    (tmp_path / "flows" / "innocent.png").symlink_to(tmp_path / "private" / "id.png")
    path = tmp_path / "flows" / "greedy.json"
    path.write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "Greedy", "nodes": {
        "a": {"type": "image.load", "params": {"path": str(tmp_path / "private" / "id.png")}},
        "b": {"type": "image.load", "params": {"path": "innocent.png"}},
        "s": {"type": "image.grid", "inputs": {"images": ["a.image", "b.image"]}},
        "save": {"type": "image.save", "inputs": {"image": "s.image"}}}}))
    return path


def test_bundle_takes_only_files_a_run_may_read(greedy_workflow, tmp_path):
    refused = flowbanana("bundle", greedy_workflow, "-o", tmp_path / "greedy.zip")
    assert refused.returncode == 2 and not (tmp_path / "greedy.zip").exists()
    assert refused.stderr.count("outside the folders this workflow may read") == 2
    assert "--allow-read DIR" in refused.stderr
    allowed = flowbanana("bundle", greedy_workflow, "-o", tmp_path / "greedy.zip", "--allow-read", tmp_path / "private")
    assert allowed.returncode == 0, allowed.stderr
    with zipfile.ZipFile(tmp_path / "greedy.zip") as archive:
        assert {"files/a/id.png", "innocent.png"} <= set(archive.namelist())


def test_every_option_problem_is_reported_at_once(workflow_file, tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    done = flowbanana("run", workflow_file, "--force", "ghost", "--out", a_file, "--cache-dir", a_file)
    assert done.returncode == 2 and done.stderr.startswith(f"cannot run {workflow_file}: 3 problems")


def test_validate_prints_warnings_and_still_exits_0(tmp_path):
    path = tmp_path / "spelled.json"
    path.write_text(json.dumps({"format": "flowbanana/workflow", "version": 1, "nodes": {
        "s": {"type": "test.spelled", "params": {"word": "colour"}}}}))
    done = flowbanana("validate", path)
    assert done.returncode == 0 and f"✓ {path}" in done.stdout
    assert "⚠ node 's' (test.spelled), param 'word': 'colour' is sent as 'color'." in done.stderr
    assert "→ Update the file." in done.stderr
    report = json.loads(flowbanana("validate", path, "--json").stdout)[str(path)]
    assert [(p["code"], p["severity"]) for p in report] == [("node_warning", "warning")]


def test_an_image_run_again_away_from_its_inputs_says_which_to_give_and_how(tmp_path):
    (tmp_path / "flow").mkdir()
    Image.new("RGB", (24, 16), "red").save(tmp_path / "flow" / "photo.png")
    (tmp_path / "flow" / "wf.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2,
        "name": "Again", "inputs": {"photo": {"node": "load", "param": "path"}},
        "nodes": {"load": {"type": "image.load", "params": {"path": "photo.png"}},
                  "save": {"type": "image.save", "params": {"filename": "made.png"}, "inputs": {"image": "load.image"}}}}))
    assert flowbanana("run", tmp_path / "flow" / "wf.json", "--no-cache", "--out", tmp_path / "out").returncode == 0
    image = tmp_path / "out" / "made.png"
    shown = flowbanana("inspect", image)
    assert shown.returncode == 0 and f"flowbanana run {image} --set photo=FILE" in shown.stdout
    again = flowbanana("run", image, "--no-cache", "--out", tmp_path / "again")
    assert again.returncode == 2 and f"cannot run {image}" in again.stderr
    assert "there is no file or folder 'photo.png'" in again.stderr and "--set photo=FILE" in again.stderr
    given = flowbanana("run", image, "--set", "photo=photo.png", "--no-cache", "--out", tmp_path / "again",
                       cwd=tmp_path / "flow")
    assert given.returncode == 0, given.stdout + given.stderr
    assert Image.open(tmp_path / "again" / "made.png").size == (24, 16)
