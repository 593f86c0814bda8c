"""Put the API on a FastAPI app: `add_api(app, settings)` for any app (NiceGUI's too), `create_app` for serve."""
from __future__ import annotations

import warnings
from contextlib import asynccontextmanager

from fastapi import FastAPI
from PIL import Image

from .. import __version__
from ..catalogue import Catalogue
from .endpoints import Endpoints
from .routes import API_PREFIX, RunOptionsIn, api_router
from .runs import RunService
from .security import SecurityMiddleware
from .settings import ServerSettings

DESCRIPTION = """Run flowbanana workflows over HTTP: submit, follow events, download outputs.

Every route needs `Authorization: Bearer TOKEN` when the server is bound to anything but 127.0.0.1/localhost/::1."""


def add_api(app: FastAPI, settings: ServerSettings, catalogue: Catalogue | None = None) -> RunService:
    """Mount /api on `app`, guard the whole app with the security middleware, stop runs on shutdown.

    Call before the app starts. Returns the RunService (also at `app.state.flowbanana`) so the
    editor submits its runs through the same queue and reads the same history.
    """
    settings.with_token()
    limit_images(settings.max_image_pixels)
    service = RunService(settings, catalogue)
    endpoints = Endpoints(settings, service.catalogue, RunOptionsIn)
    app.include_router(api_router(service, endpoints), prefix=API_PREFIX)
    generated = app.openapi

    def openapi() -> dict:  # FastAPI's document, plus an operation per saved workflow as the folder is now
        return endpoints.openapi(generated(), API_PREFIX)

    app.openapi = openapi
    app.add_middleware(SecurityMiddleware, settings=settings)
    app.state.flowbanana = service
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a):
        async with inner(a) as state:
            try:
                yield state
            finally:
                await service.close()

    app.router.lifespan_context = lifespan
    return service


def limit_images(max_pixels: int) -> None:
    """Pillow refuses images above `max_pixels` outright (not only above twice that, with a warning below)."""
    Image.MAX_IMAGE_PIXELS = max_pixels
    warnings.simplefilter("error", Image.DecompressionBombWarning)


def create_app(settings: ServerSettings, catalogue: Catalogue | None = None) -> FastAPI:
    """The API alone, for `flowbanana serve`."""
    app = FastAPI(title="flowbanana", version=__version__, description=DESCRIPTION)
    add_api(app, settings, catalogue)
    return app
