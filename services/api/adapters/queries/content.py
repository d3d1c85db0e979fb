"""One content item with what it came from: its images, idea, cluster and keywords."""

from __future__ import annotations

from typing import Any

import asyncpg

# task → idea → cluster are NOT NULL foreign keys: every content item has all three.
_CONTENT = """
SELECT c.id, c.task_id, c.title, c.body, c.word_count, c.status,
       i.id AS idea_id, i.title AS idea_title, cl.id AS cluster_id, cl.name AS cluster_name,
       ARRAY(SELECT k.keyword FROM keywords k WHERE k.cluster_id = cl.id ORDER BY k.keyword) AS keywords
FROM content c
JOIN tasks t ON t.id = c.task_id
JOIN ideas i ON i.id = t.idea_id
JOIN clusters cl ON cl.id = i.cluster_id
WHERE c.id = $1 AND c.site_id = $2
"""
# The featured image first, then the article's own in the order they were made.
_IMAGES = """
SELECT id, kind, prompt, status, url FROM images
WHERE content_id = $1 AND site_id = $2
ORDER BY kind <> 'featured', created_at, id
"""


async def content_item(pool: asyncpg.Pool, site_id: str, content_id: str) -> dict[str, Any] | None:
    """The item of ``site_id`` with that id, or None (unknown, or another site's)."""
    async with pool.acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        row = await conn.fetchrow(_CONTENT, content_id, site_id)
        if row is None:
            return None
        images = await conn.fetch(_IMAGES, content_id, site_id)
    item = dict(row)
    return {
        **{key: item[key] for key in ("id", "task_id", "title", "body", "word_count", "status")},
        "images": [dict(image) for image in images],
        "idea": {"id": item["idea_id"], "title": item["idea_title"]},
        "cluster": {"id": item["cluster_id"], "name": item["cluster_name"]},
        "keywords": list(item["keywords"]),
    }
