"""`flowbanana run --batch`, `runs` and `resume`: the real SDK against the fake Batch API, real files and folders."""
from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import subprocess
import sys
import time

import pytest

from flowbanana.batch.runner import BatchRun, RunSpec
from flowbanana.batch.store import BatchStore
from flowbanana.cli import main
from flowbanana.limits import CallLimiter
from flowbanana.providers import DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, GeminiProvider, Request
from flowbanana.providers.retry import RetryPolicy
from flowbanana.workflow import load
from fake_gemini import FAKE_KEY

TEMPLATE = "{product}, studio product photo"


@pytest.fixture
def batch_env(gemini_env, batches, tmp_path, monkeypatch):
    """A user with a key whose SDK talks to the fake, and batch runs kept under tmp_path."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return batches


def catalogue(folder, rows: int, **generate) -> str:
    """A CSV of `rows` products and a workflow making one shot per row, saved as <sku>.png."""
    lines = ["sku,product", *(f"sku-{i:03d},{name} number {i}" for i, name in
                              zip(range(rows), ["a mug", "a lamp", "a shoe"] * rows))]
    (folder / "products.csv").write_text("\n".join(lines) + "\n")
    nodes = {"products": {"type": "list.from_csv", "params": {"path": "products.csv", "column": "product"}},
             "skus": {"type": "list.from_csv", "params": {"path": "products.csv", "column": "sku"}},
             "prompt": {"type": "text.template", "params": {"template": TEMPLATE},
                        "inputs": {"product": "products.items"}},
             "generate": {"type": "gemini.generate", "params": {"aspect_ratio": "4:5", "seed": 1, **generate},
                          "inputs": {"prompt": "prompt.text"}},
             "save": {"type": "image.save", "params": {"filename": "{name}.png"},
                      "inputs": {"image": "generate.image", "name": "skus.items"}}}
    path = folder / "catalogue.json"
    path.write_text(json.dumps({"format": "flowbanana/workflow", "version": 1, "name": "Catalogue", "nodes": nodes}))
    return str(path)


@pytest.fixture
def flowbanana(tmp_path, capsys):
    """`flowbanana ARGS...` in this process: (exit code, stdout, stderr); run's --out and --cache-dir in tmp_path."""
    def run(*args: str) -> tuple[int, str, str]:
        extra = ["--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")] if args[0] == "run" else []
        code = main([*args, *extra])
        out, err = capsys.readouterr()
        assert FAKE_KEY not in out + err
        return code, out, err
    return run


def saved(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "out").glob("*.png")) if (tmp_path / "out").is_dir() else []


def run_record(tmp_path) -> dict:
    [path] = (tmp_path / "state" / "flowbanana" / "batch" / "runs").glob("*/run.json")
    return json.loads(path.read_text())


def test_a_50_row_catalogue_goes_as_one_batch_job_at_half_the_estimated_cost(batch_env, flowbanana, wf_dir,
                                                                              tmp_path):
    wf = catalogue(wf_dir, 50)
    code, out, _ = flowbanana("run", wf, "--dry-run", "--batch")
    direct, batch = map(float, re.search(r"Estimated cost: \$([\d.]+) direct, \$([\d.]+) through the Batch API",
                                         out).groups())
    assert code == 0 and not batch_env.creates and batch == pytest.approx(direct / 2, abs=0.001) and batch > 0
    code, out, err = flowbanana("run", wf, "--batch")
    assert code == 0, out + err
    [job] = batch_env.creates
    assert (job.model, len(job.keys), job.from_file) == (DEFAULT_IMAGE_MODEL, 50, False)
    assert not batch_env.gemini.calls  # not one direct call
    assert f"submitted batch job batches/fake0001: 50 calls to {DEFAULT_IMAGE_MODEL} (inline)" in out
    paid, would_pay = map(float, re.search(r"estimated cost \$([\d.]+) \(50 at batch prices: \$([\d.]+) direct\)",
                                           out).groups())
    assert paid == pytest.approx(would_pay / 2, abs=0.001)
    assert paid == pytest.approx(batch, rel=0.05)  # what the dry run said, give or take the tokens
    assert saved(tmp_path) == [f"sku-{i:03d}.png" for i in range(50)]
    assert {c.prompt for c in batch_env.calls} == {TEMPLATE.format(product=f"{n} number {i}") for i, n in
                                                   zip(range(50), ["a mug", "a lamp", "a shoe"] * 50)}

    code, out, _ = flowbanana("run", wf, "--batch", "--out", str(tmp_path / "again"))
    assert code == 0 and len(batch_env.creates) == 1  # the cache holds every answer: nothing submitted
    assert "0 made, 50 from the cache" in out
    code, out, _ = flowbanana("run", wf, "--out", str(tmp_path / "direct"))
    assert code == 0 and not batch_env.gemini.calls  # a direct run finds them under the same keys


