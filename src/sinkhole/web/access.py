"""Who may see the dashboard: the token, its cookie, CSRF for writes, and the security headers.

The token is made on first start (32 random bytes, URL-safe) and kept 0600 in the
store folder, so a restart keeps the operators' bookmarks. Every request needs it,
pages and assets included: as ``Authorization: Bearer TOKEN`` (scripts), or as the
cookie a browser gets by opening ``/?token=TOKEN`` once (it is then redirected to the
same page without the token in the address, so the token stays out of the history
and of any Referer). Without it: 401 and no data.

A browser sends cookies on its own, so a write made through the cookie must also
carry the CSRF token (``X-CSRF-Token``, an HMAC of the token that the pages read
from their ``<meta name="csrf">``) and come from the dashboard's own origin.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from sinkhole.events import private
from sinkhole.exceptions import SinkholeError

#: The token's file in the store folder.
TOKEN_FILE = "dashboard.token"
COOKIE = "sinkhole_token"
CSRF_HEADER = "x-csrf-token"
#: Methods that change nothing (no CSRF token needed).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: No inline script or style, nothing from elsewhere, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
    "cache-control": "no-store",
}


class AccessError(SinkholeError):
    """The dashboard's token could not be made or read."""


def load_token(folder: Path) -> tuple[str, bool]:
    """The dashboard token kept in `folder` (made 0600 on first use); True when just made."""
    path = Path(folder) / TOKEN_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        text = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise AccessError(f"cannot read the dashboard token {path}: {exc}") from None
    if text:
        if len(text) < 32:
            raise AccessError(
                f"{path}: not a dashboard token (too short; remove it and a new one is made)"
            )
        if os.stat(path).st_mode & 0o077:
            os.chmod(path, 0o600)
        return text, False
    token = secrets.token_urlsafe(32)
    try:
        private.folder(Path(folder))
        private.write_text(path, token + "\n")
    except OSError as exc:
        raise AccessError(f"cannot write the dashboard token {path}: {exc.strerror}") from None
    return token, True


def csrf_token(token: str) -> str:
    """The CSRF token that goes with `token` (the pages send it back on writes)."""
    return hmac.new(token.encode(), b"sinkhole-dashboard-csrf", hashlib.sha256).hexdigest()


def url_with_token(base: str, token: str) -> str:
    """`base` (http://host:port) with the path / and the token as its query."""
    return f"{base.rstrip('/')}/?{urlencode({'token': token})}"


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


class TokenGuard:
    """ASGI middleware: the token is required for everything; security headers on every answer."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token
        self.csrf = csrf_token(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        response = self._check(request)

        async def send_with_headers(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])  # type: ignore[attr-defined]
                    if k.decode().lower() not in SECURITY_HEADERS
                ]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        if response is not None:
            await response(scope, receive, send_with_headers)  # type: ignore[arg-type]
            return
        await self.app(scope, receive, send_with_headers)  # type: ignore[arg-type]

    def _check(self, request: Request) -> Response | None:
        """None when the request may go on; else the answer it gets instead."""
        given = request.query_params.get("token")
        if given is not None and request.method == "GET":
            if not _same(given, self.token):
                return _refused()
            # the cookie replaces the token in the address: redirect to the same page without it
            query = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            clean = request.url.path + (f"?{urlencode(query)}" if query else "")
            response = RedirectResponse(clean, status_code=303)
            response.set_cookie(
                COOKIE, self.token, httponly=True, samesite="strict", path="/", max_age=None
            )
            return response
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value and _same(value.strip(), self.token):
            return None  # a script: no cookie, so no CSRF to fear
        cookie = request.cookies.get(COOKIE, "")
        if not cookie or not _same(cookie, self.token):
            return _refused()
        if request.method not in SAFE_METHODS:
            sent = request.headers.get(CSRF_HEADER, "")
            origin = request.headers.get("origin")
            host = request.headers.get("host", "")
            if not sent or not _same(sent, self.csrf):
                return PlainTextResponse("403: missing or wrong CSRF token\n", status_code=403)
            if origin is not None and origin.split("://", 1)[-1] != host:
                return PlainTextResponse("403: request from another origin\n", status_code=403)
        return None


def _refused() -> Response:
    return PlainTextResponse(
        "401: this dashboard needs its token (open the URL `sinkhole dashboard` printed, "
        "or send Authorization: Bearer TOKEN)\n",
        status_code=401,
        headers={"www-authenticate": 'Bearer realm="sinkhole"'},
    )
