"""An article as the markdown file a CMS would import: front matter, featured image, body."""

from __future__ import annotations

import json
from typing import Any

_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


def image_name(image: dict[str, Any], media_type: str) -> str:
    return f"{image['kind']}-{image['id']}{_EXTENSIONS.get(media_type.split(';')[0], '.bin')}"


def render(article: dict[str, Any], image_files: dict[str, str]) -> str:
    """``image_files`` maps an image id to its file name under ``images/``."""
    featured = [i for i in article["images"] if i["kind"] == "featured" and i["id"] in image_files]
    inline = [i for i in article["images"] if i["kind"] == "in_article" and i["id"] in image_files]
    front = {
        "title": article["title"], "content_id": article["id"], "idea": article["idea"]["title"],
        "cluster": article["cluster"]["name"], "keywords": article["keywords"],
        "featured_image": f"images/{image_files[featured[0]['id']]}" if featured else None,
    }
    # JSON values are valid YAML, and need no escaping rules of our own.
    lines = ["---", *(f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in front.items()), "---", ""]
    lines += [f"![{_alt(i)}](images/{image_files[i['id']]})" for i in featured]
    lines += ["", article["body"].rstrip("\n"), ""]
    lines += [f"![{_alt(i)}](images/{image_files[i['id']]})\n" for i in inline]
    return "\n".join(lines)


def _alt(image: dict[str, Any]) -> str:
    return " ".join(image["prompt"].split())[:120].replace("]", ")")
