"""``python -m services.api``: serve the HTTP API."""

import logging

from services.api.entrypoints.app import create_app
from services.api.entrypoints.server import ApiServer
from shared.infra.migrate import exit_unless_current_schema
from shared.infra.settings import get_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    settings.check_production()
    exit_unless_current_schema(settings.database_url)
    ApiServer(create_app(settings), settings.api_host, settings.api_port).run()


if __name__ == "__main__":
    main()
