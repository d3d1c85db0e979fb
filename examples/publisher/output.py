"""The output folder, standing in for a CMS, and its ledger of what was published.

``published.jsonl`` holds one line per publication, keyed by ``event_id``: the line is
the commit point. An article is first written to a staging folder and then renamed into
``articles/<content_id>/`` in one step, so a reader never sees half of one. A crash
between that rename and the ledger line leaves an article with no line: the event comes
again (its offset was not committed), and the article is rewritten in place, not added.

One publisher process per output folder: the ledger is read once, at start.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path


class OutputFolder:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.ledger = root / "published.jsonl"
        root.mkdir(parents=True, exist_ok=True)
        self._published = {entry["event_id"] for entry in self.entries()}

    def has(self, event_id: str) -> bool:
        return event_id in self._published

    def entries(self) -> list[dict]:
        if not self.ledger.exists():
            return []
        self._drop_torn_line()
        return [json.loads(line) for line in self.ledger.read_text("utf-8").splitlines()]

    def publish(self, event_id: str, content_id: str, files: dict[str, bytes]) -> Path:
        """Write ``files`` (relative paths) as the article ``content_id``, then record ``event_id``."""
        staging = self.root / ".staging" / event_id
        shutil.rmtree(staging, ignore_errors=True)
        for name, data in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            (staging / name).write_bytes(data)
        target = self.root / "articles" / content_id
        target.parent.mkdir(exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)  # left by a crash before its ledger line
        os.rename(staging, target)
        self._record({"event_id": event_id, "content_id": content_id, "path": str(target.relative_to(self.root)),
                      "published_at": datetime.now(timezone.utc).isoformat()})
        return target

    def _record(self, entry: dict) -> None:
        with self.ledger.open("a", encoding="utf-8") as ledger:
            ledger.write(json.dumps(entry) + "\n")
            ledger.flush()
            os.fsync(ledger.fileno())
        self._published.add(entry["event_id"])

    def _drop_torn_line(self) -> None:
        # A kill in the middle of a write leaves a line without its newline: it never counted.
        data = self.ledger.read_bytes()
        if data and not data.endswith(b"\n"):
            with self.ledger.open("r+b") as ledger:
                ledger.truncate(data.rfind(b"\n") + 1)
