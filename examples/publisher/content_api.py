"""The automation API as the publisher uses it: one content item and its image files."""

from __future__ import annotations

from typing import Any

import httpx


class NotFound(Exception):
    """The API does not show this item to our token: no retry will change that."""


class ContentApi:
    def __init__(self, base_url: str, token: str, timeout: float = 30.0) -> None:
        self._auth = {"Authorization": f"Bearer {token}"}
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout)

    async def article(self, content_url: str) -> dict[str, Any]:
        return (await self._get(content_url)).json()

    async def image(self, url: str) -> tuple[bytes, str]:
        """The image's bytes and media type."""
        answer = await self._get(url)
        return answer.content, answer.headers.get("content-type", "application/octet-stream")

    async def close(self) -> None:
        await self._http.aclose()

    async def _get(self, url: str) -> httpx.Response:
        # A provider-hosted image has an absolute URL: our token must not travel there.
        headers = self._auth if url.startswith("/") else {}
        answer = await self._http.get(url, headers=headers)
        if answer.status_code == 404:
            raise NotFound(url)
        answer.raise_for_status()  # anything else may pass: the event is retried
        return answer
