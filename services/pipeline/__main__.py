"""``python -m services.pipeline``: the pipeline service process."""

import asyncio
import logging

from services.pipeline.entrypoints.consumer import create_app
from shared.infra.migrate import exit_unless_current_schema
from shared.infra.settings import get_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    settings.check_production()
    exit_unless_current_schema(settings.database_url)
    asyncio.run(create_app(settings).run())


if __name__ == "__main__":
    main()
