"""The gemini node pack in real workflows: the fake server through the SDK, and the offline preview."""
from __future__ import annotations

from contextlib import asynccontextmanager

import pytest
from PIL import Image, ImageChops

from flowbanana import provenance
from flowbanana.errors import WorkflowInvalid
from flowbanana.providers import MODELS, OfflineProvider
from fake_gemini import FAKE_KEY, PROMPT_TOKENS, TEXT_TOKENS, THOUGHT_TOKENS

GEN = {"p": {"type": "text.text", "params": {"text": "a red bicycle"}},
       "gen": {"type": "gemini.generate", "params": {"aspect_ratio": "16:9", "count": 2}, "inputs": {"prompt": "p.text"}},
       "save": {"type": "image.save", "params": {"filename": "bike_{index}.png"}, "inputs": {"image": "gen.image"}}}


def all_bytes(folder):
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


async def test_workflow_file_to_written_images_through_the_sdk(run_workflow, provider, fake, tmp_path):
    result, events = await run_workflow(GEN, provider)
    assert result.ok, result.nodes["gen"].error
    files = sorted(result.files)
    assert [f.name for f in files] == ["bike_1.png", "bike_2.png"]
    assert all(Image.open(f).size == (1376, 768) for f in files)
    assert sorted(c.config["seed"] for c in fake.calls) == [0, 1]  # variations get consecutive seeds
    meta = result.nodes["gen"].meta
    assert meta["provider"] == "gemini" and meta["model"] == "gemini-3.1-flash-image"  # Nano Banana 2, the default
    assert meta["finish_reason"] == "STOP" and meta["calls"] == 2 and meta["retries"] == 0
    assert meta["usage"]["output_tokens"] == 2 * (1120 + TEXT_TOKENS) and meta["usage"]["thoughts_tokens"] == 240
    # the image at its size, plus input tokens and text and thinking output tokens at the model's rates
    rate_in, rate_out = MODELS["gemini-3.1-flash-image"].price_per_mtok
    one = 0.067 + (PROMPT_TOKENS * rate_in + (TEXT_TOKENS + THOUGHT_TOKENS) * rate_out) / 1e6
    assert meta["cost"] == pytest.approx(2 * one)
    again, _ = await run_workflow(GEN, provider)
    assert again.nodes["gen"].status == "cached" and len(fake.calls) == 2
    assert FAKE_KEY.encode() not in all_bytes(tmp_path)  # not in the cache, the outputs or the workflow
    embedded = [provenance.read(f) for f in files]  # the images' metadata (compressed, so read it back)
    assert all(run["providers"] == ["gemini"] for _, run in embedded)
    assert FAKE_KEY not in repr(embedded)
    assert FAKE_KEY not in repr([e.to_json() for e in events]) + repr(result.to_json())


async def test_a_refusal_fails_its_node_and_only_what_depends_on_it(run_workflow, provider, fake):
    nodes = {**GEN, "gen": {**GEN["gen"], "params": {"count": 1}},
             "other": {"type": "text.template", "params": {"template": "still {x}"}, "inputs": {"x": "p.text"}}}
    fake.fail("image_safety")
    result, _ = await run_workflow(nodes, provider)
    gen = result.nodes["gen"]
    assert gen.status == "failed" and "IMAGE_SAFETY" in gen.error and "I can't create that image." in gen.error
    assert result.nodes["save"].status == "skipped" and result.nodes["other"].status == "done"
    assert result.files == []


async def test_retries_are_recorded_and_each_attempt_takes_a_limiter_slot(run_workflow, provider, fake, sleeps):
    slots = []

    class CountingLimiter:
        @asynccontextmanager
        async def slot(self, model):
            slots.append(model)
            yield

    fake.fail("503")
    result, events = await run_workflow({**GEN, "gen": {**GEN["gen"], "params": {"count": 1}}}, provider)
    assert result.nodes["gen"].meta["retries"] == 1
    assert any(e.kind == "node_warning" and "retrying" in e.data["message"] for e in events)
    limiter = CountingLimiter()
    fake.fail("503", "500")
    from flowbanana.providers import Request
    await provider.generate(Request(model="gemini-3.1-flash-image", prompt="x", aspect_ratio="1:1"), limiter)
    assert slots == ["gemini-3.1-flash-image"] * 3


