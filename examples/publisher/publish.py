"""The use case: one ContentReadyForReview event becomes one published article, once."""

from __future__ import annotations

from pathlib import Path

from automation_events import ContentReadyForReview, content_path

from .content_api import ContentApi
from .markdown import image_name, render
from .output import OutputFolder


async def publish_content(event: ContentReadyForReview, api: ContentApi, folder: OutputFolder) -> Path | None:
    """The article's folder, or None when this event was published before."""
    if folder.has(event.event_id):
        return None
    # Events from before content_url was added carry only the ids.
    url = event.data.content_url or content_path(event.site_id, event.data.content_id)
    article = await api.article(url)
    files: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for image in article["images"]:
        if image["status"] == "generated" and image["url"]:
            data, media_type = await api.image(image["url"])
            names[image["id"]] = image_name(image, media_type)
            files[f"images/{names[image['id']]}"] = data
    files["article.md"] = render(article, names).encode("utf-8")
    return folder.publish(event.event_id, article["id"], files)
