"""The use case: one ContentReadyForReview event becomes one published article, once."""

from __future__ import annotations

import logging
from pathlib import Path

from automation_events import ContentReadyForReview, content_path

from .content_api import ContentApi, NotFound
from .markdown import image_name, render
from .output import OutputFolder

log = logging.getLogger("publisher")


async def publish_content(event: ContentReadyForReview, api: ContentApi, folder: OutputFolder) -> Path | None:
    """The article's folder, or None when this event was published before."""
    if folder.has(event.event_id):
        return None
    # Events from before content_url was added carry only the ids.
    url = event.data.content_url or content_path(event.site_id, event.data.content_id)
    article = await api.article(url)
    files, names = await _images(api, article)
    files["article.md"] = render(article, names).encode("utf-8")
    return folder.publish(event.event_id, article["id"], files)


async def _images(api: ContentApi, article: dict) -> tuple[dict[str, bytes], dict[str, str]]:
    """The image files by path under the article, and each image's file name by its id."""
    files: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for image in article["images"]:
        if image["status"] != "generated" or not image["url"]:
            continue
        try:
            data, media_type = await api.image(image["url"])
        except NotFound:  # e.g. a provider's link that expired: the article still goes out
            log.warning("image %s of %s is gone: published without it", image["id"], article["id"])
            continue
        names[image["id"]] = image_name(image, media_type)
        files[f"images/{names[image['id']]}"] = data
    return files, names
