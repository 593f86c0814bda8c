"""`flowbanana run` with providers, as a user runs it: a real process, the fake server, real files."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fake_gemini import FAKE_KEY

WORKFLOW = {"format": "flowbanana/workflow", "version": 2, "name": "Bikes",
            "nodes": {"p": {"type": "text.text", "params": {"text": "a red bicycle"}},
                      "gen": {"type": "gemini.generate", "params": {"aspect_ratio": "16:9", "count": 2},
                              "inputs": {"prompt": "p.text"}},
                      "save": {"type": "image.save", "params": {"filename": "bike_{index}.png"},
                               "inputs": {"image": "gen.image"}}}}


@pytest.fixture
def cli(tmp_path):
    path = tmp_path / "bikes.json"
    path.write_text(json.dumps(WORKFLOW))
    clean = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY",
                                                               "NANO_BANANA_API_KEY", "GOOGLE_GEMINI_BASE_URL")}

    def run(*args, env=None):
        done = subprocess.run([sys.executable, "-m", "flowbanana", "run", path, "--out", tmp_path / "out",
                               "--cache-dir", tmp_path / "cache", *map(str, args)], capture_output=True, text=True,
                              cwd=tmp_path, env={**clean, "XDG_CONFIG_HOME": str(tmp_path), **(env or {})},
                              timeout=120)
        assert FAKE_KEY not in done.stdout + done.stderr
        return done
    return run


@pytest.fixture
def key_env(fake):
    return {"GOOGLE_GEMINI_BASE_URL": fake.url, "GEMINI_API_KEY": FAKE_KEY}


def test_gemini_without_a_key_stops_before_any_node_runs(cli, tmp_path):
    done = cli("--provider", "gemini")
    assert done.returncode == 2
    assert "needs an API key" in done.stderr and "export GEMINI_API_KEY=" in done.stderr
    assert done.stdout == "" and not (tmp_path / "out").exists()
    as_json = cli("--provider", "gemini", "--json")
    assert as_json.returncode == 2 and "needs an API key" in json.loads(as_json.stdout)["problems"][0]["message"]


def test_without_a_key_the_offline_preview_runs_under_a_banner(cli, tmp_path):
    done = cli()
    assert done.returncode == 0, done.stderr
    assert "offline preview" in done.stderr and "GEMINI_API_KEY" in done.stderr
    assert "Model calls (offline preview): 2 made, 0 from the cache; no cost (offline preview)." in done.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["bike_1.png", "bike_2.png"]


def test_summary_counts_calls_retries_cache_hits_and_cost(cli, fake, key_env):
    fake.fail("429")
    done = cli(env=key_env)
    assert done.returncode == 0, done.stderr
    assert "Model calls (gemini): 2 made (+1 retry), 0 from the cache; estimated cost $0.135." in done.stdout
    assert "offline" not in done.stderr and "retrying" in done.stdout
    again = cli(env=key_env)
    assert "Model calls (gemini): 0 made, 2 from the cache" in again.stdout and len(fake.calls) == 2


def test_a_retry_cancelled_while_it_waits_is_not_counted(cli, fake, key_env):
    fake.fail("503", "blocked")  # one variation waits to retry; the other is refused, which fails the node at once
    done = cli(env=key_env)
    assert done.returncode == 1 and "blocked" in done.stdout
    assert "Model calls (gemini): 2 made, 0 from the cache" in done.stdout and len(fake.bodies_seen) == 2


def test_no_server_at_the_base_url_is_a_plain_message(cli, tmp_path):
    (tmp_path / "flowbanana.toml").write_text("max_attempts = 1\n")
    done = cli(env={"GEMINI_API_KEY": FAKE_KEY, "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:1"})  # nothing listens
    assert done.returncode == 1 and "could not reach Gemini (" in done.stdout and "Traceback" not in done.stderr
    assert "Cannot connect to host 127.0.0.1:1 [" in done.stdout and "object at 0x" not in done.stdout


def test_dry_run_lists_calls_and_cost_and_calls_and_writes_nothing(cli, fake, key_env, tmp_path):
    done = cli("--dry-run", env=key_env)
    assert done.stdout.startswith("Dry run of 'Bikes': 3 nodes, model calls answered by placeholders, nothing kept")
    assert "outputs in" not in done.stdout
    assert done.returncode == 0, done.stderr
    assert "A real run (gemini) would make 2 model calls:" in done.stdout
    assert done.stdout.count("gemini-3.1-flash-image") == 2 and "Estimated cost: $0.134" in done.stdout
    assert fake.bodies_seen == [] and not (tmp_path / "out").exists()
    assert not list((tmp_path / "cache").rglob("entry.json"))
    cli(env=key_env)  # a real run fills the cache: a dry run then has nothing left to call
    cached = cli("--dry-run", env=key_env)
    assert "would make 0 model calls." in cached.stdout and "Estimated cost: $0.000" in cached.stdout


def test_json_carries_usage(cli, fake, key_env):
    done = cli("--json", "--rpm", "100", "--concurrency", "2", env=key_env)
    usage = json.loads(done.stdout)["usage"]
    assert usage == {"provider": "gemini", "offline": False, "calls": 2, "retries": 0, "cache_hits": 0,
                     "cost_usd": 0.1348, "unpriced": 0}


def test_a_bad_config_file_is_a_usage_error(cli, tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('gemini_api_key = "AIza..."\n')
    done = cli("--config", config)
    assert done.returncode == 2 and "API keys belong in the environment" in done.stderr


def test_dry_run_with_gemini_but_no_key_plans_and_warns(cli, tmp_path):
    done = cli("--dry-run", "--provider", "gemini")
    assert done.returncode == 0, done.stderr
    assert "would make 2 model calls" in done.stdout and "Estimated cost: $0.134" in done.stdout
    assert "No API key is set" in done.stdout and not (tmp_path / "out").exists()


def flowbanana_models(*args, env=None):
    clean = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "NANO_BANANA_API_KEY",
                                                               "GOOGLE_GEMINI_BASE_URL")}
    return subprocess.run([sys.executable, "-m", "flowbanana", "models", *args], capture_output=True, text=True,
                          env={**clean, **(env or {})}, timeout=60)


def test_models_without_a_key_prints_the_table():
    done = flowbanana_models()
    assert done.returncode == 0 and "No API key is set" in done.stderr
    assert "Nano Banana 2  gemini-3.1-flash-image  (alias nano-banana-2)  default" in done.stdout
    assert "retired: shut down 2026-06-25; a workflow naming it runs on gemini-3-pro-image" in done.stdout
    assert "price per image 512 $0.045, 1K $0.067, 2K $0.101, 4K $0.151" in done.stdout
    rows = {r["id"]: r for r in json.loads(flowbanana_models("--json").stdout)["models"]}
    assert rows["gemini-2.5-flash-image"]["status"] == "deprecated" and "usable" not in rows["gemini-3-pro-image"]
    assert rows["gemini-nano-banana-2.1"]["thinking"] == ["minimal", "medium", "high"]


def test_models_with_a_key_asks_the_api_what_it_can_use(fake, key_env):
    done = flowbanana_models("--json", env=key_env)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    usable = {r["id"]: r["usable"] for r in report["models"]}
    assert usable["gemini-3.1-flash-image"] and usable["gemini-3-pro-image"]
    assert not usable["gemini-3-pro-image-preview"]  # shut down: the API no longer lists it
    assert report["unknown"] == ["gemini-4-flash-image-preview"] and "note" not in report
    text = flowbanana_models(env=key_env).stdout
    assert "gemini-3-pro-image  (alias nano-banana-pro, nano-banana-pro-preview)  [usable with this key]" in text
    assert "not in flowbanana's table (sent as typed, unchecked): gemini-4-flash-image-preview" in text
    assert FAKE_KEY not in done.stdout + done.stderr + text
