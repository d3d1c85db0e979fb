"""``python -m services.api``: serve the HTTP API."""


from services.api.entrypoints.app import create_app
from services.api.entrypoints.server import ApiServer
from shared.infra.migrate import exit_unless_current_schema
from shared.infra.settings import get_settings
from shared.observability.process import instrument_process


def main() -> None:
    settings = get_settings()
    instrument_process(settings, "api")
    settings.check_production()
    exit_unless_current_schema(settings.database_url)
    ApiServer(create_app(settings), settings.api_host, settings.api_port).run()


if __name__ == "__main__":
    main()
