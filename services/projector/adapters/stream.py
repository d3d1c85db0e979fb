"""The live stream's side of a projection: positions for the new log lines, and the wake-up.

Both are parts of the writer's statement, inside the projector's transaction. The position
row stays locked until commit, so two transactions for one site take their positions in
commit order; and PostgreSQL delivers the NOTIFY only once the transaction has committed, so
a listener that wakes up finds the rows it was told about.
"""

from __future__ import annotations

from shared.infra.channels import STREAM


def claim_positions(site_id: str, count: str) -> str:
    """SQL reserving ``count`` consecutive positions of the site's stream (both SQL
    expressions); it returns the last of them as ``position``."""
    return (
        f"INSERT INTO site_stream_position (site_id, position) VALUES ({site_id}, {count})"
        " ON CONFLICT (site_id) DO UPDATE SET position = site_stream_position.position + EXCLUDED.position"
        " RETURNING position"
    )


def notify(site_id: str) -> str:
    """SQL waking the site's streams; repeats of one payload in a transaction are folded
    into one notification by PostgreSQL."""
    return f"SELECT pg_notify('{STREAM}', {site_id})"
