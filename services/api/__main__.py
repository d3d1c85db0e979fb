"""``python -m services.api``: serve the HTTP API."""

import logging

import uvicorn

from services.api.entrypoints.app import create_app
from shared.infra.migrate import exit_unless_current_schema
from shared.infra.settings import get_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    settings.check_production()
    exit_unless_current_schema(settings.database_url)
    uvicorn.run(create_app(settings), host=settings.api_host, port=settings.api_port, log_level="info")


if __name__ == "__main__":
    main()
