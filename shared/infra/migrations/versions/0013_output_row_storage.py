"""Cheaper writes of the stages' output rows: no compression of images, room for updates,
one foreign-key check per row instead of two.

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

Revision ID: 0013_output_row_storage
Revises: 0012_append_events
"""

from shared.infra.migrations import execute_sql

revision = "0013_output_row_storage"
down_revision = "0012_append_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
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
