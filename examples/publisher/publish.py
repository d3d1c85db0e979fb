"""The use case: one ContentReadyForReview event of our account becomes one published article, once."""

from __future__ import annotations

import logging
from pathlib import Path

from automation_events import ContentReadyForReview, content_path, parse_event

from .content_api import ContentApi, NotFound
from .markdown import image_name, render
from .output import OutputFolder

log = logging.getLogger("publisher")


class Publisher:
    def __init__(self, account_id: str, api: ContentApi, folder: OutputFolder) -> None:
        self.account_id = account_id
        self.api = api
        self.folder = folder

    async def handle(self, message: bytes) -> Path | None:
        """The article published for ``message``, or None when there is nothing (more) to publish.

        Raises only when trying again may succeed (the API or the disk failing).
        """
        try:
            event = parse_event(message)
        except ValueError as error:  # it never will be an event: skipped, not retried
            log.error("skipped a message that is not an event: %s", error)
            return None
        if not isinstance(event, ContentReadyForReview) or event.account_id != self.account_id:
            return None
        try:
            return await self.publish(event)
        except NotFound:
            log.warning("content %s is not visible to this token: skipped", event.data.content_id)
            return None

    async def publish(self, event: ContentReadyForReview) -> Path | None:
        if self.folder.has(event.event_id):
            return None
        # Events from before content_url was added carry only the ids.
        url = event.data.content_url or content_path(event.site_id, event.data.content_id)
        article = await self.api.article(url)
        files, names = await self._images(article)
        files["article.md"] = render(article, names).encode("utf-8")
        path = self.folder.publish(event.event_id, article["id"], files)
        log.info("published %s (%s) for event %s", article["id"], article["title"], event.event_id)
        return path

    async def _images(self, article: dict) -> tuple[dict[str, bytes], dict[str, str]]:
        """The image files by path under the article, and each image's file name by its id."""
        files: dict[str, bytes] = {}
        names: dict[str, str] = {}
        for image in article["images"]:
            if image["status"] != "generated" or not image["url"]:
                continue
            try:
                data, media_type = await self.api.image(image["url"])
            except NotFound:  # e.g. a provider's link that expired: the article still goes out
                log.warning("image %s of %s is gone: published without it", image["id"], article["id"])
                continue
            names[image["id"]] = image_name(image, media_type)
            files[f"images/{names[image['id']]}"] = data
        return files, names
