"""Gemini: generate, edit and inpaint images with Nano Banana models; describe images and improve prompts.

Every node asks the run's provider (Gemini, or the offline preview when no key is set) through
the run's shared limiter, records what happened (provider, model, finish reason, tokens, cost,
retries) and fails with Gemini's reason rather than ever returning a blank image.
"""
from __future__ import annotations

import asyncio

from PIL import Image, ImageChops, ImageFilter

from flowbanana.node_api import IMAGE, MASK, SEED_MAX, TEXT, Input, Issue, NodeError, Output, Pack, Param
from flowbanana.providers import (ALL_RATIOS, ALL_SIZES, DEFAULT_IMAGE_MODEL, DEFAULT_TEXT_MODEL, IMAGE_MODELS,
                                  MODELS, SEARCH, TEXT_MODELS, THINKING, Answer, Request, nearest_ratio, resolve,
                                  sent_id)

pack = Pack("gemini", version="0.1.0", distribution="flowbanana",
            description="Gemini image models (Nano Banana): generate, edit, inpaint; describe and prompt.")

_ALIASES = ", ".join(a for m in MODELS.values() if m.image for a in m.aliases)
_IMAGE_MODEL = Param.text("model", DEFAULT_IMAGE_MODEL, sent_as=sent_id,
                          description=f"Gemini image model id: {', '.join(IMAGE_MODELS)}, or an alias ({_ALIASES}). "
                                      "A retired id is sent as its successor; others are sent as typed.")
_TEXT_MODEL = Param.text("model", DEFAULT_TEXT_MODEL, sent_as=sent_id,
                         description=f"Gemini text model id: {', '.join(TEXT_MODELS)}. A retired id is sent as its "
                                     "successor; others are sent as typed.")
_SIZE = Param.choice("size", ALL_SIZES, "1K", description="Output size; 1K is about a megapixel. "
                     "Which sizes the model takes is checked before anything runs.")
_SEED = Param.seed(description="Best effort: Gemini does not promise identical images for a seed.")
_TEMPERATURE = Param.float("temperature", 1.0, min=0.0, max=2.0, step=0.05,
                           description="Higher is more varied.")
_THINKING = Param.choice("thinking", THINKING, "default",
                         description="How much the model thinks before drawing: default leaves it to the model; "
                                     "which levels a model takes is checked before anything runs.")
_SEARCH = Param.choice("search", tuple(SEARCH), "off",
                       description="Ground the picture in Google Search (web pages, or web pages and images); the "
                                   "sources come back in the text and the run record. Each search is paid.")
_REFERENCES = Input("references", IMAGE, optional=True, list=True,
                    description="Further images to follow (style, subject); the model's limit is checked.")
_INSTRUCTION_DESCRIBE = "Describe this image in detail, as a prompt that would recreate it. Answer with the prompt only."
_INSTRUCTION_PROMPT = ("Rewrite this into a detailed, vivid prompt for an image model: subject, setting, light, "
                       "camera and style. Answer with the prompt only.")


def model_issues(params: dict, *, image: bool = True, images: int | None = None) -> tuple:
    """(the model's catalogue entry or None, Issues): what the model named in `params` does not take.

    Params absent from `params` (fed by links, so unknown at validation time) are not judged, and
    neither is the number of input images unless `images` says it. The nodes' `check` and their run share it.
    """
    model_id = params.get("model")
    if model_id is None:
        return None, []
    model_id = model_id.strip()
    if not model_id:
        return None, [Issue("no model is set.", f"Use {DEFAULT_IMAGE_MODEL if image else DEFAULT_TEXT_MODEL}.",
                            param="model")]
    info, notice = resolve(model_id, image)
    retired = info.id != model_id and model_id not in info.aliases
    issues = [Issue(notice, f"Set the model to {info.id} (the editor offers to)." if retired else "", param="model",
                    warning=True)] if notice else []
    if not info.known:
        return info, issues
    named = f"{info.name} ({info.id})"
    if info.image != image:
        kind, others = ("an image", IMAGE_MODELS) if image else ("a text", TEXT_MODELS)
        return info, issues + [Issue(f"{named} is not {kind} model.", f"Use one of: {', '.join(others)}.",
                                     param="model")]
    ratio = params.get("aspect_ratio")
    if ratio and ratio != "auto" and ratio not in info.aspect_ratios:
        issues.append(Issue(f"{named} does not make {ratio} images.",
                            f"Its aspect ratios: {', '.join(info.aspect_ratios)}.", param="aspect_ratio"))
    size = params.get("size")
    if image and size and size not in info.sizes:
        bigger = [m.id for m in MODELS.values() if m.image and m.status == "live" and size in m.sizes]
        issues.append(Issue(f"{named} does not make {size} images.", f"Its sizes: {', '.join(info.sizes)}"
                            + (f". For {size} use one of: {', '.join(bigger)}." if bigger else "."), param="size"))
    thinking = params.get("thinking")
    if thinking and thinking != "default" and thinking not in info.thinking:
        issues.append(Issue(f"{named} does not take the thinking level {thinking!r}.",
                            f"Its levels: {', '.join(info.thinking)}." if info.thinking else
                            "It has no thinking level to set: leave thinking at default.", param="thinking"))
    search = params.get("search")
    if search and not set(SEARCH.get(search, ())) <= set(info.grounding):
        issues.append(Issue(f"{named} does not take {search} search.",
                            f"It takes {' and '.join(info.grounding)} search only." if info.grounding else
                            "It has no Google Search grounding: set search to off, or use Nano Banana 2 or Pro.",
                            param="search"))
    if image and images is not None and images > info.max_references:
        issues.append(Issue(f"{images} input images is more than {named} takes ({info.max_references}).",
                            "Link fewer reference images, or use a model that takes more (Nano Banana 2 or Pro: 14)."))
    return info, issues


