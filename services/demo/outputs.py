"""The embedded demo's outputs as files, and a few samples to show in the summary."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from services.demo.sample import Sample
from services.demo.summary import Outputs


def slug(text: str, limit: int = 60) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:limit].rstrip("-") or "untitled"


def export(cur: Any, sample: Sample, out_dir: Path) -> dict[str, str]:
    """Write each article as markdown and each generated image as PNG; returns content id -> file stem."""
    articles, images = out_dir / "articles", out_dir / "images"
    articles.mkdir(parents=True, exist_ok=True)
    images.mkdir(parents=True, exist_ok=True)
    cur.execute("SELECT id, title, body FROM content WHERE site_id = ? ORDER BY created_at, id", (sample.site_id,))
    names: dict[str, str] = {}
    for number, row in enumerate(cur.fetchall(), start=1):
        names[row["id"]] = f"{number:03d}-{slug(row['title'])}"
        (articles / f"{names[row['id']]}.md").write_text(row["body"], encoding="utf-8")
    cur.execute("SELECT content_id, position, kind, png FROM images WHERE site_id = ? AND status = 'generated'"
                " AND png IS NOT NULL", (sample.site_id,))
    for row in cur.fetchall():
        (images / f"{names[row['content_id']]}-{row['position']}-{row['kind']}.png").write_bytes(row["png"])
    return names


def describe(cur: Any, sample: Sample, out_dir: Path, db_path: Path, names: dict[str, str]) -> Outputs:
    outputs = Outputs()
    first = _samples(cur, sample, outputs)
    outputs.places.append(("event store and tables (SQLite)", str(db_path)))
    outputs.places.append(("articles (markdown)", f"{out_dir / 'articles'} ({len(names)} files)"))
    outputs.places.append(("images (PNG)", f"{out_dir / 'images'} ({len(list((out_dir / 'images').glob('*.png')))} files)"))
    if first is not None:
        stem = names[first["id"]]
        outputs.places.append(("first article", str(out_dir / "articles" / f"{stem}.md")))
        cur.execute("SELECT position FROM images WHERE content_id = ? AND kind = 'featured'", (first["id"],))
        featured = cur.fetchone()
        png = out_dir / "images" / f"{stem}-{featured['position'] if featured else 0}-featured.png"
        if png.exists():
            outputs.places.append(("its featured image", str(png)))
    outputs.places.append(("the run's log", f"sqlite3 {db_path} \"SELECT line FROM run_log_lines ORDER BY sequence\""))
    outputs.places.append(("the same over HTTP", "automation demo --serve"))
    return outputs


def _samples(cur: Any, sample: Sample, outputs: Outputs) -> Any:
    """Adds counts, clusters, the first article and the credits; returns the first article's row."""
    site = (sample.site_id,)
    counts = {table: _count(cur, table, site) for table in ("keywords", "clusters", "ideas", "tasks", "content", "images")}
    outputs.samples.append(("counts", ", ".join(f"{n} {table}" for table, n in counts.items())))
    cur.execute("SELECT c.name, count(k.id) AS n FROM clusters c LEFT JOIN keywords k ON k.cluster_id = c.id"
                " WHERE c.site_id = ? GROUP BY c.id ORDER BY n DESC, c.name LIMIT 5", site)
    outputs.samples.append(("largest clusters", "; ".join(f"{r['name']} ({r['n']})" for r in cur.fetchall())))
    cur.execute("SELECT id, title, word_count, status FROM content WHERE site_id = ? ORDER BY created_at, id LIMIT 1", site)
    first = cur.fetchone()
    if first is not None:
        outputs.samples.append(("first article", f"\"{first['title']}\" ({first['word_count']} words, {first['status']})"))
    cur.execute("SELECT count(*) AS n FROM content WHERE site_id = ? AND status = 'review'", site)
    outputs.samples.append(("ready for review", f"{cur.fetchone()['n']} of {counts['content']} articles"))
    cur.execute("SELECT credits, reserved FROM accounts WHERE id = ?", (sample.account_id,))
    account = cur.fetchone()
    outputs.samples.append(("credits", f"{sample.credits} before, {account['credits']} after"
                                       f" ({account['reserved']} still reserved)"))
    return first


def _count(cur: Any, table: str, site: tuple[str]) -> int:
    cur.execute(f"SELECT count(*) AS n FROM {table} WHERE site_id = ?", site)
    return int(cur.fetchone()["n"])
