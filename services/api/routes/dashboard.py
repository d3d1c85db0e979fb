"""The dashboard (CONTRACT §7, `GET /`): static HTML, CSS and JavaScript of our own.

The page talks to the API with the bearer token the user signs in with, kept in
sessionStorage. The Content-Security-Policy allows only our own files, so no inline
or third-party script can ever read that token.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from services.api.errors import not_found

STATIC = Path(__file__).resolve().parent.parent / "static"
_ASSETS = {"app.css": "text/css", "app.js": "text/javascript", "sse.js": "text/javascript",
           "favicon.svg": "image/svg+xml"}
_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_HEADERS = {"Content-Security-Policy": _POLICY, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def dashboard() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=_HEADERS)


@router.get("/dashboard/{asset}")
async def dashboard_asset(asset: str) -> FileResponse:
    if asset not in _ASSETS:  # a fixed list: no path from the request reaches the file system
        raise not_found("file")
    return FileResponse(STATIC / asset, media_type=_ASSETS[asset], headers=_HEADERS)
