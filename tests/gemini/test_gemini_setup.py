"""Settings, provider choice, retry timing and the catalogue: the parts that need no server."""
from __future__ import annotations

import random

import pytest

from flowbanana.executor import Execution, RunOptions
from flowbanana.providers import (ALL_SIZES, ConfigError, GeminiProvider, OfflineProvider, ProviderUnavailable, lookup,
                                  load_settings, prepare_run)
from flowbanana.providers.retry import RetryPolicy, server_retry_delay
from fake_gemini import FAKE_KEY


@pytest.mark.parametrize("variable", ["GEMINI_API_KEY", "GOOGLE_API_KEY", "NANO_BANANA_API_KEY"])
def test_auto_uses_gemini_when_any_key_is_set(monkeypatch, variable):
    monkeypatch.setenv(variable, FAKE_KEY)
    assert isinstance(prepare_run("auto").provider, GeminiProvider)


def test_auto_without_a_key_is_the_offline_preview_with_a_banner():
    setup = prepare_run("auto")
    assert isinstance(setup.provider, OfflineProvider)
    assert "offline preview" in setup.banner and "GEMINI_API_KEY" in setup.banner


def test_gemini_without_a_key_fails_saying_how_to_set_one():
    with pytest.raises(ProviderUnavailable) as error:
        prepare_run("gemini")
    assert "export GEMINI_API_KEY=" in str(error.value) and "--provider offline" in str(error.value)


def test_vertex_through_the_sdks_variables_counts_as_configured(monkeypatch):
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "my-project")
    assert isinstance(prepare_run("gemini").provider, GeminiProvider)


def test_config_file_then_flags(tmp_path):
    path = tmp_path / "flowbanana.toml"
    path.write_text('concurrency = 3\nrpm = 20\ntimeout_seconds = 30\n[rpm_per_model]\n"gemini-3-pro-image" = 5\n')
    settings = load_settings(path, rpm=7)
    assert (settings.concurrency, settings.rpm, settings.timeout_seconds) == (3, 7, 30)
    setup = prepare_run("offline", config=path)
    options = setup.apply(RunOptions())
    assert options.concurrency == 3 and options.rpm == 0  # the offline preview is never rate limited
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GEMINI_API_KEY", FAKE_KEY)
        options = prepare_run("auto", config=path).apply(RunOptions())
    assert options.rpm == {"*": 20, "gemini-3-pro-image": 5}
    assert options.resources["provider"].timeout == 30


def test_the_limiter_gets_the_rpm_per_model(tmp_path, monkeypatch, catalogue, make_workflow):
    monkeypatch.setenv("GEMINI_API_KEY", FAKE_KEY)
    path = tmp_path / "c.toml"
    path.write_text('rpm = 12\n[rpm_per_model]\n"gemini-3-pro-image" = 2\n')
    options = prepare_run("auto", config=path, concurrency=6).apply(RunOptions(out_dir=tmp_path))
    limiter = Execution(make_workflow({"a": {"type": "text.text"}}), catalogue, options).limiter
    assert (limiter.concurrency, limiter.rpm_for("gemini-3-pro-image"), limiter.rpm_for("other")) == (6, 2, 12)


@pytest.mark.parametrize("text, words", [
    ('api_key = "x"\n', "API keys belong in the environment"),
    ('provider = "dalle"\n', "provider 'dalle' is not one of auto, gemini, offline"),
    ("rpm = -1\n", "rpm must be a number of at least 0"),
    ("concurrency = [\n", "cannot be read"),
])
def test_a_bad_config_file_says_what_is_wrong(tmp_path, text, words):
    path = tmp_path / "flowbanana.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    assert words in str(error.value) and str(path) in str(error.value)


def test_a_config_file_in_the_user_folder_is_found(tmp_path, monkeypatch):
    folder = tmp_path / "config-home" / "flowbanana"
    folder.mkdir(parents=True)
    (folder / "config.toml").write_text('provider = "offline"\nrpm = 3\n')
    monkeypatch.chdir(tmp_path)
    assert load_settings().rpm == 3


def test_retry_delay_from_retry_info():
    body = {"error": {"code": 429, "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
                                               {"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                                "retryDelay": "12.5s"}]}}
    assert server_retry_delay(body) == 12.5
    assert server_retry_delay({"error": {"code": 503}}) is None and server_retry_delay("text") is None


def test_backoff_doubles_with_jitter_and_is_capped():
    policy, rng = RetryPolicy(base_delay=1, max_delay=5), random.Random(1)
    waits = [[policy.delay(n, rng=rng) for n in range(1, 6)] for _ in range(50)]
    for n, ceiling in enumerate([1, 2, 4, 5, 5]):
        column = [w[n] for w in waits]
        assert all(ceiling / 2 <= w <= ceiling for w in column) and len(set(column)) > 1


def test_catalogue_knows_the_models_and_passes_unknown_ids():
    assert lookup("gemini-2.5-flash-image").sizes == ("1K",)
    assert lookup("nano-banana-2").id == "gemini-3.1-flash-image" and lookup("nano-banana-2").sizes == ALL_SIZES
    assert lookup("gemini-3.1-flash-image-preview").id == "gemini-3.1-flash-image"  # retired: its successor
    assert lookup("gemini-3-pro-image").thinks and lookup("gemini-3-pro-image").pixel_size("1:1", "4K") == (4096, 4096)
    unknown = lookup("gemini-4-image")
    assert not unknown.known and unknown.estimate(size="1K") is None and "4K" in unknown.sizes
