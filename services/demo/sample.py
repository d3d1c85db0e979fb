"""The demo's sample tenant: an account with credits, a site, and the shipped keyword list."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from importlib import resources
from typing import Any

SAMPLE_CREDITS = 20_000
# Delays of 0: the demo shows the pipeline's work, not its pacing.
DEMO_CONFIG = {"within_stage_delay": 0, "between_stage_delay": 0}


@dataclass(frozen=True)
class Keyword:
    keyword: str
    volume: int | None
    difficulty: int | None
    intent: str | None


@dataclass(frozen=True)
class Sample:
    account_id: str
    site_id: str
    keywords: int
    credits: int


def sample_keywords(limit: int | None = None) -> list[Keyword]:
    """The shipped list (services/demo/data/sample_keywords.csv), or its first ``limit`` rows."""
    text = resources.files("services.demo").joinpath("data/sample_keywords.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(text)))[:limit]
    return [Keyword(r["keyword"], _int(r.get("volume")), _int(r.get("difficulty")), r.get("intent") or None)
            for r in rows]


def normalise(keyword: str) -> str:
    # As the API does: keywords are unique per site, case- and whitespace-insensitively.
    return " ".join(keyword.split()).casefold()


def seed(cur: Any, keywords: list[Keyword], credits: int = SAMPLE_CREDITS) -> Sample:
    """Create the account, site, config and keywords on the embedded store (one transaction)."""
    account_id, site_id = str(uuid.uuid4()), str(uuid.uuid4())
    cur.execute("INSERT INTO accounts (id, name, credits) VALUES (?, ?, ?)", (account_id, "Demo Coffee Co.", credits))
    cur.execute("INSERT INTO credit_ledger (entry_key, account_id, kind, amount) VALUES (?, ?, 'topup', ?)",
                (f"{account_id}:opening", account_id, credits))
    cur.execute("INSERT INTO sites (id, account_id, name, domain) VALUES (?, ?, ?, ?)",
                (site_id, account_id, "Demo coffee blog", "coffee.example"))
    cur.execute("INSERT INTO automation_config (site_id, within_stage_delay, between_stage_delay) VALUES (?, ?, ?)",
                (site_id, DEMO_CONFIG["within_stage_delay"], DEMO_CONFIG["between_stage_delay"]))
    # One millisecond apart in the file's order: stage 1 then takes them in that order, so
    # every demo clusters the same way (ids alone would order them at random).
    start = datetime.now(timezone.utc) - timedelta(milliseconds=len(keywords))
    rows = [(str(uuid.uuid4()), site_id, k.keyword, normalise(k.keyword), k.volume, k.difficulty, k.intent,
             _iso_ms(start + timedelta(milliseconds=i))) for i, k in enumerate(keywords)]
    cur.executemany(
        "INSERT INTO keywords (id, site_id, keyword, keyword_norm, volume, difficulty, intent, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_id, keyword_norm) DO NOTHING",
        rows,
    )
    cur.execute("SELECT count(*) AS n FROM keywords WHERE site_id = ?", (site_id,))
    return Sample(account_id, site_id, int(cur.fetchone()["n"]), credits)


def _iso_ms(moment: datetime) -> str:
    # The spelling of the schema's DEFAULT (strftime '%Y-%m-%dT%H:%M:%fZ'), so times sort as text.
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _int(value: str | None) -> int | None:
    return int(value) if value not in (None, "") else None
