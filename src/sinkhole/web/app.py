"""The dashboard application: pages, assets and the API behind the token guard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from importlib.resources import files
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sinkhole.web import access, api
from sinkhole.web.board import Board

#: Page paths and their files under static/.
PAGES = {
    "/": "overview.html",
    "/map": "map.html",
    "/networks": "networks.html",
    "/coverage": "coverage.html",
    "/events": "events.html",
    "/impact": "impact.html",
}


def static_folder() -> Path:
    """The bundled pages, scripts, styles and vendored libraries."""
    return Path(str(files("sinkhole.web").joinpath("static")))


@cache
def _page_text(name: str) -> str:
    return (static_folder() / name).read_text(encoding="utf-8")


def create_app(board: Board, token: str, manage_board: bool = True) -> Starlette:
    """The Starlette app over `board`, every route guarded by `token`.

    With `manage_board`, the app starts the board's background loops on start-up and stops
    them on shut-down.
    """
    csrf = access.csrf_token(token)

    async def page(request: Request) -> Response:
        # the CSRF token goes into a <meta> the scripts read: no inline script needed
        text = _page_text(PAGES[request.url.path]).replace("__CSRF__", csrf)
        return HTMLResponse(text)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if manage_board:
            board.start()
        try:
            yield
        finally:
            if manage_board:
                board.stop()

    routes = [
        *(Route(path, page) for path in PAGES),
        *api.ROUTES,
        Mount("/static", StaticFiles(directory=static_folder()), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.board = board
    app.add_middleware(access.TokenGuard, token=token)
    return app
