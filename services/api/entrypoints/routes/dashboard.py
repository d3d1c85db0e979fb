"""The dashboard (CONTRACT §7, `GET /`): static HTML, CSS and JavaScript of our own.

The page talks to the API with the bearer token the user signs in with, kept in
sessionStorage. The Content-Security-Policy allows only our own files, so no inline
or third-party script can ever read that token.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from services.api.application.errors import not_found

STATIC = Path(__file__).resolve().parents[2] / "static"
_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_HEADERS = {"Content-Security-Policy": _POLICY, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def dashboard() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=_HEADERS)


@cache
def _assets() -> dict[str, str]:
    """The shipped files by name: a request names one of them, never a path."""
    return {p.name: _TYPES[p.suffix] for p in STATIC.iterdir() if p.suffix in _TYPES}


@router.get("/dashboard/{asset}")
async def dashboard_asset(asset: str) -> FileResponse:
    media_type = _assets().get(asset)
    if media_type is None:
        raise not_found("file")
    return FileResponse(STATIC / asset, media_type=media_type, headers=_HEADERS)