def direct_error(fault: str, prompt: str, fake) -> str:
    """What a direct call of `prompt` says when Gemini answers with `fault`."""
    async def call():
        provider = GeminiProvider(retry=RetryPolicy(attempts=1))  # what it says, not what a retry makes of it
        try:
            fake.fail(fault)
            await provider.generate(Request(model=DEFAULT_IMAGE_MODEL, prompt=prompt, aspect_ratio="4:5",
                                            seed=1), CallLimiter(1))
        except Exception as exc:  # the NodeError the node would fail with
            return exc.message
        finally:
            await provider.aclose()
    return asyncio.run(call())


def test_per_call_errors_fail_only_their_items_with_the_messages_of_direct_calls(batch_env, flowbanana, wf_dir,
                                                                                tmp_path):
    wf = catalogue(wf_dir, 3)
    batch_env.fail_requests("a lamp", "image_safety")
    batch_env.fail_requests("a shoe", "blocked")
    code, out, err = flowbanana("run", wf, "--batch")
    assert code == 1
    assert saved(tmp_path) == ["sku-000.png"]  # only the failed items are missing
    refused = direct_error("image_safety", "a lamp", batch_env.gemini)
    assert "IMAGE_SAFETY" in refused
    assert f"item 2 of 3: {refused} (2 items failed)" in out
    assert "The 1 other items are cached" in out

    batch_env.request_faults.clear()
    code, out, err = flowbanana("run", wf, "--batch")
    assert code == 0, out + err
    assert [len(job.keys) for job in batch_env.creates] == [3, 2]  # only the failed calls went again
    assert saved(tmp_path) == ["sku-000.png", "sku-001.png", "sku-002.png"]


def test_a_rejected_call_says_what_gemini_said_as_a_direct_call_would(batch_env, flowbanana, wf_dir):
    wf = catalogue(wf_dir, 1)
    batch_env.fail_requests("a mug", "429")
    code, out, _ = flowbanana("run", wf, "--batch")
    said = direct_error("429", "a mug", batch_env.gemini)
    assert code == 1 and said.startswith("Gemini answered 429 RESOURCE_EXHAUSTED: You exceeded your current quota")
    assert said in out
    assert "Running again with --batch submits it again." in out


def test_an_expired_job_fails_its_calls_and_running_again_submits_them_again(batch_env, flowbanana, wf_dir,
                                                                           tmp_path):
    wf = catalogue(wf_dir, 2)
    batch_env.end_with("EXPIRED")
    code, out, _ = flowbanana("run", wf, "--batch")
    assert code == 1 and saved(tmp_path) == []
    assert f"batch job batches/fake0001 (2 calls to {DEFAULT_IMAGE_MODEL}): EXPIRED" in out
    assert "batch job batches/fake0001 expired (Google expires a batch job that has not finished within 48 " \
           "hours) without answering this call." in out
    assert "or without --batch to call Gemini directly" in out
    code, out, _ = flowbanana("run", wf, "--batch")
    assert code == 0 and len(batch_env.creates) == 2 and saved(tmp_path) == ["sku-000.png", "sku-001.png"]