def _check(image: bool):
    """The `check=` of a Gemini node: its model, ratio and size, before anything runs."""
    return lambda params: model_issues(params, image=image)[1]


def _check_model(ctx, params: dict, *, image: bool = True, images: int = 0):
    """At run time: the model's entry, after checking the request fits it; warnings go on the node."""
    info, issues = model_issues(params, image=image, images=images)
    errors = [i for i in issues if not i.warning]
    if errors:
        raise NodeError(errors[0].message, errors[0].hint)
    for issue in issues:
        ctx.warn(issue.message)
    return info


@pack.node("gemini.generate", keywords=("text to image", "txt2img", "create", "draw", "nano banana"),
           title="Generate image",
           description="Makes images from a prompt and optional reference images. With count above 1 it makes "
                       "that many variations at once, and the output is a list.",
           inputs=[_REFERENCES],
           params=[Param.multiline("prompt", "", description="What to make; link a TEXT into it to build it."),
                   _IMAGE_MODEL,
                   Param.choice("aspect_ratio", ALL_RATIOS, "1:1", description="Width:height of the result."),
                   _SIZE, _SEED, _TEMPERATURE, _THINKING, _SEARCH,
                   Param.multiline("system_instruction", "", optional=True,
                                   description="Standing instructions, e.g. a house style."),
                   Param.int("count", 1, min=1, max=8, description="Variations: one request each.")],
           outputs=[Output("image", IMAGE, list=True, length="count"),
                    Output("text", TEXT, description="What the model said.")],
           uses_provider=True, check=_check(image=True))
async def generate(prompt, model, aspect_ratio, size, seed, temperature, thinking, search, system_instruction, count,
                   references, ctx):
    if not prompt.strip():
        raise NodeError("the prompt is empty.", "Type a prompt in the node, or link a TEXT into 'prompt'.")
    info = _check_model(ctx, dict(model=model, aspect_ratio=aspect_ratio, size=size, thinking=thinking,
                                  search=search), images=len(references))
    requests = [Request(model=info.id, prompt=prompt, images=list(references), aspect_ratio=aspect_ratio, size=size,
                        seed=(seed + i) % (SEED_MAX + 1), temperature=temperature, **_reasoning(thinking, search),
                        system_instruction=system_instruction or "", origin=ctx.node_id) for i in range(count)]
    tasks = [asyncio.create_task(_ask(ctx, r)) for r in requests]
    try:
        answers = await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:  # one variation failed: stop paying for the others
            task.cancel()
        raise
    return {"image": [image for a in answers for image in a.images[:1]], "text": _joined(answers)}


def _reasoning(thinking: str, search: str) -> dict:
    """The Request fields for the thinking and search params ("default" and "off" send nothing)."""
    return {"thinking": None if thinking == "default" else thinking, "search": SEARCH[search]}


