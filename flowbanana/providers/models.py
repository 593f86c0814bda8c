"""The model catalogue: every fact flowbanana keeps about a Gemini model, in one table of data.

When Google renames, retires or re-prices a model, edit `MODELS` and nothing else: the nodes'
checks, the editor's picker, `flowbanana models`, the cost estimates and the fake server in the
tests all read it. A workflow may name a model by its id, by a friendly alias (`nano-banana-pro`)
or by an id Google has since shut down; `resolve` turns any of them into the id sent today.

Ids were read from google-genai 3.6.1 (`_gaos/types/interactions/model.py`, the `Model` literal) and
Google's deprecations page (ai.google.dev/gemini-api/docs/deprecations) on 2026-12-01. Prices are
USD estimates from public pages, for summaries and `--dry-run`, never a bill; each entry says when
they were read. Where a fact is uncertain the entry says so and where it came from.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
EXTRA_RATIOS = ("1:4", "4:1", "1:8", "8:1")  # the Nano Banana 2 family only
ALL_RATIOS = ASPECT_RATIOS + EXTRA_RATIOS
ALL_SIZES = ("512", "1K", "2K", "4K")
THINKING = ("default", "minimal", "medium", "high")   # the `thinking` param; "default" sends nothing
SEARCH = {"off": (), "web": ("web",), "web+images": ("web", "image")}  # the `search` param -> grounding kinds
LIVE, DEPRECATED, RETIRED = "live", "deprecated", "retired"

# Pixel sizes at 1K as Google publishes them; 512, 2K and 4K scale these by 1/2, 2 and 4.
_PIXELS_25 = {"1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184),
              "4:3": (1184, 864), "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344),
              "16:9": (1344, 768), "21:9": (1536, 672)}
_PIXELS_3 = {"1:1": (1024, 1024), "2:3": (848, 1264), "3:2": (1264, 848), "3:4": (896, 1200),
             "4:3": (1200, 896), "4:5": (928, 1152), "5:4": (1152, 928), "9:16": (768, 1376),
             "16:9": (1376, 768), "21:9": (1584, 672), "1:4": (512, 2048), "4:1": (2048, 512),
             "1:8": (384, 3072), "8:1": (3072, 384)}
_SCALE = {"512": 0.5, "1K": 1, "2K": 2, "4K": 4}
# Grounding with Google Search on Gemini 3 models: $14 per 1,000 search queries after a monthly free
# allowance we do not count (Google's pricing page as quoted by macaron.im, read 2026-12-01).
SEARCH_QUERY_PRICE = 0.014
# What one generateContent request may carry inline (prompt and images, base64 inside the JSON body): 100 MB on the
# Gemini Developer API since Google raised it from 20 MB ("Increased file size limits and expanded inputs support in
# Gemini API", blog.google, read 2026-12-02). Counted in decimal megabytes, to stay on the safe side.
INLINE_REQUEST_LIMIT = 100_000_000
# Vertex AI takes at most 7 MB per inline image ("Maximum file size per file for inline data", its image understanding
# page, the same for every Gemini image model; read 2026-12-02).
VERTEX_INLINE_IMAGE_LIMIT = 7_000_000
# The longest side an input image is worth sending: Google's image understanding page says larger images are scaled
# down to fit 3072×3072 (keeping their ratio) before the model sees them. Read on Vertex AI's page, not restated for
# each model or on the Developer API's pages, so it is a per-model default that an entry can change.
INPUT_SIDE = 3072


@dataclass(frozen=True)
class Model:
    id: str
    name: str
    image: bool = True                     # answers with images (else text only)
    aliases: tuple[str, ...] = ()          # friendly names a workflow may use instead of the id
    aspect_ratios: tuple[str, ...] = ASPECT_RATIOS
    sizes: tuple[str, ...] = ("1K",)
    max_references: int = 3                # input images per request
    thinking: tuple[str, ...] = ()         # thinking levels a request may set (empty: not settable)
    thinks: bool = False                   # answers may hold thought parts to skip
    grounding: tuple[str, ...] = ()        # Google Search kinds it takes: "web", "image"
    price_per_image: dict[str, float] = field(default_factory=dict)  # output image by size, USD
    price_per_mtok: tuple[float, float] = (0.0, 0.0)  # USD per million (input, text and thinking output) tokens
    input_image_tokens: int = 1120         # what one input image counts as, for estimates before a call
    max_input_side: int = INPUT_SIDE       # input images are sent downscaled to fit this many pixels a side
    batch: bool = True                     # Gemini's Batch API takes calls to it (`run --batch`)
    batch_search: bool = False             # ... with Google Search grounding on (see BATCH_SEARCH_NOTE)
    prices_read: str = ""                  # when the prices were read (ISO date)
    status: str = LIVE                     # live | deprecated | retired
    shutdown: str = ""                     # the date Google shut it down (or announced it would), ISO
    successor: str = ""                    # the id to use instead (what a retired id is sent as)
    pixels: dict[str, tuple[int, int]] = field(default_factory=lambda: _PIXELS_3)
    note: str = ""                         # an uncertain fact, and where it came from
    known: bool = True                     # False for ids typed by the user that the table lacks

    def pixel_size(self, aspect_ratio: str, size: str = "1K") -> tuple[int, int]:
        """The (width, height) Gemini returns for this ratio and size."""
        width, height = self.pixels.get(aspect_ratio) or _PIXELS_3.get(aspect_ratio) or _approximate(aspect_ratio)
        scale = _SCALE.get(size, 1)
        return int(width * scale), int(height * scale)

    def cost(self, *, size: str = "1K", images: int = 0, input_tokens: int = 0, output_tokens: int = 0,
             searches: int = 0) -> float | None:
        """Estimated USD of one call: output images at their size, input tokens (text and images),
        text and thinking output tokens, and search queries. None when the table has no price."""
        if not self.known or (images and size not in self.price_per_image):
            return None
        price_in, price_out = self.price_per_mtok
        return round(self.price_per_image.get(size, 0.0) * images + (input_tokens * price_in + output_tokens *
                     price_out) / 1e6 + searches * SEARCH_QUERY_PRICE, 6)

    def estimate(self, *, size: str = "1K", prompt: str = "", input_images: int = 0, search: bool = False) -> float | None:
        """What a call is expected to cost before it is made (the dry run): one image (or ~1k text tokens
        out), the prompt at ~4 characters a token, input images at their fixed token count, one search."""
        return self.cost(size=size, images=1 if self.image else 0,
                         input_tokens=len(prompt) // 4 + input_images * self.input_image_tokens,
                         output_tokens=0 if self.image else 1000, searches=1 if search else 0)


_NB2_FAMILY = dict(aspect_ratios=ALL_RATIOS, max_references=14, thinks=True, grounding=("web", "image"))
_NB2_PRICES = dict(price_per_image={"512": 0.045, "1K": 0.067, "2K": 0.101, "4K": 0.151},
                   price_per_mtok=(0.50, 3.00), prices_read="2026-12-01")

MODELS: dict[str, Model] = {m.id: m for m in [
    # -- image models, live ---------------------------------------------------------------------------
    Model("gemini-3.1-flash-image", "Nano Banana 2", aliases=("nano-banana-2",), sizes=ALL_SIZES,
          thinking=("minimal", "high"), **_NB2_FAMILY, **_NB2_PRICES,
          note="Input $0.50/M is the stable id's rate (the preview's was $0.25); image prices from Google's pricing "
               "page as quoted by lumenfall.ai and laozhang.ai. One third-party page (skills.sh) claims a 2026-10-29 "
               "shutdown; Google's deprecations page and google-genai 3.6.1 still list it."),
    Model("gemini-nano-banana-2.1", "Nano Banana 2.1", aliases=("nano-banana-2.1",), sizes=("1K", "2K", "4K"),
          thinking=("minimal", "medium", "high"), **_NB2_FAMILY, **_NB2_PRICES,
          batch=False,
          note="No 512 size (TanStack AI's model notes, 2026-10-07). Prices not yet published where we looked: "
               "Nano Banana 2's rates are assumed. No Google page seen lists the Batch API for it (looked "
               "2026-12-02), so a batch run sends its calls direct until one does."),
    Model("gemini-3-pro-image", "Nano Banana Pro", aliases=("nano-banana-pro", "nano-banana-pro-preview"),
          sizes=("1K", "2K", "4K"), max_references=14, thinks=True, grounding=("web",),
          price_per_image={"1K": 0.134, "2K": 0.134, "4K": 0.24}, price_per_mtok=(2.00, 12.00),
          prices_read="2026-12-01",
          note="Always thinks; its level cannot be set. nano-banana-pro-preview is an id in google-genai's enum "
               "for the same model: flowbanana sends the stable id."),
    Model("gemini-3.1-flash-lite-image", "Nano Banana 2 Lite", aliases=("nano-banana-2-lite",),
          price_per_image={"1K": 0.02}, price_per_mtok=(0.25, 1.50), prices_read="2026-12-01",
          note="Cheapest; no grounding. Its reference-image limit and prices are not confirmed (third-party "
               "estimates); token rates assumed to be gemini-3.1-flash-lite's."),
    # -- image models, deprecated -----------------------------------------------------------------------
    Model("gemini-2.5-flash-image", "Nano Banana", aliases=("nano-banana",), pixels=_PIXELS_25,
          input_image_tokens=258, price_per_image={"1K": 0.039}, price_per_mtok=(0.30, 2.50),
          prices_read="2025-10-02", status=DEPRECATED, shutdown="2026-10-02", successor="gemini-3.1-flash-image",
          note="Google's deprecations page gives 2026-10-02 as the earliest shutdown; still served on 2026-12-01. "
               "Up to 3 input images is Google's guidance for best results, not an API limit."),
    # -- text models (gemini.describe, gemini.prompt) ---------------------------------------------------
    Model("gemini-flash-latest", "Gemini Flash (latest)", image=False, thinks=True, price_per_mtok=(1.50, 9.00),
          prices_read="2026-12-01",
          note="Google points this alias at its newest Flash; priced at gemini-3.5-flash's rates (tokenrate.dev)."),
    Model("gemini-3.5-flash", "Gemini 3.5 Flash", image=False, thinks=True, price_per_mtok=(1.50, 9.00),
          prices_read="2026-12-01"),
    Model("gemini-3.1-flash-lite", "Gemini 3.1 Flash-Lite", image=False, thinks=True, price_per_mtok=(0.25, 1.50),
          prices_read="2026-12-01", shutdown="2027-05-07",
          note="Google announces 2027-05-07 as its earliest shutdown."),
    Model("gemini-3-flash-preview", "Gemini 3 Flash (preview)", image=False, thinks=True,
          price_per_mtok=(0.50, 3.00), prices_read="2026-03-01", status=DEPRECATED, successor="gemini-3.5-flash",
          note="No shutdown date announced; Google recommends gemini-3.5-flash instead."),
    # -- retired: a workflow naming these runs on the successor, with a warning --------------------------
    Model("gemini-3-pro-image-preview", "Nano Banana Pro (preview)", status=RETIRED, shutdown="2026-06-25",
          successor="gemini-3-pro-image"),
    Model("gemini-3.1-flash-image-preview", "Nano Banana 2 (preview)", status=RETIRED, shutdown="2026-06-25",
          successor="gemini-3.1-flash-image"),
    Model("gemini-2.5-flash-image-preview", "Nano Banana (preview)", status=RETIRED, shutdown="2026-01-15",
          successor="gemini-2.5-flash-image"),
    Model("gemini-2.5-flash", "Gemini 2.5 Flash", image=False, status=RETIRED, shutdown="2026-12-01",
          successor="gemini-flash-latest"),
    Model("gemini-2.5-flash-lite", "Gemini 2.5 Flash-Lite", image=False, status=RETIRED, shutdown="2026-07-22",
          successor="gemini-3.1-flash-lite", note="Date from Google's deprecations page (earliest shutdown)."),
    Model("gemini-3.1-flash-lite-preview", "Gemini 3.1 Flash-Lite (preview)", image=False, status=RETIRED,
          shutdown="2026-05-25", successor="gemini-3.1-flash-lite"),
]}

# The Batch API's price, as a share of the direct price, for every model (Google: "50% of the standard cost").
BATCH_PRICE_FACTOR = 0.5
# Why no model has `batch_search`: Google's batch guide lists no grounding for batched requests, and flowbanana's
# issue 16 names grounding as what the Batch API does not take (2026-12-02); a batch run sends such calls direct
# (`--direct NODE`) rather than risk a job of refusals. Set it on a model once Google documents it.
BATCH_SEARCH_NOTE = "Google Search grounding is not offered through the Batch API"

DEFAULT_IMAGE_MODEL = "gemini-3.1-flash-image"
DEFAULT_TEXT_MODEL = "gemini-flash-latest"
IMAGE_MODELS = tuple(m.id for m in MODELS.values() if m.image and m.status != RETIRED)
TEXT_MODELS = tuple(m.id for m in MODELS.values() if not m.image and m.status != RETIRED)
ALIASES = {alias: m.id for m in MODELS.values() for alias in m.aliases}


def resolve(model_id: str, image: bool = True) -> tuple[Model, str]:
    """The entry for what is sent when a workflow names `model_id`, and a notice for people ("" if none).

    An alias resolves silently to its id; a retired id to its successor (followed until a served one),
    with a notice naming both and the shutdown date; a deprecated id is sent as is, with a notice.
    An id the table does not know gets a permissive stand-in (`known` False), sent as typed.
    """
    found = MODELS.get(ALIASES.get(model_id, model_id))
    if found is None:
        return (Model(model_id, model_id, image=image, aspect_ratios=ALL_RATIOS, sizes=ALL_SIZES, max_references=14,
                      thinking=THINKING[1:], grounding=("web", "image"), known=False),
                f"model {model_id!r} is not in flowbanana's catalogue; it is sent as typed, unchecked, and its cost "
                "is unknown (`flowbanana models` lists the known ones).")
    if found.status == RETIRED:
        sent = MODELS[successor_of(found.id)]
        return sent, (f"{model_id} was shut down by Google on {found.shutdown}; it is sent as its successor "
                      f"{sent.id} ({sent.name}).")
    if found.status == DEPRECATED:
        when = f" (shutdown announced for {found.shutdown})" if found.shutdown else ""
        successor = MODELS[found.successor]
        return found, (f"{found.name} ({found.id}) is deprecated{when}: Google may stop serving it; its successor is "
                       f"{successor.id} ({successor.name}).")
    return found, ""


def successor_of(model_id: str) -> str | None:
    """The served id a retired one is sent as (its successors followed until one is served); None if not retired."""
    found = MODELS.get(model_id)
    if found is None or found.status != RETIRED:
        return None
    while found.status == RETIRED:
        found = MODELS[found.successor]
    return found.id


def batch_refusal(model_id: str, search: tuple[str, ...] = (), image: bool = True) -> str:
    """Why Gemini's Batch API cannot take a call to `model_id` (with Google Search grounding of the `search` kinds),
    as the table says; "" when it can."""
    model = lookup(model_id, image)
    if not model.batch:
        return f"the Batch API does not take {model.name} ({model.id})"
    if search and not model.batch_search:
        return f"its search is on, and {BATCH_SEARCH_NOTE}"
    return ""


def model_choices(default: str, live: bool = False) -> tuple[str, ...]:
    """The models a model param offers: the table's image models for a param whose default is one, its text models
    for one whose default is one of those. `live`: only the live ones (a sweep's "every model"), else the
    deprecated too (the editor's picker)."""
    models = next((models for models in (IMAGE_MODELS, TEXT_MODELS) if default in models), ())
    return tuple(m for m in models if MODELS[m].status == LIVE) if live else models


def lookup(model_id: str, image: bool = True) -> Model:
    """The entry `resolve` gives, without its notice."""
    return resolve(model_id, image)[0]


def sent_id(model_id) -> str:
    """The id sent for what a workflow names (aliases and retired ids resolved): the cache key holds this."""
    return lookup(model_id.strip()).id if isinstance(model_id, str) and model_id.strip() else model_id


def nearest_ratio(width: int, height: int, ratios: tuple[str, ...] = ASPECT_RATIOS) -> str:
    """The supported aspect ratio closest to a picture's own (what an edit without a ratio keeps)."""
    target = math.log(width / height)
    return min(ratios, key=lambda r: abs(math.log(_ratio(r)) - target))


def _ratio(text: str) -> float:
    w, h = text.split(":")
    return int(w) / int(h)


def _approximate(aspect_ratio: str) -> tuple[int, int]:
    """About one megapixel at a ratio the table lacks, in multiples of 16."""
    r = _ratio(aspect_ratio)
    width = round(1024 * r ** 0.5 / 16) * 16
    return width, round(width / r / 16) * 16