async def test_concurrency_bounds_requests_in_flight(run_workflow, provider, fake):
    fake.latency = 0.05
    result, _ = await run_workflow({**GEN, "gen": {**GEN["gen"], "params": {"count": 6}}}, provider, concurrency=2)
    assert result.ok and len(fake.calls) == 6
    assert fake.peak <= 2


@pytest.mark.parametrize("params, words", [
    ({"model": "nano-banana", "size": "4K"}, "param 'size': Nano Banana (gemini-2.5-flash-image) does not make 4K"),
    ({"model": "nano-banana-pro", "aspect_ratio": "8:1"}, "Nano Banana Pro (gemini-3-pro-image) does not make 8:1"),
    ({"model": "gemini-3.5-flash"}, "Gemini 3.5 Flash (gemini-3.5-flash) is not an image model"),
])
async def test_requests_a_model_cannot_take_are_invalid_before_anything_runs(run_workflow, provider, fake, params,
                                                                              words):
    nodes = {**GEN, "gen": {**GEN["gen"], "params": {"count": 1, **params}}}
    with pytest.raises(WorkflowInvalid) as invalid:
        await run_workflow(nodes, provider)
    [problem] = invalid.value.problems
    assert problem.node == "gen" and words in problem.message and problem.hint
    assert fake.bodies_seen == []


async def test_a_linked_model_is_checked_when_the_node_runs(run_workflow, provider, fake):
    """A model id that arrives through a link is unknown at validation time: the node checks it before calling."""
    nodes = {**GEN, "m": {"type": "text.text", "params": {"text": "gemini-3-pro-image"}},
             "gen": {**GEN["gen"], "params": {"count": 1, "aspect_ratio": "8:1"},
                     "inputs": {"prompt": "p.text", "model": "m.text"}}}
    result, _ = await run_workflow(nodes, provider)
    assert "Nano Banana Pro (gemini-3-pro-image) does not make 8:1 images" in result.nodes["gen"].error
    assert fake.bodies_seen == []


async def test_an_unknown_model_is_sent_with_a_warning(run_workflow, provider, fake):
    nodes = {**GEN, "gen": {**GEN["gen"], "params": {"count": 1, "model": "gemini-9-image"}}}
    result, events = await run_workflow(nodes, provider)
    assert any("not in flowbanana's catalogue" in e.data.get("message", "") for e in events)
    assert "404 NOT_FOUND" in result.nodes["gen"].error and "gemini-9-image" in result.nodes["gen"].hint


async def test_edit_sends_the_image_and_keeps_its_shape(run_workflow, provider, fake, photo):
    nodes = {"load": {"type": "image.load", "params": {"path": "photo.png"}},
             "edit": {"type": "gemini.edit", "params": {"instruction": "make it night"},
                      "inputs": {"image": "load.image"}},
             "save": {"type": "image.save", "inputs": {"image": "edit.image"}}}
    result, _ = await run_workflow(nodes, provider)
    assert result.ok
    assert fake.calls[0].images == [(120, 90)] and "aspectRatio" not in fake.calls[0].config.get("imageConfig", {})
    assert result.output("edit", "image").size == (1200, 896)  # 4:3, the ratio nearest 120×90


