"""``python -m examples.publisher`` (from the repository's root): run the example publisher."""

from __future__ import annotations

import asyncio
import logging

from .app import create_app
from .settings import PublisherSettings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the rest
    asyncio.run(create_app(PublisherSettings()).run())


if __name__ == "__main__":
    main()
