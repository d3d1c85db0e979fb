"""A read-only HTTP API over the embedded demo's SQLite file (``automation demo --serve``).

The real API (services/api) is PostgreSQL-only and also takes commands; while the embedded
demo runs, this serves the reads of CONTRACT §3.2–3.3 for the demo's own account, with the
same paths, answers and error body, behind the token the demo prints. Nothing here writes.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from services.projector.sqlite_writer import read_view

LISTINGS: dict[str, str] = {
    "keywords": "SELECT id, keyword, volume, difficulty, intent, cluster_id, status FROM keywords",
    "clusters": "SELECT id, name, description, (SELECT json_group_array(k.id) FROM keywords k"
                " WHERE k.cluster_id = clusters.id) AS keyword_ids FROM clusters",
    "ideas": "SELECT id, cluster_id, title, description, status FROM ideas",
    "tasks": "SELECT id, idea_id, title, status FROM tasks",
    "content": "SELECT id, task_id, title, body, word_count, status FROM content",
    "images": "SELECT id, content_id, kind, prompt, status, url FROM images",
}


class NotFound(Exception):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} not found")


class Unauthorized(Exception):
    pass


def _db(request: Request) -> Any:
    # Read-only, one connection per request: readers never block the pipeline's writer (WAL).
    conn = sqlite3.connect(f"file:{request.app.state.db_path}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    with closing(conn):
        yield conn.cursor()


def _caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    if authorization != f"Bearer {request.app.state.token}":
        raise Unauthorized()


Cur = Annotated[Any, Depends(_db)]
Site = Annotated[str, Query(min_length=1)]


def create_read_app(db_path: Path, account_id: str, token: str) -> FastAPI:
    app = FastAPI(title="Automation demo (read-only)", version="1.0.0",
                  description="Reads of the embedded demo's run and outputs; see `automation demo --help`.")
    app.state.db_path, app.state.token = db_path, token

    def site(cur: Any, site_id: str) -> str:
        cur.execute("SELECT 1 FROM sites WHERE id = ? AND account_id = ?", (site_id, account_id))
        if cur.fetchone() is None:
            raise NotFound("site")
        return site_id

    def run(cur: Any, run_id: str) -> dict[str, Any]:
        view, _ = read_view(cur, run_id)
        if view is None or view.pop("account_id") != account_id:
            raise NotFound("run")
        view.pop("processing")
        return view

    def run_ids(cur: Any, site_id: str, where: str = "", limit: int = -1, offset: int = 0) -> list[str]:
        cur.execute(f"SELECT run_id FROM run_view WHERE site_id = ? {where} ORDER BY started_at DESC, run_id"
                    " LIMIT ? OFFSET ?", (site_id, limit, offset))
        return [r["run_id"] for r in cur.fetchall()]

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    def readyz(cur: Cur) -> dict[str, Any]:
        cur.execute("SELECT 1")
        return {"status": "ready", "checks": {"sqlite": True}}

    api = "/api/v1/automation"

    @app.get(f"{api}/current_run", dependencies=[Depends(_caller)])
    def current_run(site_id: Site, cur: Cur) -> dict[str, Any]:
        active = run_ids(cur, site(cur, site_id), "AND status IN ('running', 'paused')", 1)
        return {"run": run(cur, active[0]) if active else None}

    @app.get(f"{api}/history", dependencies=[Depends(_caller)])
    def history(site_id: Site, cur: Cur, limit: Annotated[int, Query(ge=1, le=200)] = 20,
                offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        site(cur, site_id)
        cur.execute("SELECT count(*) AS n FROM run_view WHERE site_id = ?", (site_id,))
        total = int(cur.fetchone()["n"])
        return {"runs": [run(cur, r) for r in run_ids(cur, site_id, "", limit, offset)], "total": total}

    @app.get(f"{api}/runs/{{run_id}}", dependencies=[Depends(_caller)])
    def get_run(run_id: str, cur: Cur) -> dict[str, Any]:
        return run(cur, run_id)

    @app.get(f"{api}/runs/{{run_id}}/events", dependencies=[Depends(_caller)])
    def run_events(run_id: str, cur: Cur) -> dict[str, Any]:
        run(cur, run_id)
        cur.execute("SELECT sequence, type, occurred_at, json(data) AS data, hash, prev_hash FROM run_events"
                    " WHERE run_id = ? ORDER BY sequence", (run_id,))
        return {"events": [_decoded(r, "data") for r in cur.fetchall()]}

    @app.get(f"{api}/logs", dependencies=[Depends(_caller)])
    def logs(run_id: Annotated[str, Query(min_length=1)], cur: Cur,
             lines: Annotated[int, Query(ge=1, le=10_000)] = 100) -> dict[str, Any]:
        run(cur, run_id)
        cur.execute("SELECT line FROM (SELECT line, sequence, line_no FROM run_log_lines WHERE run_id = ?"
                    " ORDER BY sequence DESC, line_no DESC LIMIT ?) ORDER BY sequence, line_no", (run_id, lines))
        return {"run_id": run_id, "lines": [r["line"] for r in cur.fetchall()]}

    @app.get(f"{api}/current_processing", dependencies=[Depends(_caller)])
    def current_processing(site_id: Site, cur: Cur) -> dict[str, Any]:
        running = run_ids(cur, site(cur, site_id), "AND status = 'running'", 1)
        return {"processing": read_view(cur, running[0])[0]["processing"] if running else None}

    @app.get("/api/v1/sites/{site_id}/images/{image_id}/file", dependencies=[Depends(_caller)])
    def image_file(site_id: str, image_id: str, cur: Cur) -> Response:
        cur.execute("SELECT png FROM images WHERE id = ? AND site_id = ? AND png IS NOT NULL", (image_id, site(cur, site_id)))
        row = cur.fetchone()
        if row is None:
            raise NotFound("image")
        return Response(row["png"], media_type="image/png")

    @app.get("/api/v1/sites/{site_id}/{kind}", dependencies=[Depends(_caller)])
    def listing(site_id: str, kind: str, cur: Cur, limit: Annotated[int, Query(ge=1, le=500)] = 50,
                offset: Annotated[int, Query(ge=0)] = 0) -> dict[str, Any]:
        if kind not in LISTINGS:
            raise NotFound(kind)
        cur.execute(f"{LISTINGS[kind]} WHERE site_id = ? ORDER BY created_at, id LIMIT ? OFFSET ?",
                    (site(cur, site_id), limit, offset))
        items = [_decoded(r, "keyword_ids") for r in cur.fetchall()]
        cur.execute(f"SELECT count(*) AS n FROM {kind} WHERE site_id = ?", (site_id,))
        return {"items": items, "total": int(cur.fetchone()["n"])}

    _install_errors(app)
    return app


def _decoded(row: Any, column: str) -> dict[str, Any]:
    item = dict(row)
    if column in item:
        item[column] = json.loads(item[column])
    return item


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message, "details": {}}})


def _install_errors(app: FastAPI) -> None:
    async def not_found(_: Request, error: Exception) -> JSONResponse:
        return _error(404, "not_found", str(error))

    async def unauthorized(_: Request, error: Exception) -> JSONResponse:
        return _error(401, "unauthorized", "a valid bearer token is required (the demo prints it)")

    async def invalid(_: Request, error: Exception) -> JSONResponse:
        return _error(400, "invalid_request", str(error))

    app.add_exception_handler(NotFound, not_found)
    app.add_exception_handler(Unauthorized, unauthorized)
    app.add_exception_handler(RequestValidationError, invalid)
