"""The Gemini provider driven through the real SDK at the fake server: answers, faults, retries, refusals."""
from __future__ import annotations

import json
import logging

import pytest
from PIL import Image

from flowbanana.node_api import NodeError
from flowbanana.providers import Refusal, Request
from flowbanana.providers.reasons import FINISH
from fake_gemini import FAKE_KEY


def gen(**kw) -> Request:
    return Request(**{"model": "gemini-3.1-flash-image", "prompt": "a red bicycle", "aspect_ratio": "16:9", **kw})


async def test_image_of_the_size_gemini_returns(provider, limiter, fake):
    answer = await provider.generate(gen(seed=7, temperature=0.4, system_instruction="house style"), limiter)
    assert [image.size for image in answer.images] == [(1376, 768)]
    assert answer.text == "Here is your image."
    assert answer.finish_reason == "STOP"
    assert answer.usage == {"prompt_tokens": 10, "output_tokens": 1126, "thoughts_tokens": 120, "text_tokens": 6,
                            "total_tokens": 1256}
    # Nano Banana 2 at 1K: $0.067 for the image, $0.50/M tokens in, $3/M for its text and thinking tokens
    assert answer.cost_usd == pytest.approx(0.067 + (10 * 0.50 + (6 + 120) * 3.00) / 1e6)
    call = fake.calls[0]
    assert (call.version, call.model, call.prompt, call.system) == ("v1beta", "gemini-3.1-flash-image",
                                                                    "a red bicycle", "house style")
    assert call.config["seed"] == 7 and call.config["temperature"] == 0.4
    assert call.config["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "1K"}


async def test_a_model_with_one_size_is_sent_no_size(provider, limiter, fake):
    answer = await provider.generate(gen(model="gemini-2.5-flash-image"), limiter)
    assert answer.images[0].size == (1344, 768) and answer.cost_usd == pytest.approx(0.039 + 10 * 0.30 / 1e6 +
                                                                                    6 * 2.50 / 1e6)
    assert fake.calls[0].config["imageConfig"] == {"aspectRatio": "16:9"}  # Nano Banana takes no imageSize


async def test_size_and_images_reach_the_server(provider, limiter, fake):
    refs = [Image.new("RGB", (40, 30), "blue"), Image.new("RGBA", (20, 20))]
    answer = await provider.generate(gen(model="gemini-3-pro-image", size="2K", aspect_ratio="1:1",
                                         images=refs), limiter)
    assert answer.images[0].size == (2048, 2048)
    assert fake.calls[0].images == [(40, 30), (20, 20)]
    assert fake.calls[0].config["imageConfig"] == {"aspectRatio": "1:1", "imageSize": "2K"}
    assert "Planning" not in answer.text  # thought parts are skipped


@pytest.mark.parametrize("style", ["rest", "sdk"])
async def test_both_base64_alphabets_and_mime_keys_are_read(provider, limiter, fake, style):
    fake.style = style
    answer = await provider.generate(gen(), limiter)
    assert answer.images[0].size == (1376, 768)


@pytest.mark.parametrize("fault", ["429", "503", "500", "slow"])
async def test_transient_faults_are_retried(gemini_env, sleeps, limiter, fault):
    from flowbanana.providers import GeminiProvider
    from flowbanana.providers.retry import RetryPolicy
    fake = gemini_env
    fake.slow_seconds = 3.0
    provider = GeminiProvider(timeout=0.5, retry=RetryPolicy(attempts=4), sleep=sleeps)
    fake.fail(fault, fault)
    notes = []
    answer = await provider.generate(gen(), limiter, notify=notes.append)
    await provider.aclose()
    assert answer.images[0].size == (1376, 768)
    assert answer.retries == 2 and provider.stats.retries == 2 and provider.stats.calls == 3
    assert len(sleeps.waits) == 2 and len(notes) == 2
    assert "retrying" in notes[0] and "attempt 2 of 4" in notes[0]


async def test_retry_honours_retry_info(provider, limiter, fake, sleeps):
    fake.retry_delay = "7s"
    fake.fail("429")
    await provider.generate(gen(), limiter)
    assert 7.0 <= sleeps.waits[0] <= 7.7  # the server's delay plus a little jitter, not our 2s backoff


async def test_a_wait_longer_than_allowed_fails_at_once(provider, limiter, fake, sleeps):
    fake.retry_delay = "3600s"
    fake.fail("429")
    with pytest.raises(NodeError) as error:
        await provider.generate(gen(), limiter)
    assert "wait 3600s" in error.value.message and "quota" in error.value.hint
    assert sleeps.waits == [] and provider.stats.calls == 1


async def test_backoff_grows_then_gives_up(provider, limiter, fake, sleeps):
    fake.fail("503", "503", "503", "503")
    with pytest.raises(NodeError) as error:
        await provider.generate(gen(), limiter)
    assert "503 UNAVAILABLE" in error.value.message and "overloaded" in error.value.message
    assert "after 3 attempts" in error.value.message
    assert provider.stats.calls == 3 and len(sleeps.waits) == 2
    assert 1.0 <= sleeps.waits[0] <= 2.0 and 2.0 <= sleeps.waits[1] <= 4.0


@pytest.mark.parametrize("fault, words", [
    ("blocked", ["blocked the prompt", "PROHIBITED_CONTENT"]),
    ("image_safety", ["IMAGE_SAFETY", "I can't create that image."]),
    ("text_only", ["text only", "I'd rather describe it: a cat."]),
])
async def test_refusals_are_errors_and_not_retried(provider, limiter, fake, sleeps, fault, words):
    fake.fail(fault)
    with pytest.raises(Refusal) as error:
        await provider.generate(gen(), limiter)
    assert all(w in error.value.message for w in words)
    assert "same answer" in error.value.hint
    assert provider.stats.calls == 1 and sleeps.waits == []


@pytest.mark.parametrize("reason, words", [
    ("MAX_TOKENS", "ran out of output tokens"),
    ("MALFORMED_RESPONSE", "malformed response"),
    ("RECITATION", "repeated existing material"),
    ("OTHER", "for a reason it does not give (OTHER)"),
    ("IMAGE_OTHER", "could not make the image"),
    ("NO_IMAGE", "answered without making an image"),
])
async def test_each_finish_reason_has_its_own_plain_message(provider, limiter, fake, sleeps, reason, words):
    fake.fail(f"finish:{reason}")
    with pytest.raises(Refusal) as error:
        await provider.generate(gen(), limiter)
    assert error.value.message == (f"Gemini {FINISH[reason][0]}, without an image (finish reason {reason}). "
                                   "The model said: 'I stopped here.'")
    assert words in error.value.message and error.value.hint == FINISH[reason][1]
    assert provider.stats.calls == 1 and sleeps.waits == []


async def test_an_answer_cut_short_is_kept_with_a_warning(provider, limiter, fake):
    fake.fail("cut_short")
    answer = await provider.generate(gen(), limiter)
    assert answer.images and answer.finish_reason == "MAX_TOKENS"
    assert answer.warnings == ["Gemini ran out of output tokens: its text may be cut short."]


@pytest.mark.parametrize("fault, words", [("429_day", "midnight Pacific"), ("429_free", "no free tier")])
async def test_a_quota_that_cannot_clear_costs_one_request_and_stops_the_model(provider, limiter, fake, sleeps, fault,
                                                                              words):
    fake.fail(fault)
    with pytest.raises(NodeError) as error:
        await provider.generate(gen(), limiter)
    assert "429 RESOURCE_EXHAUSTED" in error.value.message and words in error.value.hint
    assert provider.stats.calls == 1 and sleeps.waits == [] and len(fake.bodies_seen) == 1
    with pytest.raises(NodeError) as again:  # the rest of the run does not try this model again
        await provider.generate(gen(seed=2), limiter)
    assert again.value.message.startswith("not sent: an earlier call to gemini-3.1-flash-image in this run found its "
                                          "quota used up") and words in again.value.hint
    assert len(fake.bodies_seen) == 1
    other = await provider.generate(gen(model="gemini-3-pro-image", aspect_ratio="1:1"), limiter)
    assert other.images and len(fake.bodies_seen) == 2  # another model has its own quota


async def test_malformed_body_is_a_clear_error(provider, limiter, fake, sleeps):
    fake.fail("malformed")
    with pytest.raises(NodeError) as error:
        await provider.generate(gen(), limiter)
    assert "could not be read" in error.value.message
    assert provider.stats.calls == 1


@pytest.mark.parametrize("request_kw, status, words", [
    (dict(aspect_ratio="1:8", model="gemini-3-pro-image"), "400 INVALID_ARGUMENT", "Unsupported aspect ratio 1:8"),
    (dict(size="4K", model="gemini-2.5-flash-image-x"), "404 NOT_FOUND", "is not found"),
    (dict(model="gemini-3-pro-image-preview"), "404 NOT_FOUND", "is not found"),  # shut down on 2026-06-25
    (dict(images=[Image.new("RGB", (8, 8))] * 4, model="gemini-2.5-flash-image"), "400 INVALID_ARGUMENT",
     "at most 3 images"),
])
async def test_bad_requests_say_what_is_wrong_and_are_not_retried(provider, limiter, fake, request_kw, status, words):
    with pytest.raises(NodeError) as error:
        await provider.generate(gen(**request_kw), limiter)
    assert status in error.value.message and words in error.value.message
    assert provider.stats.calls == 1 and fake.calls == []


async def test_wrong_key_says_how_to_set_one(gemini_env, monkeypatch, limiter):
    from flowbanana.providers import GeminiProvider
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaWRONG-key-9876543210")
    provider = GeminiProvider()
    with pytest.raises(NodeError) as error:
        await provider.generate(gen(), limiter)
    await provider.aclose()
    assert "rejected the API key" in error.value.message and "GEMINI_API_KEY" in error.value.hint
    assert "AIzaWRONG" not in str(error.value)


async def test_alias_key_variable_is_used(fake, monkeypatch, limiter):
    from flowbanana.providers import GeminiProvider
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
    monkeypatch.setenv("NANO_BANANA_API_KEY", FAKE_KEY)
    provider = GeminiProvider()
    answer = await provider.generate(gen(), limiter)
    await provider.aclose()
    assert answer.images and fake.headers_seen[0]["x-goog-api-key"] == FAKE_KEY


async def test_the_key_never_leaks(provider, limiter, fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.fail("echo_key")
    with pytest.raises(NodeError) as error:
        await provider.generate(gen(), limiter)
    assert "[redacted]" in error.value.message
    assert FAKE_KEY not in str(error.value) and FAKE_KEY not in caplog.text
    assert all(FAKE_KEY not in body for body in fake.bodies_seen)  # only ever in the header


async def test_wrong_size_is_reported(provider, limiter, fake):
    fake.fail("wrong_size")
    answer = await provider.generate(gen(), limiter)
    assert answer.images[0].size == (640, 480)
    assert "640×480" in answer.warnings[0] and "1376×768" in answer.warnings[0]


async def test_text_model_answers_text(provider, limiter, fake):
    answer = await provider.generate(Request(model="gemini-flash-latest", prompt="describe", image=False,
                                             images=[Image.new("RGB", (10, 10))]), limiter)
    assert answer.text.startswith("A picture prompt from 1 image(s)") and answer.images == []
    assert "imageConfig" not in fake.calls[0].config and fake.calls[0].config["responseModalities"] == ["TEXT"]


async def test_thinking_and_search_reach_the_wire_and_sources_come_back(provider, limiter, fake):
    answer = await provider.generate(gen(thinking="minimal", search=("web", "image")), limiter)
    body = json.loads(fake.bodies_seen[0])  # the SDK sends these nested fields by their proto names
    assert body["generationConfig"]["thinkingConfig"] == {"thinking_level": "MINIMAL"}
    assert body["tools"] == [{"googleSearch": {"searchTypes": {"web_search": {}, "image_search": {}}}}]
    assert fake.calls[0].search == {"web", "image"}
    assert answer.sources == [{"title": "Weather today", "uri": "https://example.org/weather-today"},
                              {"title": "example.com", "uri": "https://example.com/landmarks"},
                              {"title": "A reference photo", "uri": "https://images.example.net/page"}]
    assert answer.searches == ["a red bicycle today", "a red bicycle photo"]
    without = await provider.generate(gen(), limiter)
    assert answer.cost_usd == pytest.approx(without.cost_usd + 2 * 0.014)  # each search query is paid


async def test_web_search_alone_is_the_tools_default(provider, limiter, fake):
    answer = await provider.generate(gen(model="gemini-3-pro-image", aspect_ratio="1:1", search=("web",)), limiter)
    assert json.loads(fake.bodies_seen[0])["tools"] == [{"googleSearch": {}}]
    assert len(answer.sources) == 2 and "thinkingConfig" not in fake.calls[0].config


async def test_the_fake_refuses_a_thinking_level_the_model_does_not_take(provider, limiter, fake):
    with pytest.raises(NodeError) as error:  # what the node's check prevents, as Google answers it
        await provider.generate(gen(model="gemini-3-pro-image", aspect_ratio="1:1", thinking="high"), limiter)
    assert "400 INVALID_ARGUMENT" in error.value.message and "Thinking level HIGH" in error.value.message
