"""The embedded demo's outputs as files, and a few samples to show in the summary."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import asyncpg

from services.demo.client import Tenant
from services.demo.summary import Outputs


def slug(text: str, limit: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:limit].rstrip("-") or "untitled"


async def export(pool: asyncpg.Pool, tenant: Tenant, out_dir: Path) -> dict[str, str]:
    """Write each article of this run's site as markdown and each generated image as PNG
    (replacing the previous run's); returns content id -> file stem."""
    articles, images = out_dir / "articles", out_dir / "images"
    for folder in (articles, images):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    rows = await pool.fetch("SELECT id, title, body FROM content WHERE site_id = $1 ORDER BY created_at, id",
                            tenant.site_id)
    names: dict[str, str] = {}
    for number, row in enumerate(rows, start=1):
        names[row["id"]] = f"{number:03d}-{slug(row['title'])}"
        (articles / f"{names[row['id']]}.md").write_text(row["body"], encoding="utf-8")
    for row in await pool.fetch("SELECT content_id, position, kind, png FROM images WHERE site_id = $1"
                                " AND status = 'generated' AND png IS NOT NULL", tenant.site_id):
        (images / f"{names[row['content_id']]}-{row['position']}-{row['kind']}.png").write_bytes(row["png"])
    return names


async def describe(pool: asyncpg.Pool, tenant: Tenant, out_dir: Path, data_dir: Path,
                   names: dict[str, str]) -> Outputs:
    outputs = Outputs()
    first = await _samples(pool, tenant, outputs)
    outputs.places.append(("event store and tables (PostgreSQL 18)", f"{data_dir} (kept for the next run)"))
    outputs.places.append(("articles (markdown)", f"{out_dir / 'articles'} ({len(names)} files)"))
    outputs.places.append(("images (PNG)", f"{out_dir / 'images'} ({len(list((out_dir / 'images').glob('*.png')))} files)"))
    if first is not None:
        stem = names[first["id"]]
        outputs.places.append(("first article", str(out_dir / "articles" / f"{stem}.md")))
        position = await pool.fetchval("SELECT position FROM images WHERE content_id = $1 AND kind = 'featured'",
                                       first["id"])
        png = out_dir / "images" / f"{stem}-{position if position is not None else 0}-featured.png"
        if png.exists():
            outputs.places.append(("its featured image", str(png)))
    outputs.places.append(("the same over HTTP", "automation demo --serve (the API, run_now included)"))
    return outputs


async def _samples(pool: asyncpg.Pool, tenant: Tenant, outputs: Outputs) -> Any:
    """Adds counts, clusters, the first article and the credits; returns the first article's row."""
    site = tenant.site_id
    counts = {table: int(await pool.fetchval(f"SELECT count(*) FROM {table} WHERE site_id = $1", site))
              for table in ("keywords", "clusters", "ideas", "tasks", "content", "images")}
    outputs.samples.append(("counts", ", ".join(f"{n} {table}" for table, n in counts.items())))
    clusters = await pool.fetch("SELECT c.name, count(k.id) AS n FROM clusters c LEFT JOIN keywords k"
                                " ON k.cluster_id = c.id WHERE c.site_id = $1 GROUP BY c.id"
                                " ORDER BY n DESC, c.name LIMIT 5", site)
    outputs.samples.append(("largest clusters", "; ".join(f"{r['name']} ({r['n']})" for r in clusters)))
    first = await pool.fetchrow("SELECT id, title, word_count, status FROM content WHERE site_id = $1"
                                " ORDER BY created_at, id LIMIT 1", site)
    if first is not None:
        outputs.samples.append(("first article", f"\"{first['title']}\" ({first['word_count']} words, {first['status']})"))
    in_review = await pool.fetchval("SELECT count(*) FROM content WHERE site_id = $1 AND status = 'review'", site)
    outputs.samples.append(("ready for review", f"{in_review} of {counts['content']} articles"))
    account = await pool.fetchrow("SELECT credits, reserved FROM accounts WHERE id = $1", tenant.account_id)
    outputs.samples.append(("credits", f"{tenant.credits} before, {account['credits']} after"
                                       f" ({account['reserved']} still reserved)"))
    return first
