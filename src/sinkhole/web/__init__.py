"""The operation dashboard: pages and a JSON API over the store and the analyses (Starlette).

- :mod:`sinkhole.web.access`: the token, its cookie, CSRF, the security headers
- :mod:`sinkhole.web.figures`: the analyses, each calling the room that owns its figures
- :mod:`sinkhole.web.board`: those analyses cached and refreshed in background threads
- :mod:`sinkhole.web.api` and :mod:`sinkhole.web.app`: the routes
- :mod:`sinkhole.web.server`: the socket, uvicorn, and the dashboard as a child process
- :mod:`sinkhole.web.demo`: the demo's dashboard

Docs: docs/dashboard.md.
"""