def test_calls_too_big_to_send_inline_go_as_an_uploaded_jsonl_file(batch_env, flowbanana, wf_dir, photo,
                                                                   tmp_path, monkeypatch):
    monkeypatch.setattr("flowbanana.batch.jobs.INLINE_LIMIT", 1000)
    nodes = {"photo": {"type": "image.load", "params": {"path": "photo.png"}},
             "edit": {"type": "gemini.edit", "params": {"instruction": "make it blue"}, "inputs": {"image": "photo.image"}},
             "save": {"type": "image.save", "params": {"filename": "blue.png"}, "inputs": {"image": "edit.image"}},
             "styled": {"type": "gemini.generate", "params": {"prompt": "a vase", "system_instruction": "house style"}},
             "keep": {"type": "image.save", "params": {"filename": "vase.png"}, "inputs": {"image": "styled.image"}}}
    (wf_dir / "edit.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 1, "name": "E",
                                                  "nodes": nodes}))
    code, out, err = flowbanana("run", str(wf_dir / "edit.json"), "--batch")
    assert code == 0, out + err
    [upload] = batch_env.uploads
    lines = [json.loads(text) for text in upload.data.decode().splitlines()]
    assert [line["request"]["generationConfig"]["responseModalities"] for line in lines] == [["TEXT", "IMAGE"]] * 2
    [job] = batch_env.creates  # one model, one job
    calls = {call.prompt: call for call in batch_env.calls}
    assert job.from_file and calls["make it blue"].images == [(120, 90)]  # the photo went along, as a JPEG
    assert calls["make it blue"].mime_types == ["image/jpeg"]
    assert calls["a vase"].system == "house style"
    assert "(file)" in out and saved(tmp_path) == ["blue.png", "vase.png"]


CHAIN = {"idea": {"type": "text.text", "params": {"text": "a teapot"}},
         "better": {"type": "gemini.prompt", "inputs": {"text": "idea.text"}},
         "generate": {"type": "gemini.generate", "inputs": {"prompt": "better.text"}},
         "save": {"type": "image.save", "params": {"filename": "teapot.png"}, "inputs": {"image": "generate.image"}}}


@pytest.mark.parametrize("direct", [False, True])
def test_a_model_fed_by_another_model_waits_for_its_round_unless_that_node_goes_direct(batch_env, flowbanana,
                                                                                       wf_dir, direct):
    (wf_dir / "chain.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 1, "name": "C",
                                                   "nodes": CHAIN}))
    code, out, err = flowbanana("run", str(wf_dir / "chain.json"), "--batch", *(["--direct", "better"] * direct))
    assert code == 0, out + err
    models = [job.model for job in batch_env.creates]
    assert models == ([DEFAULT_IMAGE_MODEL] if direct else [DEFAULT_TEXT_MODEL, DEFAULT_IMAGE_MODEL])
    assert [c.model for c in batch_env.gemini.calls] == ([DEFAULT_TEXT_MODEL] if direct else [])
    assert batch_env.calls[-1].prompt.startswith("A picture prompt from 0 image(s)")  # the text model's answer


