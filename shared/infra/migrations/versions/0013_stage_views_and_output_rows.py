"""Cheaper reads and writes of the stages' rows: a view of each stage's pending items, no
compression of images, room for updates, one foreign-key check per row instead of two.

- ``pending_stage_1`` ... ``pending_stage_7``: each stage's pending items, the branch of
  ``pending_items`` it was; ``pending_items`` is now their union, with the same rows and
  columns. The pipeline reads a stage's view: planning a read through the union planned every
  branch before dropping the other six (two to four times the planning), and the stage's table was read twice
  (the view's scan, then the join back to it; PostgreSQL 18 removes that self-join when the
  view is the table alone).
- ``images.png`` is stored EXTERNAL: out of line as before, but never compressed. A PNG is
  compressed already; PostgreSQL's pglz tried each one in full before giving up, about 4 % of
  the pipeline's database CPU in a 20-site run.
- ``images``, ``content``, ``ideas`` and ``tasks`` get a fillfactor: each of their rows is
  updated once or twice right after its insert (a status, an image, prompts done), and on
  full pages most of those updates moved the row to another page and added an entry to every
  index of the table. With room left on the page they stay HOT: no index is touched.
- ``ideas``, ``tasks``, ``content`` and ``images`` lose their foreign key to ``sites``; each
  keeps the one to its parent (cluster, idea, task, content), which is checked for every row
  inserted, and ``clusters`` keeps its own to ``sites``. So every output row still hangs from
  a cluster of an existing site; the site's key on each row only repeated that check (an
  index probe and a row lock of the site per row inserted). Nothing deletes sites, and the
  pipeline writes a row's ``site_id`` from its run's site, the site of the parent it read.

The storage settings act on rows written from now on; existing pages and values stay as they are.

Revision ID: 0013_stage_views_and_output_rows
Revises: 0012_append_events
"""

from shared.infra.migrations import execute_sql

revision = "0013_stage_views_and_output_rows"
down_revision = "0012_append_events"
branch_labels = None
depends_on = None


# What each stage still has to do (CONTRACT §4), as 0001 defined it branch by branch.
STAGE_VIEWS = {
    1: "SELECT k.site_id, k.id AS item_id, k.keyword AS title, k.created_at"
       " FROM keywords k WHERE k.cluster_id IS NULL",
    2: "SELECT c.site_id, c.id AS item_id, c.name AS title, c.created_at"
       " FROM clusters c WHERE NOT EXISTS (SELECT 1 FROM ideas i WHERE i.cluster_id = c.id)",
    3: "SELECT i.site_id, i.id AS item_id, i.title, i.created_at FROM ideas i WHERE i.status = 'new'",
    4: "SELECT t.site_id, t.id AS item_id, t.title, t.created_at"
       " FROM tasks t WHERE NOT EXISTS (SELECT 1 FROM content c WHERE c.task_id = t.id)",
    5: "SELECT c.site_id, c.id AS item_id, c.title, c.created_at FROM content c WHERE NOT c.prompts_done",
    6: "SELECT im.site_id, im.id AS item_id, im.prompt AS title, im.created_at"
       " FROM images im WHERE im.status = 'pending'",
    7: "SELECT c.site_id, c.id AS item_id, c.title, c.created_at FROM content c"
       " WHERE c.status = 'draft' AND c.prompts_done"
       " AND NOT EXISTS (SELECT 1 FROM images im WHERE im.content_id = c.id AND im.status = 'pending')",
}
UNION = " UNION ALL ".join(
    f"SELECT {stage}{' AS stage' if stage == 1 else ''}, p.* FROM pending_stage_{stage} p" for stage in STAGE_VIEWS
)
# 0001's union, for the downgrade.
BRANCHES = " UNION ALL ".join(
    f"SELECT {stage}{' AS stage' if stage == 1 else ''}, q.* FROM ({select}) q" for stage, select in STAGE_VIEWS.items()
)


def upgrade() -> None:
    execute_sql("".join(f"CREATE VIEW pending_stage_{stage} AS {select};\n" for stage, select in STAGE_VIEWS.items())
                + f"CREATE OR REPLACE VIEW pending_items AS {UNION};")
    execute_sql("""
        ALTER TABLE images ALTER COLUMN png SET STORAGE EXTERNAL;
        ALTER TABLE images SET (fillfactor = 50);
        ALTER TABLE content SET (fillfactor = 60);
        ALTER TABLE ideas SET (fillfactor = 70);
        ALTER TABLE tasks SET (fillfactor = 70);
        ALTER TABLE ideas DROP CONSTRAINT ideas_site_id_fkey;
        ALTER TABLE tasks DROP CONSTRAINT tasks_site_id_fkey;
        ALTER TABLE content DROP CONSTRAINT content_site_id_fkey;
        ALTER TABLE images DROP CONSTRAINT images_site_id_fkey;
    """)


def downgrade() -> None:
    execute_sql(f"CREATE OR REPLACE VIEW pending_items AS {BRANCHES};"
                + "".join(f"DROP VIEW pending_stage_{stage};" for stage in STAGE_VIEWS))
    execute_sql("""
        ALTER TABLE images ADD CONSTRAINT images_site_id_fkey FOREIGN KEY (site_id) REFERENCES sites(id);
        ALTER TABLE content ADD CONSTRAINT content_site_id_fkey FOREIGN KEY (site_id) REFERENCES sites(id);
        ALTER TABLE tasks ADD CONSTRAINT tasks_site_id_fkey FOREIGN KEY (site_id) REFERENCES sites(id);
        ALTER TABLE ideas ADD CONSTRAINT ideas_site_id_fkey FOREIGN KEY (site_id) REFERENCES sites(id);
        ALTER TABLE tasks RESET (fillfactor);
        ALTER TABLE ideas RESET (fillfactor);
        ALTER TABLE content RESET (fillfactor);
        ALTER TABLE images RESET (fillfactor);
        ALTER TABLE images ALTER COLUMN png SET STORAGE EXTENDED;
    """)
