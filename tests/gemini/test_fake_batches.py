"""The fake Gemini's Batch and Files APIs answer google-genai's own `client.aio.batches` and `client.aio.files`."""
from __future__ import annotations

import io
import json

import pytest
from google import genai
from google.genai import types

from fake_batches import END_STATES
from fake_gemini import FAKE_KEY

IMAGE_CONFIG = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                           image_config=types.ImageConfig(aspect_ratio="16:9"))


@pytest.fixture
async def aio(fake):
    client = genai.Client(api_key=FAKE_KEY, http_options=types.HttpOptions(base_url=fake.url, api_version="v1beta"))
    yield client.aio
    await client.aio.aclose()


def inline(*prompts: str) -> list[types.InlinedRequest]:
    return [types.InlinedRequest(contents=[p], config=IMAGE_CONFIG, metadata={"key": f"row-{i}"})
            for i, p in enumerate(prompts)]


async def test_an_inline_job_runs_pending_running_succeeded(aio, batches):
    batches.hold()
    job = await aio.batches.create(model="gemini-2.5-flash-image", src=inline("a cat", "a dog"),
                                   config={"display_name": "two pets"})
    assert (job.state, job.display_name, job.model) == (types.JobState.JOB_STATE_PENDING, "two pets",
                                                        "models/gemini-2.5-flash-image")
    assert (await aio.batches.get(name=job.name)).state == types.JobState.JOB_STATE_RUNNING
    batches.release()
    done = await aio.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    answers = done.dest.inlined_responses
    assert [a.metadata["key"] for a in answers] == ["row-0", "row-1"]
    image = answers[0].response.candidates[0].content.parts[-1].inline_data
    assert image.mime_type == "image/png" and image.data.startswith(b"\x89PNG")
    assert [c.prompt for c in batches.calls] == ["a cat", "a dog"] and not batches.gemini.calls


async def test_per_request_errors_fail_only_their_items(aio, batches):
    batches.fail_requests("busy", "429")
    batches.fail_requests("unsafe", "image_safety")
    job = await aio.batches.create(model="gemini-2.5-flash-image", src=inline("fine", "busy", "unsafe"),
                                   config={"display_name": "mixed"})
    answers = (await aio.batches.get(name=job.name)).dest.inlined_responses
    assert answers[0].error is None and answers[0].response.candidates[0].finish_reason == "STOP"
    assert (answers[1].error.code, answers[1].response) == (8, None)  # RESOURCE_EXHAUSTED, as a gRPC code
    assert answers[2].response.candidates[0].finish_reason == "IMAGE_SAFETY"


async def test_a_request_the_model_refuses_is_an_invalid_argument_item(aio, batches):
    bad = types.GenerateContentConfig(response_modalities=["TEXT", "IMAGE"],
                                      image_config=types.ImageConfig(aspect_ratio="1:8"))
    job = await aio.batches.create(model="gemini-2.5-flash-image", src=[
        types.InlinedRequest(contents=["tall"], config=bad, metadata={"key": "k"})], config={"display_name": "x"})
    error = (await aio.batches.get(name=job.name)).dest.inlined_responses[0].error
    assert error.code == 3 and "Unsupported aspect ratio 1:8" in error.message


async def test_a_jsonl_file_job_uploads_and_its_results_download(aio, batches):
    lines = "".join(json.dumps({"key": f"line-{i}", "request": {
        "contents": [{"role": "user", "parts": [{"text": text}]}],
        "generationConfig": {"responseModalities": ["TEXT", "IMAGE"], "imageConfig": {"aspectRatio": "1:1"}}}}) + "\n"
        for i, text in enumerate(["one", "two"]))
    uploaded = await aio.files.upload(file=io.BytesIO(lines.encode()),
                                      config=types.UploadFileConfig(display_name="requests", mime_type="jsonl"))
    assert uploaded.name.startswith("files/") and uploaded.size_bytes == len(lines)
    assert batches.uploads[0].data == lines.encode()
    job = await aio.batches.create(model="gemini-2.5-flash-image", src=uploaded.name, config={"display_name": "f"})
    done = await aio.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED and done.dest.inlined_responses is None
    results = [json.loads(line) for line in (await aio.files.download(file=done.dest.file_name)).splitlines()]
    assert [r["key"] for r in results] == ["line-0", "line-1"]
    assert results[0]["response"]["candidates"][0]["finishReason"] == "STOP"
    with pytest.raises(genai.errors.ClientError):  # as at Google, an uploaded file cannot be downloaded
        await aio.files.download(file=uploaded.name)


@pytest.mark.parametrize("end", [s for s in END_STATES if s != "SUCCEEDED"])
async def test_jobs_can_end_failed_cancelled_or_expired_without_output(aio, batches, end):
    batches.end_with(end)
    job = await aio.batches.create(model="gemini-2.5-flash-image", src=inline("a"), config={"display_name": "x"})
    done = await aio.batches.get(name=job.name)
    assert done.state == f"JOB_STATE_{end}" and done.dest is None


async def test_jobs_are_listed_newest_first_and_can_be_cancelled(aio, batches):
    batches.hold()
    first = await aio.batches.create(model="gemini-2.5-flash-image", src=inline("a"), config={"display_name": "1"})
    second = await aio.batches.create(model="gemini-2.5-flash-image", src=inline("b"), config={"display_name": "2"})
    listed = [job.display_name async for job in await aio.batches.list(config={"page_size": 1})]
    assert listed == ["2", "1"]  # over two pages
    await aio.batches.cancel(name=first.name)
    assert (await aio.batches.get(name=first.name)).state == types.JobState.JOB_STATE_CANCELLED
    assert (await aio.batches.get(name=second.name)).state == types.JobState.JOB_STATE_RUNNING


async def test_an_inline_job_over_the_size_limit_is_refused(aio, batches):
    batches.inline_limit = 1000
    with pytest.raises(genai.errors.ClientError, match="payload size exceeds"):
        await aio.batches.create(model="gemini-2.5-flash-image", src=inline("x" * 2000), config={"display_name": "x"})
    assert not batches.creates


async def test_a_delay_keeps_a_job_pending_first(aio, batches):
    batches.delay = 600.0  # half of it pending, then running, then the end state
    job = await aio.batches.create(model="gemini-2.5-flash-image", src=inline("a"), config={"display_name": "x"})
    assert (await aio.batches.get(name=job.name)).state == types.JobState.JOB_STATE_PENDING