def test_detached_submit_then_runs_then_resume(batch_env, flowbanana, wf_dir, tmp_path):
    wf = catalogue(wf_dir, 3)
    batch_env.hold()
    code, out, _ = flowbanana("run", wf, "--batch", "--detach")
    run_id = run_record(tmp_path)["id"]
    assert code == 0 and saved(tmp_path) == []
    assert "submitted batch job batches/fake0001" in out and f"flowbanana resume {run_id}" in out
    code, out, _ = flowbanana("runs")
    assert code == 0 and run_id in out and "batches/fake0001" in out and "RUNNING" in out

    code, out, _ = flowbanana("resume", run_id, "--detach", "--json")  # a look, no wait: still running
    assert code == 0 and saved(tmp_path) == [] and len(batch_env.creates) == 1
    assert json.loads(out) == {"status": "submitted", "run": run_id, "jobs": [{
        "name": "batches/fake0001", "display_name": f"flowbanana {run_id} #1", "model": DEFAULT_IMAGE_MODEL,
        "state": "RUNNING", "source": "inline", "calls": 3}]}
    [listed] = json.loads(flowbanana("runs", "--json")[1])
    assert (listed["id"], listed["status"], listed["jobs"][0]["state"]) == (run_id, "waiting", "RUNNING")
    batch_env.release()
    code, out, err = flowbanana("resume", run_id, "--json")
    assert code == 0, out + err
    assert json.loads(out)["usage"]["batch"]["calls"] == 3
    assert saved(tmp_path) == ["sku-000.png", "sku-001.png", "sku-002.png"] and len(batch_env.creates) == 1
    assert flowbanana("runs")[1].strip() == "No batch runs are waiting."
    assert run_record(tmp_path)["status"] == "done"
    code, out, _ = flowbanana("resume", run_id)
    assert code == 0 and "nothing to resume" in out and len(batch_env.creates) == 1


def test_running_the_same_command_again_carries_on_with_the_jobs_already_out(batch_env, flowbanana, wf_dir,
                                                                            tmp_path):
    wf = catalogue(wf_dir, 2)
    batch_env.hold()
    assert flowbanana("run", wf, "--batch", "--detach")[0] == 0
    batch_env.release()
    code, out, _ = flowbanana("run", wf, "--batch")
    assert code == 0 and "carrying on with batch run" in out and len(batch_env.creates) == 1
    assert saved(tmp_path) == ["sku-000.png", "sku-001.png"]


def dead_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


@pytest.mark.parametrize("reached_google", [True, False])
def test_a_job_whose_submission_was_cut_short_is_found_by_its_name_or_submitted_again(
        batch_env, flowbanana, wf_dir, tmp_path, reached_google):
    wf = catalogue(wf_dir, 2)
    batch_env.hold()
    assert flowbanana("run", wf, "--batch", "--detach")[0] == 0
    path = next((tmp_path / "state").rglob("run.json"))
    record = json.loads(path.read_text())
    job = record["jobs"][0]
    job.update(state="SUBMITTING", name=None, pid=dead_pid())  # as if killed before create() returned
    if not reached_google:
        job["display_name"] += " (never created)"
    path.write_text(json.dumps(record))
    batch_env.release()
    code, out, err = flowbanana("resume", record["id"])
    assert code == 0, out + err
    assert len(batch_env.creates) == (1 if reached_google else 2)
    assert saved(tmp_path) == ["sku-000.png", "sku-001.png"]


def test_batch_mode_needs_a_gemini_key_and_its_options_need_batch(gemini_env, flowbanana, wf_dir, monkeypatch):
    wf = catalogue(wf_dir, 1)
    code, _, err = flowbanana("run", wf, "--detach")
    assert code == 2 and "--detach goes with --batch" in err
    code, _, err = flowbanana("run", wf, "--batch", "--direct", "nope")
    assert code == 2 and "--direct nope: the workflow has no node 'nope'" in err
    monkeypatch.delenv("GEMINI_API_KEY")
    code, _, err = flowbanana("run", wf, "--batch")
    assert code == 2 and "so it needs Gemini: set an API key" in err
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "p")
    code, _, err = flowbanana("run", wf, "--batch", "--provider", "gemini")
    assert code == 2 and "Vertex AI takes batch jobs from Cloud Storage or BigQuery" in err


