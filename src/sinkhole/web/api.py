"""The JSON API the pages use and scripts can call (every route needs the token)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sinkhole.events.store import StoreError
from sinkhole.web import figures
from sinkhole.web.board import Board

#: The analyses served as /api/NAME, as the board keeps them.
CACHED = ("series", "networks", "coverage", "notifications", "listings", "impact")


def _board(request: Request) -> Board:
    board: Board = request.app.state.board
    return board


def _json(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


async def summary(request: Request) -> Response:
    """Events, unique IPs, the machine estimate, first and last seen: population's figures."""
    result = _board(request).result("summary")
    meta = {k: result[k] for k in ("state", "computed_at", "seconds", "error")}
    if result["data"] is None:
        body = {
            **meta,
            "events": None,
            "unique_ips": None,
            "first_seen": None,
            "last_seen": None,
            "machines": {"estimate": None, "low": None, "high": None},
        }
        return JSONResponse(body, status_code=503, headers={"retry-after": "5"})
    return _json({**meta, **result["data"]})


async def live(request: Request) -> Response:
    """Events per second per listener, today's unique addresses, the machine estimate."""
    return _json(_board(request).live())


async def cached(request: Request) -> Response:
    """One analysis as the board last computed it (state, time, data)."""
    name = request.path_params["name"]
    if name not in CACHED:
        return _json({"error": f"no such analysis: {name}"}, 404)
    return _json(_board(request).result(name))


async def countries(request: Request) -> Response:
    """Unique addresses per country (the map's data)."""
    result = _board(request).result("networks")
    data = result.pop("data") or {}
    return _json({**result, "data": {"countries": data.get("countries", [])}})


async def networks_csv(request: Request) -> Response:
    """The networks table as a CSV download."""
    result = _board(request).result("networks")
    if result["data"] is None:
        return _json({"error": "the networks are not computed yet", **result}, 503)
    return Response(
        figures.networks_csv(result["data"]),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="sinkhole-networks.csv"'},
    )


async def status(request: Request) -> Response:
    """Every analysis's state and time, without the data."""
    board = _board(request)
    out = {}
    for name in figures.ANALYSES:
        result = board.result(name)
        result.pop("data")
        out[name] = result
    return _json({"generation": board.generation, "analyses": out})


async def refresh(request: Request) -> Response:
    """Recompute the analyses now (the one write action: needs the CSRF token in a browser)."""
    _board(request).refresh()
    return _json({"refreshing": True}, 202)


def _when(text: str | None, name: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise figures.DashboardError(f"{name} {text!r}: expected an ISO date or time") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _int(text: str | None, name: str, default: int) -> int:
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise figures.DashboardError(f"{name} {text!r}: expected a whole number") from None


async def events(request: Request) -> Response:
    """One page of events, newest first: filters, limit (at most 500), offset."""
    params = request.query_params
    try:
        query = figures.EventQuery(
            since=_when(params.get("since"), "since"),
            until=_when(params.get("until"), "until"),
            family=params.get("family") or None,
            application=params.get("application") or None,
            src_ip=params.get("src_ip") or None,
            channel=params.get("channel") or None,
            limit=_int(params.get("limit"), "limit", 100),
            offset=_int(params.get("offset"), "offset", 0),
        )
        page = await run_in_threadpool(_board(request).events, query)
    except (figures.DashboardError, StoreError) as exc:
        message = exc.message.replace("--", "")
        return _json({"error": message}, 400)
    return _json(page)


ROUTES = [
    Route("/api/summary", summary),
    Route("/api/live", live),
    Route("/api/status", status),
    Route("/api/countries", countries),
    Route("/api/networks.csv", networks_csv),
    Route("/api/events", events),
    Route("/api/refresh", refresh, methods=["POST"]),
    Route("/api/{name}", cached),
]
