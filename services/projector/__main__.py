"""``python -m services.projector``: turns automation.events into the API's read models."""

from __future__ import annotations

import asyncio

from services.projector.entrypoints.consumer import create_app
from shared.infra.migrate import exit_unless_current_schema
from shared.infra.settings import get_settings
from shared.observability.process import instrument_process
from shared.observability.serve import serve_metrics


def main() -> None:
    settings = get_settings()
    instrument_process(settings, "projector")
    exit_unless_current_schema(settings.database_url)
    serve_metrics(settings, "projector")
    asyncio.run(create_app(settings).run())


if __name__ == "__main__":
    main()