def test_kill_9_between_submit_and_collect_then_the_same_command_submits_nothing_again(batch_env, wf_dir,
                                                                                      tmp_path):
    """A real process killed while it waits for the job; the job id on disk is all the next one needs."""
    wf = catalogue(wf_dir, 50)
    batch_env.hold()
    command = [sys.executable, "-m", "flowbanana", "run", wf, "--batch", "--out", str(tmp_path / "out"),
               "--cache-dir", str(tmp_path / "cache")]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path)
    runs = tmp_path / "state" / "flowbanana" / "batch" / "runs"
    deadline = time.monotonic() + 120
    while not any(job.get("name") for path in runs.glob("*/run.json")
                  for job in json.loads(path.read_text())["jobs"]):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()[0]
        time.sleep(0.05)
    first.kill()  # SIGKILL: no handler, no cleanup
    first.wait()
    assert len(batch_env.creates) == 1 and saved(tmp_path) == []
    batch_env.release()
    again = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "carrying on with batch run" in again.stdout
    assert len(batch_env.creates) == 1 and len(saved(tmp_path)) == 50 and not batch_env.gemini.calls


def test_model_nodes_inside_subgraphs_are_batched_and_direct_names_a_whole_subgraph(batch_env, flowbanana, wf_dir,
                                                                                  tmp_path):
    shot = {"format": "flowbanana/workflow", "version": 2, "name": "Shot",
            "inputs": {"subject": {"node": "gen", "param": "prompt"}},
            "outputs": {"image": {"node": "gen", "output": "image"}},
            "nodes": {"gen": {"type": "gemini.generate", "params": {"prompt": "a cup"}}}}
    (wf_dir / "shot.json").write_text(json.dumps(shot))
    outer = {"a": {"type": "workflow", "workflow": "shot.json", "params": {"subject": "a kettle"}},
             "b": {"type": "workflow", "workflow": "shot.json", "params": {"subject": "a toaster"}},
             "save_a": {"type": "image.save", "params": {"filename": "a.png"}, "inputs": {"image": "a.image"}},
             "save_b": {"type": "image.save", "params": {"filename": "b.png"}, "inputs": {"image": "b.image"}}}
    (wf_dir / "outer.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "O",
                                                   "nodes": outer}))
    code, out, err = flowbanana("run", str(wf_dir / "outer.json"), "--batch", "--direct", "b")
    assert code == 0, out + err
    assert [c.prompt for c in batch_env.calls] == ["a kettle"] and len(batch_env.creates) == 1
    assert [c.prompt for c in batch_env.gemini.calls] == ["a toaster"]
    assert saved(tmp_path) == ["a.png", "b.png"]


async def test_a_run_of_some_nodes_submits_only_the_calls_they_need(batch_env, catalogue, wf_dir, tmp_path):
    nodes = {name: {"type": "gemini.generate", "params": {"prompt": f"a {name}"}} for name in ("kettle", "toaster")}
    nodes |= {f"save_{n}": {"type": "image.save", "params": {"filename": f"{n}.png"}, "inputs": {"image": f"{n}.image"}}
              for n in ("kettle", "toaster")}
    (wf_dir / "two.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "T",
                                                 "nodes": nodes}))
    workflow = load(wf_dir / "two.json")
    spec = RunSpec(workflow=workflow.to_dict(), source=str(workflow.source), out_dir=str(tmp_path / "out"),
                   cache_dir=None)
    store = BatchStore(tmp_path / "batch")
    gemini = GeminiProvider()
    options = dataclasses.replace(spec.options(), targets=frozenset({"save_kettle"}),
                                  resources={"provider": gemini})
    result = await BatchRun(store.new_run(dataclasses.asdict(spec), spec.digest()), catalogue, gemini, options,
                            store, say=lambda line: None).run()
    await gemini.aclose()
    assert result.ok and set(result.nodes) == {"kettle", "save_kettle"}
    assert [c.prompt for c in batch_env.calls] == ["a kettle"] and saved(tmp_path) == ["kettle.png"]


