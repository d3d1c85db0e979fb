"""Tenancy look-ups: what belongs to which account."""

from __future__ import annotations

import asyncpg

from services.api.errors import not_found


async def require_site(pool: asyncpg.Pool, site_id: str, account_id: str) -> None:
    """404 for a site that does not exist and for one of another account alike."""
    if not await pool.fetchval("SELECT 1 FROM sites WHERE id = $1 AND account_id = $2", site_id, account_id):
        raise not_found("site")
