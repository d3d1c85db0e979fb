"""``python -m services.api``: serve the HTTP API."""

import logging

from services.api.app import create_app
from services.api.server import ApiServer
from shared.infra.settings import get_settings


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = get_settings()
    settings.check_production()
    ApiServer(create_app(settings), settings.api_host, settings.api_port).run()


if __name__ == "__main__":
    main()