def test_a_job_made_though_its_answer_was_lost_is_found_not_made_again(batch_env, flowbanana, wf_dir, tmp_path):
    wf = catalogue(wf_dir, 2)
    batch_env.lose_next_create()  # Google made the job, but the client saw a 503
    code, out, err = flowbanana("run", wf, "--batch")
    assert code == 0, out + err
    assert len(batch_env.creates) == 1 and saved(tmp_path) == ["sku-000.png", "sku-001.png"]



def test_every_variation_of_a_node_goes_into_the_job(batch_env, flowbanana, wf_dir, tmp_path):
    nodes = {"gen": {"type": "gemini.generate", "params": {"prompt": "a vase", "count": 3}},
             "save": {"type": "image.save", "params": {"filename": "vase_{index}.png"}, "inputs": {"image": "gen.image"}}}
    (wf_dir / "vases.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "V",
                                                   "nodes": nodes}))
    code, out, err = flowbanana("run", str(wf_dir / "vases.json"), "--batch")
    assert code == 0, out + err
    assert [len(job.keys) for job in batch_env.creates] == [3]  # one round, though the node asks three at once
    assert sorted(c.config["seed"] for c in batch_env.calls) == [0, 1, 2]
    assert saved(tmp_path) == ["vase_1.png", "vase_2.png", "vase_3.png"]


@pytest.mark.parametrize("direct", [False, True])
def test_a_sweep_sends_every_cell_in_one_job_or_direct_with_its_node(batch_env, flowbanana, wf_dir, direct):
    nodes = {"style": {"type": "text.text", "params": {"text": "watercolour"}},
             "gen": {"type": "gemini.generate", "params": {"seed": 1}, "inputs": {"prompt": "style.text"}},
             "sweep": {"type": "sweep.grid", "inputs": {"image": "gen.image"},
                       "params": {"x": "style.text", "x_values": "watercolour\npixel art", "y": "gen.seed",
                                  "y_values": "1\n2", "cell_size": 64}}}
    (wf_dir / "sweep.json").write_text(json.dumps({"format": "flowbanana/workflow", "version": 2, "name": "S",
                                                   "nodes": nodes}))
    code, out, err = flowbanana("run", str(wf_dir / "sweep.json"), "--batch", *(["--direct", "gen"] * direct))
    assert code == 0, out + err
    assert [len(job.keys) for job in batch_env.creates] == ([] if direct else [4])
    assert len(batch_env.gemini.calls) == (4 if direct else 0)