@pack.node("gemini.edit", keywords=("img2img", "image to image", "modify", "change", "nano banana"),
           title="Edit image",
           description="Changes an image as instructed (\"replace the background with a beach\"), optionally "
                       "following further reference images.",
           inputs=[Input("image", IMAGE), _REFERENCES],
           params=[Param.multiline("instruction", "", description="What to change."), _IMAGE_MODEL,
                   Param.choice("aspect_ratio", ("auto",) + ALL_RATIOS, "auto",
                                description="auto keeps the input's shape."),
                   _SIZE, _SEED, _TEMPERATURE, _THINKING, _SEARCH],
           outputs=[Output("image", IMAGE), Output("text", TEXT)], uses_provider=True, check=_check(image=True))
async def edit(image, references, instruction, model, aspect_ratio, size, seed, temperature, thinking, search, ctx):
    if not instruction.strip():
        raise NodeError("the instruction is empty.", "Say what to change, e.g. \"make the sky stormy\".")
    ratio = None if aspect_ratio == "auto" else aspect_ratio
    info = _check_model(ctx, dict(model=model, aspect_ratio=ratio, size=size, thinking=thinking, search=search),
                        images=1 + len(references))
    answer = await _ask(ctx, Request(model=info.id, prompt=instruction, images=[image, *references],
                                     aspect_ratio=ratio, size=size, seed=seed, temperature=temperature,
                                     **_reasoning(thinking, search), caption=instruction, origin=ctx.node_id))
    return {"image": answer.images[0], "text": _joined([answer])}


@pack.node("gemini.inpaint", keywords=("fill", "remove object", "retouch", "mask edit"),
           title="Inpaint",
           description="Changes only the masked (white) area, keeping every other pixel of the original. The model "
                       "sees the image and a copy with the area outlined, and its answer is blended back through the "
                       "mask.",
           inputs=[Input("image", IMAGE), Input("mask", MASK, description="White where to change.")],
           params=[Param.multiline("instruction", "", description="What to put in the masked area."),
                   Param.float("feather", 8.0, min=0.0, max=256.0, step=1.0,
                               description="Softens the blend inside the mask's edge, in pixels."),
                   _IMAGE_MODEL, _SIZE, _SEED, _TEMPERATURE],
           outputs=[Output("image", IMAGE), Output("text", TEXT)], uses_provider=True, check=_check(image=True))
async def inpaint(image, mask, instruction, feather, model, size, seed, temperature, ctx):
    if not instruction.strip():
        raise NodeError("the instruction is empty.", "Say what to put in the masked area.")
    mask = mask.convert("L")
    if mask.size != image.size:
        ctx.warn(f"the mask is {mask.width}×{mask.height} but the image {image.width}×{image.height}; "
                 "the mask was stretched to fit.")
        mask = mask.resize(image.size, Image.Resampling.BILINEAR)
    if mask.getbbox() is None:
        raise NodeError("the mask is empty (all black), so there is nothing to inpaint.",
                        "Paint the area to change white, or check the mask node's shape and position.")
    info = _check_model(ctx, dict(model=model, size=size), images=2)
    ratio = nearest_ratio(*image.size, info.aspect_ratios)
    guide = await ctx.run_blocking(outline, image, mask)
    prompt = (f"The second image is the first with one area outlined in magenta. Edit only that area of the first "
              f"image: {instruction}. Keep everything outside it exactly as it is, and return the whole first "
              f"picture, without any outline.")
    answer = await _ask(ctx, Request(model=info.id, prompt=prompt, images=[image, guide], aspect_ratio=ratio,
                                     size=size, seed=seed, temperature=temperature, caption=instruction,
                                     origin=ctx.node_id))
    result = await ctx.run_blocking(composite, image, answer.images[0], mask, feather)
    return {"image": result, "text": answer.text}


@pack.node("gemini.describe", keywords=("caption", "img2txt", "interrogate", "image to prompt"),
           title="Describe image",
           description="Writes what one or more images show, e.g. as a prompt to recreate or vary them.",
           inputs=[Input("images", IMAGE, list=True, description="One image or several.")],
           params=[Param.multiline("instruction", _INSTRUCTION_DESCRIBE), _TEXT_MODEL, _TEMPERATURE],
           outputs=[Output("text", TEXT)], uses_provider=True, check=_check(image=False))
async def describe(images, instruction, model, temperature, ctx):
    if not images:
        raise NodeError("no image to describe.", "Link an image into 'images'.")
    info = _check_model(ctx, dict(model=model), image=False, images=len(images))
    answer = await _ask(ctx, Request(model=info.id, prompt=instruction, images=list(images), image=False,
                                     temperature=temperature, caption=instruction, origin=ctx.node_id))
    return answer.text


