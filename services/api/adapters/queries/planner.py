"""Read and write queries of the planner and writer tables."""

from __future__ import annotations

from typing import Any

import asyncpg

_LISTINGS: dict[str, str] = {
    "keywords": "SELECT id, keyword, volume, difficulty, intent, cluster_id, status FROM keywords",
    "clusters": "SELECT c.id, c.name, c.description, ARRAY(SELECT k.id FROM keywords k"
                " WHERE k.cluster_id = c.id ORDER BY k.keyword) AS keyword_ids FROM clusters c",
    "ideas": "SELECT id, cluster_id, title, description, status FROM ideas",
    "tasks": "SELECT id, idea_id, title, status FROM tasks",
    "content": "SELECT id, task_id, title, body, word_count, status FROM content",
    "images": "SELECT id, content_id, kind, prompt, status, url FROM images",
}
_TABLES = {"keywords": "keywords", "clusters": "clusters c", "ideas": "ideas", "tasks": "tasks",
           "content": "content", "images": "images"}
_ALIASES = {"clusters": "c."}


async def insert_keywords(pool: asyncpg.Pool, rows: list[tuple[Any, ...]]) -> int:
    """Insert all new keywords in one statement; returns how many were new."""
    if not rows:
        return 0
    columns = list(zip(*rows))
    return int(await pool.fetchval(
        # clock_timestamp() per row, in the request's order: listings show keywords as imported.
        "WITH inserted AS (INSERT INTO keywords"
        " (id, site_id, keyword, keyword_norm, volume, difficulty, intent, created_at)"
        " SELECT id, site_id, keyword, norm, volume, difficulty, intent, clock_timestamp()"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[])"
        " WITH ORDINALITY AS k(id, site_id, keyword, norm, volume, difficulty, intent, n) ORDER BY n"
        " ON CONFLICT (site_id, keyword_norm) DO NOTHING RETURNING 1) SELECT count(*) FROM inserted",
        *[list(c) for c in columns],
    ))


async def list_items(pool: asyncpg.Pool, kind: str, site_id: str, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    alias = _ALIASES.get(kind, "")
    rows = await pool.fetch(
        f"{_LISTINGS[kind]} WHERE {alias}site_id = $1 ORDER BY {alias}created_at, {alias}id LIMIT $2 OFFSET $3",
        site_id, limit, offset,
    )
    total = await pool.fetchval(f"SELECT count(*) FROM {_TABLES[kind]} WHERE {alias}site_id = $1", site_id)
    return [dict(r) for r in rows], int(total)


async def image_png(pool: asyncpg.Pool, site_id: str, image_id: str) -> bytes | None:
    png = await pool.fetchval("SELECT png FROM images WHERE id = $1 AND site_id = $2", image_id, site_id)
    return bytes(png) if png is not None else None