@pytest.mark.parametrize("use_fake", [True, False], ids=["gemini", "offline"])
async def test_inpaint_leaves_every_pixel_outside_the_mask_untouched(run_workflow, provider, fake, photo, use_fake):
    nodes = {"load": {"type": "image.load", "params": {"path": "photo.png"}},
             "mask": {"type": "mask.shape", "params": {"shape": "ellipse"}, "inputs": {"image": "load.image"}},
             "fill": {"type": "gemini.inpaint", "params": {"instruction": "a cat", "feather": 6},
                      "inputs": {"image": "load.image", "mask": "mask.mask"}},
             "save": {"type": "image.save", "inputs": {"image": "fill.image"}}}
    result, _ = await run_workflow(nodes, provider if use_fake else OfflineProvider())
    assert result.ok, result.nodes["fill"].error
    out, mask = result.output("fill", "image"), result.output("mask", "mask")
    assert out.size == photo.size
    outside = Image.eval(mask, lambda v: 255 if v == 0 else 0)
    diff = ImageChops.difference(out, photo)
    assert Image.composite(diff, Image.new("RGB", photo.size), outside).getbbox() is None  # outside: identical
    assert Image.composite(diff, Image.new("RGB", photo.size), mask).getbbox() is not None  # inside: changed
    if use_fake:
        assert fake.calls[0].images == [(120, 90), (120, 90)]  # the picture and its outlined copy
        assert "a cat" in fake.calls[0].prompt and "outlined" in fake.calls[0].prompt


async def test_describe_and_prompt_answer_text(run_workflow, provider, fake, photo):
    nodes = {"load": {"type": "image.load", "params": {"path": "photo.png"}},
             "what": {"type": "gemini.describe", "inputs": {"images": "load.image"}},
             "better": {"type": "gemini.prompt", "inputs": {"text": "what.text"}},
             "show": {"type": "text.template", "params": {"template": "{t}"}, "inputs": {"t": "better.text"}},
             "gen": {"type": "gemini.generate", "inputs": {"prompt": "better.text"}},
             "save": {"type": "image.save", "inputs": {"image": "gen.image"}}}
    result, _ = await run_workflow(nodes, provider)
    assert result.ok
    assert result.output("what", "text").startswith("A picture prompt from 1 image(s)")
    assert [c.model for c in fake.calls] == ["gemini-flash-latest", "gemini-flash-latest", "gemini-3.1-flash-image"]
    assert result.output("what", "text")[:40] in fake.calls[1].prompt


async def test_a_run_without_a_provider_says_so(catalogue, make_workflow, tmp_path):
    from flowbanana.executor import Execution, RunOptions
    result = await Execution(make_workflow(GEN), catalogue, RunOptions(out_dir=tmp_path / "out")).run()
    assert "no model provider" in result.nodes["gen"].error


async def test_offline_workflow_runs_without_key_and_says_what_it_is(run_workflow):
    result, _ = await run_workflow(GEN, "auto")
    assert result.ok
    meta = result.nodes["gen"].meta
    assert meta["provider"] == "offline preview" and meta["cost"] == 0.0
    assert result.output("gen", "text").startswith("(offline preview)")
    assert [Image.open(f).size for f in result.files] == [(1376, 768)] * 2
    assert all(provenance.read(f)[1]["providers"] == ["offline preview"] for f in result.files)


async def test_a_failed_variation_stops_the_ones_still_waiting(run_workflow, provider, fake):
    fake.fail("blocked")
    result, _ = await run_workflow({**GEN, "gen": {**GEN["gen"], "params": {"count": 4}}}, provider, concurrency=1)
    assert "blocked the prompt" in result.nodes["gen"].error
    assert len(fake.bodies_seen) == 1  # the three waiting for a slot were never sent


@pytest.mark.parametrize("named, sent", [("gemini-3-pro-image-preview", "gemini-3-pro-image"),
                                         ("gemini-3.1-flash-image-preview", "gemini-3.1-flash-image")])
async def test_a_retired_id_runs_on_its_successor_with_a_warning(run_workflow, provider, fake, named, sent):
    nodes = {**GEN, "gen": {**GEN["gen"], "params": {"count": 1, "model": named}}}
    result, events = await run_workflow(nodes, provider)
    assert result.ok and [c.model for c in fake.calls] == [sent]  # the retired id never reaches the API
    warned = [e.data["message"] for e in events if e.kind == "node_warning" and e.node == "gen"]
    assert warned == [f"{named} was shut down by Google on 2026-06-25; it is sent as its successor {sent} "
                      f"({MODELS[sent].name})."]
    assert result.nodes["gen"].meta["model"] == sent