def test_nodes_the_batch_api_cannot_take_are_named_before_submitting_and_go_direct_when_asked(batch_env, flowbanana,
                                                                                             wf_dir, tmp_path):
    wf = json.loads(open(catalogue(wf_dir, 3)).read())
    wf["nodes"].update({  # a model the Batch API does not take, and grounding, which it does not offer; inside a
        "fancy": {"type": "gemini.generate", "params": {"prompt": "a vase", "model": "nano-banana-2.1"}},  # sweep
        "news": {"type": "gemini.generate", "params": {"prompt": "today's weather", "search": "web"}},
        "save_fancy": {"type": "image.save", "params": {"filename": "vase.png"}, "inputs": {"image": "fancy.image"}},
        "save_news": {"type": "image.save", "params": {"filename": "news.png"}, "inputs": {"image": "news.image"}}})
    (wf_dir / "mixed.json").write_text(json.dumps(wf))
    code, out, _ = flowbanana("run", str(wf_dir / "mixed.json"), "--dry-run", "--batch", "--json")
    plan = json.loads(out)["plan"]
    assert set(plan["not_batched"]) == {"fancy", "news"} and "Nano Banana 2.1" in plan["not_batched"]["fancy"]
    assert plan["batch_cost_usd"] == pytest.approx(sum(  # those two at the full price, the 3 shots at half
        c["cost_usd"] * (1 if c["node"] in ("fancy", "news") else 0.5) for c in plan["calls"]), abs=1e-4)
    assert len(plan["calls"]) == 5 and plan["batch_cost_usd"] > plan["cost_usd"] / 2
    code, out, _ = flowbanana("run", str(wf_dir / "mixed.json"), "--dry-run", "--batch")
    assert "Not through the Batch API (counted at the full price" in out and "news: its search is on" in out
    code, out, err = flowbanana("run", str(wf_dir / "mixed.json"), "--batch")
    assert code == 1 and not batch_env.creates and not batch_env.gemini.calls  # nothing submitted, nothing sent
    assert "nothing was submitted: the Batch API cannot take the calls of 2 nodes" in err
    assert "'fancy': the Batch API does not take Nano Banana 2.1 (gemini-nano-banana-2.1)" in err
    assert "'news': its search is on, and Google Search grounding is not offered through the Batch API" in err
    assert "--direct fancy" in err and "--direct news" in err and "at the full price" in err
    assert not list((tmp_path / "state").rglob("run.json")) and saved(tmp_path) == []  # no run left waiting
    code, out, err = flowbanana("run", str(wf_dir / "mixed.json"), "--batch", "--direct", "fancy", "--direct", "news")
    assert code == 0, out + err
    [job] = batch_env.creates
    assert job.model == "gemini-3.1-flash-image" and len(batch_env.calls) == 3 and not any(c.search for c in
                                                                                          batch_env.calls)
    direct = {c.model: c for c in batch_env.gemini.calls}
    assert set(direct) == {"gemini-nano-banana-2.1", "gemini-3.1-flash-image"} and direct["gemini-3.1-flash-image"].search
    assert saved(tmp_path) == ["news.png", "sku-000.png", "sku-001.png", "sku-002.png", "vase.png"]


def test_the_fake_batch_api_refuses_what_the_model_table_says_it_cannot_take(batch_env):
    from google import genai
    from google.genai import errors, types
    from flowbanana.providers import MODELS
    client = genai.Client(api_key=FAKE_KEY, http_options=types.HttpOptions(api_version="v1beta"))
    request = {"contents": [{"role": "user", "parts": [{"text": "a vase"}]}],
               "config": {"response_modalities": ["TEXT", "IMAGE"]}}
    for model in (m for m in MODELS.values() if m.image and not m.batch):
        with pytest.raises(errors.ClientError, match="not supported for batchGenerateContent"):
            client.batches.create(model=model.id, src=[request], config={"display_name": "t"})
    searched = {**request, "config": {**request["config"], "tools": [{"google_search": {}}]}}
    client.batches.create(model="gemini-3.1-flash-image", src=[searched], config={"display_name": "t"})
    [job] = batch_env.creates
    assert "not supported in batch mode" in job.answers[0]["error"]["message"]


def test_requests_over_the_file_limit_are_split_into_several_jobs(batch_env, flowbanana, wf_dir, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setattr("flowbanana.batch.jobs.INLINE_LIMIT", 100)  # every job as an uploaded file
    monkeypatch.setattr("flowbanana.batch.jobs.FILE_LIMIT", 1500)   # Google's 2 GB, made small: a few lines a file
    code, out, err = flowbanana("run", catalogue(wf_dir, 10), "--batch")
    assert code == 0, out + err
    sizes = [len(upload.data) for upload in batch_env.uploads]
    lines = [upload.data.decode().splitlines() for upload in batch_env.uploads]
    assert len(batch_env.creates) == len(batch_env.uploads) > 2 and all(job.from_file for job in batch_env.creates)
    assert all(size <= 1500 or len(found) == 1 for size, found in zip(sizes, lines))  # a line is never split
    keys = [key for job in batch_env.creates for key in job.keys]
    assert len(keys) == len(set(keys)) == 10 and len(batch_env.calls) == 10  # each call in exactly one job
    assert f"submitted batch job {batch_env.creates[-1].name}" in out and len(saved(tmp_path)) == 10
    assert {job["model"] for job in run_record(tmp_path)["jobs"]} == {"gemini-3.1-flash-image"}
