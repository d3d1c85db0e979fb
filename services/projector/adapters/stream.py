"""The live stream's side of a projection: positions for the new log lines, and the wake-up.

Both are parts of the writer's statement, inside the projector's transaction. The position
rows stay locked until commit, so two transactions for one site take their positions in
commit order; and PostgreSQL delivers the NOTIFY only once the transaction has committed, so
a listener that wakes up finds the rows it was told about.
"""

from __future__ import annotations

from shared.infra.channels import STREAM


def claim_positions(counts: str) -> str:
    """SQL reserving, for each row of ``counts`` (columns ``site_id``, ``n``; one row a site),
    ``n`` consecutive positions of the site's stream; it returns each site's last one as
    ``position``. Sites are claimed in order of their id, so two writers that claim several
    sites each cannot deadlock on them."""
    return (
        f"INSERT INTO site_stream_position (site_id, position) SELECT site_id, n FROM {counts} ORDER BY site_id"
        " ON CONFLICT (site_id) DO UPDATE SET position = site_stream_position.position + EXCLUDED.position"
        " RETURNING site_id, position"
    )


def notify(sites: str) -> str:
    """SQL waking the streams of each site in ``sites`` (a column ``site_id``); repeats of one
    payload in a transaction are folded into one notification by PostgreSQL."""
    return f"SELECT pg_notify('{STREAM}', site_id) FROM {sites}"