async def test_an_alias_and_its_id_share_one_cached_result(run_workflow, provider, fake):
    first, events = await run_workflow({**GEN, "gen": {**GEN["gen"], "params": {"count": 1, "model": "nano-banana-pro"}}},
                                       provider)
    assert first.ok and [c.model for c in fake.calls] == ["gemini-3-pro-image"]
    assert not [e for e in events if e.kind == "node_warning"]  # an alias is a name, not a problem
    again, _ = await run_workflow({**GEN, "gen": {**GEN["gen"], "params": {"count": 1,
                                                                          "model": "gemini-3-pro-image-preview"}}},
                                  provider)
    assert again.nodes["gen"].status == "cached" and len(fake.calls) == 1


async def test_a_per_day_quota_stops_the_other_calls_to_the_model_after_one_request(run_workflow, provider, fake,
                                                                                     sleeps):
    fake.fail("429_day")
    nodes = {**GEN, "gen": {**GEN["gen"], "params": {"count": 1}},
             "gen2": {**GEN["gen"], "params": {"count": 1, "seed": 5}},
             "save2": {"type": "image.save", "params": {"filename": "b.png"}, "inputs": {"image": "gen2.image"}}}
    result, _ = await run_workflow(nodes, provider, concurrency=1)
    errors = sorted(result.nodes[n].error for n in ("gen", "gen2"))
    assert "429 RESOURCE_EXHAUSTED" in errors[0] and errors[1].startswith("not sent: an earlier call to "
                                                                           "gemini-3.1-flash-image")
    assert all("midnight Pacific" in result.nodes[n].hint for n in ("gen", "gen2"))
    assert len(fake.bodies_seen) == 1 and sleeps.waits == []


@pytest.mark.parametrize("params, words", [
    ({"model": "nano-banana-pro", "thinking": "minimal"},
     "param 'thinking': Nano Banana Pro (gemini-3-pro-image) does not take the thinking level 'minimal'."),
    ({"model": "nano-banana-2", "thinking": "medium"},
     "param 'thinking': Nano Banana 2 (gemini-3.1-flash-image) does not take the thinking level 'medium'."),
    ({"model": "nano-banana-2-lite", "search": "web"},
     "param 'search': Nano Banana 2 Lite (gemini-3.1-flash-lite-image) does not take web search."),
    ({"model": "nano-banana-pro", "search": "web+images"},
     "param 'search': Nano Banana Pro (gemini-3-pro-image) does not take web+images search."),
])
async def test_thinking_or_search_a_model_does_not_take_is_invalid(run_workflow, provider, fake, params, words):
    with pytest.raises(WorkflowInvalid) as invalid:
        await run_workflow({**GEN, "gen": {**GEN["gen"], "params": {"count": 1, **params}}}, provider)
    [problem] = invalid.value.problems
    assert words in problem.message and problem.port == next(iter(set(params) - {"model"}))
    assert fake.bodies_seen == []


async def test_grounding_sources_reach_the_text_the_record_and_the_saved_image(run_workflow, provider, fake):
    nodes = {**GEN, "gen": {**GEN["gen"], "params": {"count": 1, "model": "nano-banana-2.1", "thinking": "medium",
                                                     "search": "web+images"}}}
    result, _ = await run_workflow(nodes, provider)
    assert result.ok and fake.calls[0].search == {"web", "image"}
    assert fake.calls[0].config["thinkingConfig"] == {"thinking_level": "MEDIUM"}
    meta = result.nodes["gen"].meta
    assert (meta["thinking"], meta["search"]) == ("medium", "web+images")
    assert [s["uri"] for s in meta["sources"]] == ["https://example.org/weather-today", "https://example.com/landmarks",
                                                  "https://images.example.net/page"]
    assert meta["searches"] == ["a red bicycle today", "a red bicycle photo"]
    assert result.output("gen", "text").endswith("Sources:\n- Weather today: https://example.org/weather-today\n"
                                                 "- example.com: https://example.com/landmarks\n"
                                                 "- A reference photo: https://images.example.net/page")
    _, record = provenance.read(result.files[0])
    [step] = [s for s in record["steps"] if s["node"] == "gen"]
    assert step["sources"] == meta["sources"] and step["search"] == "web+images"