@pack.node("gemini.prompt", keywords=("enhance", "expand", "rewrite", "prompt helper"),
           title="Improve prompt",
           description="Rewrites a short idea into a detailed image prompt with a Gemini text model.",
           params=[Param.multiline("text", "", description="The idea; link a TEXT into it."),
                   Param.multiline("instruction", _INSTRUCTION_PROMPT), _TEXT_MODEL, _TEMPERATURE],
           outputs=[Output("text", TEXT)], uses_provider=True, check=_check(image=False))
async def prompt(text, instruction, model, temperature, ctx):
    if not text.strip():
        raise NodeError("there is no text to improve.", "Type an idea in 'text', or link a TEXT into it.")
    info = _check_model(ctx, dict(model=model), image=False)
    answer = await _ask(ctx, Request(model=info.id, prompt=f"{instruction}\n\n{text}", image=False,
                                     temperature=temperature, caption=text, origin=ctx.node_id))
    return answer.text


async def _ask(ctx, request: Request) -> Answer:
    """One call through the run's provider and limiter, recorded on this node's result."""
    provider = ctx.resources.get("provider")
    if provider is None:
        raise NodeError("this run has no model provider.", "Run it with `flowbanana run` or flowbanana.run(), which "
                        "choose one; in your own code put one in RunOptions.resources['provider'].")
    answer = await provider.generate(request, ctx.resources["limiter"], notify=ctx.warn)
    for warning in answer.warnings:
        ctx.warn(warning)
    _record(ctx, provider, request, answer)
    return answer


def _record(ctx, provider, request: Request, answer: Answer) -> None:
    """Adds one answer to this result's facts (names as flowbanana.provenance embeds them); variations add up."""
    meta = ctx.meta
    if "calls" not in meta:
        ctx.record(provider=provider.name, model=request.model, model_version=answer.model,
                   session=provider.stats.session, calls=0, retries=0, usage={}, cost=0.0,
                   finish_reason=answer.finish_reason, seed=request.seed, temperature=request.temperature,
                   **({"aspect_ratio": request.aspect_ratio, "size": request.size} if request.image else {}),
                   **({"instruction": request.caption} if request.caption else {"prompt": request.prompt}))
    usage = dict(meta["usage"])
    for name, count in answer.usage.items():
        usage[name] = usage.get(name, 0) + count
    cost = None if meta["cost"] is None or answer.cost_usd is None else round(meta["cost"] + answer.cost_usd, 6)
    ctx.record(calls=meta["calls"] + 1, retries=meta["retries"] + answer.retries, usage=usage, cost=cost)
    if request.thinking or request.search:
        ctx.record(**({"thinking": request.thinking} if request.thinking else {}),
                   **({"search": next(k for k, v in SEARCH.items() if v == request.search)} if request.search else {}))
    if answer.sources or answer.searches:
        known = {s["uri"] for s in meta.get("sources", [])}
        ctx.record(sources=meta.get("sources", []) + [s for s in answer.sources if s["uri"] not in known],
                   searches=meta.get("searches", []) + answer.searches)


def _joined(answers: list[Answer]) -> str:
    """What the model said, and the pages its answers were grounded on."""
    text = "\n\n".join(a.text for a in answers if a.text)
    sources = list({s["uri"]: s for a in answers for s in a.sources}.values())
    if sources:
        text += ("\n\n" if text else "") + "Sources:\n" + "\n".join(f"- {s['title']}: {s['uri']}" for s in sources)
    return text


def outline(image: Image.Image, mask: Image.Image) -> Image.Image:
    """The image with the mask's edge drawn in magenta, for the model to see where to work."""
    edge = mask.point(lambda v: 255 if v >= 128 else 0).filter(ImageFilter.FIND_EDGES)
    width = max(3, min(image.size) // 150) | 1
    edge = edge.filter(ImageFilter.MaxFilter(width))
    guide = image.convert("RGB")
    guide.paste((255, 0, 255), mask=edge)
    return guide


def composite(original: Image.Image, answer: Image.Image, mask: Image.Image, feather: float) -> Image.Image:
    """The answer, resized to the original, blended in through the mask feathered inwards: outside stays exact."""
    answer = answer.convert(original.mode).resize(original.size, Image.Resampling.LANCZOS)
    soft = mask
    if feather > 0:
        soft = ImageChops.multiply(mask.filter(ImageFilter.GaussianBlur(feather / 2)), mask)
    return Image.composite(answer, original, soft)
